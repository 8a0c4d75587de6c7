"""Expert profiles and their enrolments with brands."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
import sqlalchemy.orm as so

from marketplace.accounts.models import enum_column
from marketplace.database import db, utcnow


class ExpertStatus(enum.StrEnum):
    APPLIED = "applied"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


class EnrolmentStatus(enum.StrEnum):
    APPLIED = "applied"
    QUIZ_PASSED = "quiz_passed"
    APPROVED = "approved"
    REJECTED = "rejected"


class ExpertProfile(db.Model):
    __tablename__ = "expert_profiles"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    display_name: so.Mapped[str] = so.mapped_column(sa.String(60))
    bio: so.Mapped[str] = so.mapped_column(sa.String(500), default="")
    status: so.Mapped[ExpertStatus] = so.mapped_column(
        enum_column(ExpertStatus, "expert_status"), default=ExpertStatus.APPLIED, index=True
    )
    status_reason: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    status_changed_at: so.Mapped[dt.datetime | None]

    enrolments: so.WriteOnlyMapped[Enrolment] = so.relationship(back_populates="expert")


class Enrolment(db.Model):
    """An expert's standing with one brand: the brand decides who may answer for it."""

    __tablename__ = "enrolments"
    __table_args__ = (sa.UniqueConstraint("expert_id", "brand_id", name="uq_enrolments_expert_brand"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    expert_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("expert_profiles.id", ondelete="CASCADE"))
    brand_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    status: so.Mapped[EnrolmentStatus] = so.mapped_column(
        enum_column(EnrolmentStatus, "enrolment_status"), default=EnrolmentStatus.APPLIED
    )
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    status_changed_at: so.Mapped[dt.datetime | None]

    expert: so.Mapped[ExpertProfile] = so.relationship(back_populates="enrolments")
