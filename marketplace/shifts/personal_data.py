"""Shifts' part of an expert's own data: their bookings in the export; on closure, the future ones cancelled."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from marketplace.database import db
from marketplace.experts.own_data import Holder
from marketplace.shifts import bookings
from marketplace.shifts.models import ShiftBooking, ShiftSlot


def shifts(holder: Holder) -> list[dict[str, Any]]:
    rows = db.session.execute(
        sa.select(ShiftBooking, ShiftSlot).join(ShiftSlot, ShiftSlot.id == ShiftBooking.slot_id)
        .where(ShiftBooking.expert_id == holder.profile.id).order_by(ShiftSlot.starts_at, ShiftBooking.id)).all()
    return [{"id": booking.id, "slot_id": slot.id, "brand_id": slot.brand_id, "starts_at": slot.starts_at,
             "ends_at": slot.ends_at, "bonus_cents": slot.bonus_cents, "status": booking.status.value,
             "attendance": booking.attendance.value, "booked_at": booking.booked_at,
             "cancelled_at": booking.cancelled_at, "attended_at": booking.attended_at,
             "slot_cancelled_at": slot.cancelled_at} for booking, slot in rows]


def cancel_future_shifts(holder: Holder, now: dt.datetime) -> None:
    bookings.cancel_future_bookings(holder.profile.id, now)
