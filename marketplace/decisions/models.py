"""Automated decisions about an expert's work or pay, each with its reason, and the human reviews asked of them."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from marketplace.database import db, enum_column, utcnow


class ReviewStatus(enum.StrEnum):
    OPEN = "open"
    ANSWERED = "answered"


class ExpertDecision(db.Model):
    """One automated decision about one expert: what was decided, why (a reason code with the figures in force
    when it was taken) and about what (an offer, an invitation, an earning, a conversation)."""

    __tablename__ = "expert_decisions"
    __table_args__ = (
        sa.Index("ix_expert_decisions_expert_created", "expert_id", "created_at"),
        # One "not offered" decision per expert, brand and hour (routing/router/passed_over.py).
        sa.Index("uq_expert_decisions_not_offered_hour", "expert_id", "brand_id", "subject_id", unique=True,
                 sqlite_where=sa.text("reason_code = 'not_offered'"),
                 postgresql_where=sa.text("reason_code = 'not_offered'")),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    expert_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("expert_profiles.id", ondelete="CASCADE"))
    brand_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("brands.id", ondelete="SET NULL"))
    kind: so.Mapped[str] = so.mapped_column(sa.String(40))
    reason_code: so.Mapped[str] = so.mapped_column(sa.String(40))
    params: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    # offer, invitation, earning, conversation, or hour (routing/router/passed_over.py)
    subject_type: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    subject_id: so.Mapped[int | None]
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)


class DecisionReview(db.Model):
    """An expert's request that a person look again at one decision, and the person's written answer."""

    __tablename__ = "decision_reviews"
    __table_args__ = (sa.Index("ix_decision_reviews_status_due", "status", "due_at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    decision_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("expert_decisions.id", ondelete="CASCADE"), unique=True)
    expert_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("expert_profiles.id", ondelete="CASCADE"), index=True)
    team: so.Mapped[str] = so.mapped_column(sa.String(10))  # the role that answers: ops (work) or finance (pay)
    comment: so.Mapped[str] = so.mapped_column(sa.String(2000), default="")
    status: so.Mapped[ReviewStatus] = so.mapped_column(enum_column(ReviewStatus, "decision_review_status"))
    requested_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    due_at: so.Mapped[dt.datetime]
    answer: so.Mapped[str | None] = so.mapped_column(sa.String(4000))
    answered_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    answered_at: so.Mapped[dt.datetime | None]
