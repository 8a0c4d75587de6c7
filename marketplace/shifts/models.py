"""Open shift slots that brands (or the planner) publish, and the experts' bookings of them."""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
import sqlalchemy.orm as so

from marketplace.database import db, enum_column, utcnow


class SlotSource(enum.StrEnum):
    BRAND = "brand"
    PLANNER = "planner"


class BookingStatus(enum.StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"


class Attendance(enum.StrEnum):
    PENDING = "pending"
    ATTENDED = "attended"
    NO_SHOW = "no_show"


class ShiftSlot(db.Model):
    """Headcount seats for one brand over one stretch of time.

    `booked_count` is moved only by compare-and-set updates, and the database refuses it above
    `headcount`, so the last seat is given once however many experts press at the same moment.
    """

    __tablename__ = "shift_slots"
    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.CheckConstraint("headcount >= 1", name="headcount_positive"),
        sa.CheckConstraint("booked_count >= 0 AND booked_count <= headcount", name="booked_within_headcount"),
        sa.CheckConstraint("bonus_cents >= 0", name="bonus_not_negative"),
        sa.Index("ix_shift_slots_brand_starts", "brand_id", "starts_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    brand_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("brands.id", ondelete="CASCADE"))
    starts_at: so.Mapped[dt.datetime]
    ends_at: so.Mapped[dt.datetime]
    headcount: so.Mapped[int]
    booked_count: so.Mapped[int] = so.mapped_column(default=0)
    bonus_cents: so.Mapped[int] = so.mapped_column(default=0)
    source: so.Mapped[SlotSource] = so.mapped_column(enum_column(SlotSource, "slot_source"), default=SlotSource.BRAND)
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    cancelled_at: so.Mapped[dt.datetime | None]


class ShiftBooking(db.Model):
    """An expert's seat in a slot; cancelling keeps the row, booking again reuses it."""

    __tablename__ = "shift_bookings"
    __table_args__ = (
        sa.UniqueConstraint("slot_id", "expert_id", name="uq_shift_bookings_slot_expert"),
        sa.Index("ix_shift_bookings_expert_status", "expert_id", "status"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    slot_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("shift_slots.id", ondelete="CASCADE"))
    expert_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("expert_profiles.id", ondelete="CASCADE"))
    status: so.Mapped[BookingStatus] = so.mapped_column(
        enum_column(BookingStatus, "booking_status"), default=BookingStatus.BOOKED
    )
    attendance: so.Mapped[Attendance] = so.mapped_column(
        enum_column(Attendance, "attendance"), default=Attendance.PENDING
    )
    booked_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    cancelled_at: so.Mapped[dt.datetime | None]
    reminded_at: so.Mapped[dt.datetime | None]
    attended_at: so.Mapped[dt.datetime | None]
