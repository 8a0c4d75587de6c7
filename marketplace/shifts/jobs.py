"""Scheduled work of the shifts domain: reminders before a shift, attendance from presence during it."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext

from marketplace.accounts import services as accounts
from marketplace.accounts.language import in_language_of
from marketplace.brands import services as brands
from marketplace.brands.models import Brand
from marketplace.core import clock
from marketplace.database import db, use_case, utcnow
from marketplace.experts import presence
from marketplace.experts import services as experts
from marketplace.experts.models import ExpertStatus
from marketplace.notifications import services as notifications
from marketplace.scheduler import Job
from marketplace.shared.links import path_for
from marketplace.shifts.display import describe_times
from marketplace.shifts.models import Attendance, BookingStatus, ShiftBooking, ShiftSlot


def _remind(user_id: int, brand: Brand, slot: ShiftSlot) -> None:
    with in_language_of(accounts.get_user(user_id)):
        title = gettext("Your %(brand)s shift starts soon", brand=brand.name)
        body = gettext("%(when)s. Go online in time: being online during your shift counts as attended.",
                       when=describe_times(slot.starts_at, slot.ends_at, brand.timezone))
    week = clock.local_day(slot.starts_at, brand.timezone)  # the week shown starts on the shift's day
    notifications.notify(user_id, "shift_reminder", title, body, url=path_for("shifts.week", week=week.isoformat()),
                         data={"slot_id": slot.id, "brand_id": brand.id})


@use_case
def send_reminders(now: dt.datetime | None = None) -> int:
    """Remind each booked expert once, SHIFT_REMINDER_MINUTES before the start; return how many were sent.

    Two runs at once (a slow run overlapping the next) send nothing twice: a reminder goes only with the
    compare-and-set that fills `reminded_at`.
    """
    now = now or utcnow()
    horizon = now + dt.timedelta(minutes=current_app.config["SHIFT_REMINDER_MINUTES"])
    due = db.session.execute(
        sa.select(ShiftBooking.id, ShiftBooking.expert_id, ShiftSlot)
        .join(ShiftSlot, ShiftBooking.slot_id == ShiftSlot.id)
        .where(ShiftBooking.status == BookingStatus.BOOKED, ShiftBooking.reminded_at.is_(None),
               ShiftSlot.cancelled_at.is_(None), ShiftSlot.starts_at > now, ShiftSlot.starts_at <= horizon)
        .order_by(ShiftBooking.id)
    ).all()
    profiles = experts.profiles_by_id({row.expert_id for row in due})
    found = brands.brands_by_id({row.ShiftSlot.brand_id for row in due})
    sent = 0
    for booking_id, expert_id, slot in due:
        profile = profiles[expert_id]
        if profile.status != ExpertStatus.APPROVED:  # a suspended expert cannot go online: no nudge
            continue
        claimed = db.session.execute(
            sa.update(ShiftBooking)
            .where(ShiftBooking.id == booking_id, ShiftBooking.reminded_at.is_(None),
                   ShiftBooking.status == BookingStatus.BOOKED)
            .values(reminded_at=now).execution_options(synchronize_session=False)
        ).rowcount
        if claimed == 1:
            _remind(profile.user_id, found[slot.brand_id], slot)
            sent += 1
    return sent


def _attended_from(intervals: list[tuple[dt.datetime, dt.datetime | None]], slot_start: dt.datetime
                   ) -> dt.datetime | None:
    """When the expert was first online during the slot, from the intervals overlapping it."""
    return max(intervals[0][0], slot_start) if intervals else None


def _settle(booking_id: int, attendance: Attendance, attended_at: dt.datetime | None) -> int:
    return db.session.execute(
        sa.update(ShiftBooking)
        .where(ShiftBooking.id == booking_id, ShiftBooking.attendance == Attendance.PENDING,
               ShiftBooking.status == BookingStatus.BOOKED)
        .values(attendance=attendance, attended_at=attended_at).execution_options(synchronize_session=False)
    ).rowcount


@use_case
def record_attendance(now: dt.datetime | None = None) -> dict[str, int]:
    """Mark bookings of started slots attended as soon as the expert was online during the slot,
    and no-show once the slot ended without it."""
    now = now or utcnow()
    rows = db.session.execute(
        sa.select(ShiftBooking.id, ShiftBooking.expert_id, ShiftSlot.id.label("slot_id"), ShiftSlot.starts_at,
                  ShiftSlot.ends_at)
        .join(ShiftSlot, ShiftBooking.slot_id == ShiftSlot.id)
        .where(ShiftBooking.status == BookingStatus.BOOKED, ShiftBooking.attendance == Attendance.PENDING,
               ShiftSlot.cancelled_at.is_(None), ShiftSlot.starts_at < now)
        .order_by(ShiftBooking.id)
    ).all()
    by_slot: dict[int, list] = defaultdict(list)
    for row in rows:
        by_slot[row.slot_id].append(row)
    counts = {"attended": 0, "no_show": 0}
    for bookings in by_slot.values():
        starts_at, ends_at = bookings[0].starts_at, bookings[0].ends_at
        online = presence.online_intervals({b.expert_id for b in bookings}, starts_at, min(now, ends_at))
        for booking in bookings:
            attended_at = _attended_from(online.get(booking.expert_id, []), starts_at)
            if attended_at is not None:
                counts["attended"] += _settle(booking.id, Attendance.ATTENDED, attended_at)
            elif now >= ends_at:
                counts["no_show"] += _settle(booking.id, Attendance.NO_SHOW, None)
    return counts


SEND_REMINDERS = Job("shift-reminders", send_reminders, "interval", {"seconds": 60})
RECORD_ATTENDANCE = Job("shift-attendance", record_attendance, "interval", {"seconds": 60})
