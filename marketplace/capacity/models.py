"""The planner's records: each brand's forecast, the invitations it sends, and every scaling decision."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from marketplace.database import db, enum_column, utcnow


class InvitationStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    CANCELLED = "cancelled"  # the need passed before the expert answered


class BrandForecast(db.Model):
    """The brand's latest forecast: expected arrivals per local quarter hour for the days ahead."""

    __tablename__ = "brand_forecasts"

    brand_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("brands.id", ondelete="CASCADE"), primary_key=True)
    computed_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    first_day: so.Mapped[dt.date]
    method: so.Mapped[str] = so.mapped_column(sa.String(40))
    days: so.Mapped[list[list[float]]] = so.mapped_column(sa.JSON)  # one list of 96 quarter hours a day
    wape: so.Mapped[float | None]
    bias: so.Mapped[float | None]
    history_days: so.Mapped[int] = so.mapped_column(default=0)
    reason: so.Mapped[str] = so.mapped_column(sa.String(300), default="")  # in English, for logs: pages and
    # the API put it in the reader's words from method, history_days and backtest (capacity.reasons)
    backtest: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    handle_s: so.Mapped[float]  # the mean handle time the plan was computed with, measured from history


class Invitation(db.Model):
    """An off-shift expert asked to come online for a brand for a while; accepting gives them a seat."""

    __tablename__ = "capacity_invitations"
    __table_args__ = (
        sa.Index("uq_capacity_invitations_one_pending", "brand_id", "expert_id", unique=True,
                 sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'")),
        sa.Index("ix_capacity_invitations_status_expires", "status", "expires_at"),
        sa.Index("ix_capacity_invitations_expert_created", "expert_id", "created_at"),
        sa.CheckConstraint("window_minutes BETWEEN 15 AND 480", name="window_minutes"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    brand_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("brands.id", ondelete="CASCADE"), index=True)
    expert_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("expert_profiles.id", ondelete="CASCADE"))
    status: so.Mapped[InvitationStatus] = so.mapped_column(
        enum_column(InvitationStatus, "invitation_status"), default=InvitationStatus.PENDING
    )
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    expires_at: so.Mapped[dt.datetime]
    window_minutes: so.Mapped[int]  # how long the expert is asked to stay online once they accept
    answered_at: so.Mapped[dt.datetime | None]
    slot_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("shift_slots.id", ondelete="SET NULL"))
    released_at: so.Mapped[dt.datetime | None]  # the planner let them go before the window ended


class ScalingDecision(db.Model):
    """One run of the scaling loop for one brand, with its reason as a code and figures (capacity.reasons puts
    them in the reader's words)."""

    __tablename__ = "scaling_decisions"
    __table_args__ = (sa.Index("ix_scaling_decisions_brand_decided", "brand_id", "decided_at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    brand_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("brands.id", ondelete="CASCADE"))
    decided_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    desired: so.Mapped[int]
    online: so.Mapped[int]
    pending: so.Mapped[int]
    acceptance: so.Mapped[float]
    invited: so.Mapped[int] = so.mapped_column(default=0)
    released: so.Mapped[int] = so.mapped_column(default=0)
    reason: so.Mapped[str] = so.mapped_column(sa.String(300), default="")  # decisions before reason codes: in words
    reason_code: so.Mapped[str | None] = so.mapped_column(sa.String(40))  # None: a decision from before the codes
    reason_params: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict, server_default=sa.text("'{}'"))
