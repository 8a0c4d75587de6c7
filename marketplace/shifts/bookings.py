"""The expert's side of shifts: the week's open slots, booking and cancelling a seat, their own bookings.

The last seat of a slot and an expert's own calendar are both guarded against concurrent requests:
`booked_count` moves only by compare-and-set updates, and an expert's bookings are checked for overlaps
while the expert's row is locked, so one expert's simultaneous requests take turns. One transaction each.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from marketplace.brands import services as brands
from marketplace.brands.models import Brand
from marketplace.core import clock
from marketplace.database import db, use_case, utcnow
from marketplace.errors import Conflict, NotFound
from marketplace.experts import enrolments
from marketplace.experts import services as experts
from marketplace.shifts.models import Attendance, BookingStatus, ShiftBooking, ShiftSlot
from marketplace.shifts.seats import booked_slots, held_seats, overlap_refusal
from marketplace.shifts.slots import MAX_SHIFT_HOURS, NO_SUCH_SHIFT, require_window

WEEK_DAYS = 7  # an expert's week: seven days from the one asked for (today by default), whatever its weekday
# The days a week may start on: far enough from the calendar's ends for a week's arithmetic never to overflow.
FIRST_WEEK_START, LAST_WEEK_START = dt.date(2000, 1, 1), dt.date(9999, 1, 1)

SLOT_CANCELLED = _l("The brand cancelled this shift.")
SLOT_FULL = _l("All seats are taken.")


@dataclass(frozen=True)
class ExpertSlot:
    """A slot as an expert sees it in the week view: what they may do with it, or why they may not."""

    slot: ShiftSlot
    brand: Brand
    day: dt.date  # in the brand's time zone
    seats_left: int
    booked: bool
    can_book: bool
    can_cancel: bool
    reason: str | None


@dataclass(frozen=True)
class ExpertWeek:
    week_start: dt.date
    slots: list[ExpertSlot]


@dataclass(frozen=True)
class ExpertBooking:
    booking: ShiftBooking
    slot: ShiftSlot
    brand: Brand


def _cutoff() -> dt.timedelta:
    return dt.timedelta(minutes=current_app.config["SHIFT_BOOKING_CUTOFF_MINUTES"])


def open_slots_for_expert(actor, week_start: dt.date) -> ExpertWeek:
    """Seven days of slots from `week_start` (each brand's own days) of the brands that approved the caller."""
    profile = experts.own_profile(actor)
    experts.require_approved(profile)
    # Brand days start at their own midnight: read a day either side, then keep the brand-local week.
    window_start = dt.datetime.combine(week_start - dt.timedelta(days=1), dt.time(), dt.UTC)
    window_end = window_start + dt.timedelta(days=WEEK_DAYS + 2)
    brand_ids = enrolments.approved_brand_ids(profile.id)
    slots = list(db.session.scalars(
        sa.select(ShiftSlot).where(ShiftSlot.brand_id.in_(brand_ids), ShiftSlot.cancelled_at.is_(None),
                                   ShiftSlot.starts_at >= window_start, ShiftSlot.starts_at < window_end)
        .order_by(ShiftSlot.starts_at, ShiftSlot.id)
    )) if brand_ids else []
    own = booked_slots(profile.id, window_start, window_end + dt.timedelta(hours=MAX_SHIFT_HOURS))
    found = brands.brands_by_id({slot.brand_id for slot in [*slots, *own]})
    own_ids = {slot.id for slot in own}
    now, cutoff = utcnow(), _cutoff()
    week = []
    for slot in slots:
        brand = found[slot.brand_id]
        day = clock.local_day(slot.starts_at, brand.timezone)
        if not week_start <= day < week_start + dt.timedelta(days=WEEK_DAYS):
            continue
        booked = slot.id in own_ids
        open_ = now + cutoff <= slot.starts_at
        seats_left = slot.headcount - slot.booked_count
        reason = None
        if booked and not open_:
            reason = _l("Too late to cancel.")
        elif not booked:
            clash = next((o for o in own if o.starts_at < slot.ends_at and o.ends_at > slot.starts_at), None)
            if not open_:
                reason = _l("Booking is closed.")
            elif seats_left <= 0:
                reason = SLOT_FULL
            elif clash is not None:
                reason = overlap_refusal(clash, found[clash.brand_id])
        week.append(ExpertSlot(slot, brand, day, max(seats_left, 0), booked, not booked and reason is None,
                               booked and reason is None, reason))
    return ExpertWeek(week_start, week)


@use_case
def book_slot(actor, slot_id: int) -> ShiftBooking:
    """Take a seat in a slot: approved experts, for brands that approved them, before the cut-off, never twice,
    never over another of their bookings, never above the headcount."""
    profile = experts.own_profile(actor)
    experts.require_approved(profile)
    expert_id = profile.id
    slot = db.session.get(ShiftSlot, slot_id)
    if slot is None or not enrolments.is_approved_for(expert_id, slot.brand_id):
        raise NotFound(NO_SUCH_SHIFT)  # a brand's slots do not exist for experts it has not approved
    experts.lock_expert(expert_id)  # this expert's concurrent bookings take turns from here
    db.session.refresh(slot)
    if slot.cancelled_at is not None:
        raise Conflict(SLOT_CANCELLED)
    booking = db.session.scalar(
        sa.select(ShiftBooking).where(ShiftBooking.slot_id == slot_id, ShiftBooking.expert_id == expert_id)
        .execution_options(populate_existing=True)
    )
    if booking is not None and booking.status == BookingStatus.BOOKED:
        raise Conflict(_l("You have already booked this shift."))
    now = utcnow()
    if now + _cutoff() > slot.starts_at:
        raise Conflict(_l("Booking closes %(minutes)d minutes before the start.",
                          minutes=current_app.config["SHIFT_BOOKING_CUTOFF_MINUTES"]))
    if slot.booked_count >= slot.headcount:
        raise Conflict(SLOT_FULL)
    clash = next(iter(booked_slots(expert_id, slot.starts_at, slot.ends_at)), None)
    if clash is not None:
        other = brands.brands_by_id({clash.brand_id})[clash.brand_id]
        raise Conflict(overlap_refusal(clash, other))
    # The last seat goes to exactly one of the experts pressing at once: the others update no row.
    taken = db.session.execute(
        sa.update(ShiftSlot)
        .where(ShiftSlot.id == slot_id, ShiftSlot.booked_count < ShiftSlot.headcount, ShiftSlot.cancelled_at.is_(None))
        .values(booked_count=ShiftSlot.booked_count + 1).execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        db.session.refresh(slot)
        raise Conflict(SLOT_CANCELLED if slot.cancelled_at is not None else SLOT_FULL)
    if booking is None:
        booking = ShiftBooking(slot_id=slot_id, expert_id=expert_id)
        db.session.add(booking)
    booking.status, booking.attendance = BookingStatus.BOOKED, Attendance.PENDING
    booking.booked_at, booking.cancelled_at = now, None
    booking.reminded_at = booking.attended_at = None
    return booking


@use_case
def cancel_booking(actor, slot_id: int) -> ShiftBooking:
    """Give a seat back before the cut-off."""
    profile = experts.own_profile(actor)
    expert_id = profile.id
    experts.lock_expert(expert_id)
    # The slot before the booking, as cancel_slot does, so the two never wait on each other.
    slot = db.session.scalar(sa.select(ShiftSlot).where(ShiftSlot.id == slot_id).with_for_update()
                             .execution_options(populate_existing=True))
    booking = db.session.scalar(
        sa.select(ShiftBooking).where(ShiftBooking.slot_id == slot_id, ShiftBooking.expert_id == expert_id)
        .execution_options(populate_existing=True)
    ) if slot is not None else None
    if slot is None or (booking is None and not enrolments.is_approved_for(expert_id, slot.brand_id)):
        raise NotFound(NO_SUCH_SHIFT)
    if slot.cancelled_at is not None:
        raise Conflict(SLOT_CANCELLED)
    if booking is None or booking.status != BookingStatus.BOOKED:
        raise NotFound(_l("You have no booking for this shift."))
    now = utcnow()
    if now + _cutoff() > slot.starts_at:
        raise Conflict(_l("Bookings can be cancelled until %(minutes)d minutes before the start.",
                          minutes=current_app.config["SHIFT_BOOKING_CUTOFF_MINUTES"]))
    _give_seat_back(booking.id, slot_id, now)
    return booking


def _give_seat_back(booking_id: int, slot_id: int, now: dt.datetime) -> bool:
    """Cancel a booking and free its seat; only the request that moves it from booked to cancelled frees it."""
    moved = db.session.execute(
        sa.update(ShiftBooking).where(ShiftBooking.id == booking_id, ShiftBooking.status == BookingStatus.BOOKED)
        .values(status=BookingStatus.CANCELLED, cancelled_at=now).execution_options(synchronize_session=False)
    ).rowcount
    if moved == 1:
        db.session.execute(
            sa.update(ShiftSlot).where(ShiftSlot.id == slot_id, ShiftSlot.booked_count > 0)
            .values(booked_count=ShiftSlot.booked_count - 1).execution_options(synchronize_session=False)
        )
    return moved == 1


def cancel_future_bookings(expert_id: int, now: dt.datetime) -> int:
    """Cancel every booking of a shift not begun yet, whatever the cut-off (an expert who leaves for good); inside
    the caller's transaction, with the expert locked. How many seats were given back."""
    rows = db.session.execute(
        sa.select(ShiftBooking.id, ShiftBooking.slot_id).join(ShiftSlot, ShiftSlot.id == ShiftBooking.slot_id)
        .where(ShiftBooking.expert_id == expert_id, ShiftBooking.status == BookingStatus.BOOKED,
               ShiftSlot.starts_at > now)
        .order_by(ShiftBooking.slot_id)  # slots in one order, as every writer takes them
    ).all()
    # The slots before the bookings, as cancel_booking and cancel_slot take them, so none waits on another.
    db.session.execute(sa.select(ShiftSlot.id).where(ShiftSlot.id.in_({row.slot_id for row in rows}))
                       .order_by(ShiftSlot.id).with_for_update())
    return sum(_give_seat_back(row.id, row.slot_id, now) for row in rows)


def _expert_bookings(expert_id: int, start: dt.datetime, end: dt.datetime) -> list[ExpertBooking]:
    rows = held_seats(expert_id, start, end)
    found = brands.brands_by_id({slot.brand_id for _booking, slot in rows})
    return [ExpertBooking(booking, slot, found[slot.brand_id]) for booking, slot in rows]


def bookings_for_expert(actor, start: dt.datetime, end: dt.datetime) -> list[ExpertBooking]:
    """The caller's live bookings overlapping [start, end)."""
    profile = experts.own_profile(actor)
    start, end = require_window(start, end)
    return _expert_bookings(profile.id, start, end)


def todays_bookings(expert_id: int, now: dt.datetime | None = None) -> list[ExpertBooking]:
    """The expert's bookings that start today in their brand's time zone, or are under way."""
    now = now or utcnow()
    nearby = _expert_bookings(expert_id, now - dt.timedelta(days=1), now + dt.timedelta(days=2))
    return [b for b in nearby if b.slot.starts_at <= now < b.slot.ends_at
            or clock.local_day(b.slot.starts_at, b.brand.timezone) == clock.local_day(now, b.brand.timezone)]


def slot_with_brand(slot_id: int) -> tuple[ShiftSlot, Brand]:
    slot = db.session.get(ShiftSlot, slot_id)
    if slot is None:
        raise NotFound(NO_SUCH_SHIFT)
    return slot, brands.brands_by_id({slot.brand_id})[slot.brand_id]
