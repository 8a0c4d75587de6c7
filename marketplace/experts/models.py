"""Expert profiles and their enrolments with brands."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from marketplace.database import db, enum_column, utcnow
from marketplace.skills.models import Skill


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


class PresenceStatus(enum.StrEnum):
    OFFLINE = "offline"
    AVAILABLE = "available"
    AWAY = "away"


class AwayReason(enum.StrEnum):
    MISSED_OFFERS = "missed_offers"
    HEARTBEAT_LOST = "heartbeat_lost"
    PAUSED = "paused"  # the expert paused new chats themselves (the status bar's switch)


expert_skills = sa.Table(
    "expert_skills",
    db.metadata,
    sa.Column("expert_id", sa.ForeignKey("expert_profiles.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("skill_id", sa.ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True),
)


class ExpertProfile(db.Model):
    __tablename__ = "expert_profiles"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    display_name: so.Mapped[str] = so.mapped_column(sa.String(60))
    bio: so.Mapped[str] = so.mapped_column(sa.String(500), default="")
    languages: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list, server_default=sa.text("'[]'"))
    phone: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    country: so.Mapped[str | None] = so.mapped_column(sa.String(2))
    business_id: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    motivation: so.Mapped[str] = so.mapped_column(sa.String(1000), default="", server_default="")
    status: so.Mapped[ExpertStatus] = so.mapped_column(
        enum_column(ExpertStatus, "expert_status"), default=ExpertStatus.APPLIED, index=True
    )
    status_reason: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    # The profile fields ops' last decision names (a rejection's "fix these"); kept while a resubmission waits.
    status_fields: so.Mapped[list[str] | None] = so.mapped_column(sa.JSON)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    status_changed_at: so.Mapped[dt.datetime | None]
    status_changed_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    # Set when the expert closed their account: their personal data is erased or pseudonymised since, what money
    # law keeps (earnings, ledger, statements, payout details until paid and reported) stays (experts/own_data/).
    closed_at: so.Mapped[dt.datetime | None]

    enrolments: so.WriteOnlyMapped[Enrolment] = so.relationship(back_populates="expert")
    skills: so.Mapped[list[Skill]] = so.relationship(secondary=expert_skills, order_by="Skill.slug")

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    @property
    def under_review(self) -> bool:
        """Ops have not decided yet: the expert may already apply to brands, whose approval waits for vetting."""
        return self.status == ExpertStatus.APPLIED

    @property
    def may_apply(self) -> bool:
        """Approved or under review: rejected and suspended experts apply to no brand."""
        return self.status in (ExpertStatus.APPROVED, ExpertStatus.APPLIED)

    @property
    def is_resubmission(self) -> bool:
        """Back in the vetting queue after a rejection: only a resubmission leads to `applied` again."""
        return self.status == ExpertStatus.APPLIED and self.status_changed_at is not None


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
    status_reason: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    decided_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    expert: so.Mapped[ExpertProfile] = so.relationship(back_populates="enrolments")

    @property
    def waiting_for_vetting(self) -> bool:
        """Ready for the brand's decision, which waits until ops approve the expert."""
        return self.status == EnrolmentStatus.QUIZ_PASSED and self.expert.status != ExpertStatus.APPROVED


class QuizAttempt(db.Model):
    """One try at a brand's quiz, with the order its questions were shown in; scored when submitted."""

    __tablename__ = "quiz_attempts"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    enrolment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("enrolments.id", ondelete="CASCADE"), index=True)
    quiz_version: so.Mapped[int]
    question_order: so.Mapped[list[int]] = so.mapped_column(sa.JSON)
    choice_order: so.Mapped[dict[str, list[int]]] = so.mapped_column(sa.JSON)
    started_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    submitted_at: so.Mapped[dt.datetime | None]
    answers: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)
    score_percent: so.Mapped[int | None]
    passed: so.Mapped[bool | None]


class PayoutDetails(db.Model):
    """Where an expert is paid. The IBAN is sealed at rest; only its last characters are kept readable."""

    __tablename__ = "expert_payout_details"

    expert_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("expert_profiles.id", ondelete="CASCADE"), primary_key=True
    )
    account_holder: so.Mapped[str] = so.mapped_column(sa.String(120))
    iban_sealed: so.Mapped[str] = so.mapped_column(sa.Text)
    iban_country: so.Mapped[str] = so.mapped_column(sa.String(2))
    iban_last4: so.Mapped[str] = so.mapped_column(sa.String(4))
    bic: so.Mapped[str | None] = so.mapped_column(sa.String(11))
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow, onupdate=utcnow)


class ExpertPresence(db.Model):
    """Where an expert stands right now; load (open chats) is routing's business, not this."""

    __tablename__ = "expert_presence"

    expert_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("expert_profiles.id", ondelete="CASCADE"), primary_key=True
    )
    status: so.Mapped[PresenceStatus] = so.mapped_column(
        enum_column(PresenceStatus, "presence_status"), default=PresenceStatus.OFFLINE, index=True
    )
    away_reason: so.Mapped[AwayReason | None] = so.mapped_column(enum_column(AwayReason, "away_reason"))
    changed_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    last_heartbeat_at: so.Mapped[dt.datetime | None]
    missed_offers_in_row: so.Mapped[int] = so.mapped_column(default=0)


class PresenceSession(db.Model):
    """A stretch of time an expert was online (available or away): attendance and expert-hours come from these."""

    __tablename__ = "presence_sessions"
    __table_args__ = (sa.Index("ix_presence_sessions_expert_started", "expert_id", "started_at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    expert_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("expert_profiles.id", ondelete="CASCADE"))
    started_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    ended_at: so.Mapped[dt.datetime | None]
