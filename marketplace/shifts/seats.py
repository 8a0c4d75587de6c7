"""Who holds a seat when (for bookings, the router and the capacity planner), and the seats the planner grants.

A seat counts while its booking stands and its slot is not cancelled.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from marketplace.brands import services as brands
from marketplace.brands.models import Brand
from marketplace.database import db
from marketplace.errors import Conflict, InvalidInput
from marketplace.experts import services as experts
from marketplace.shifts.display import describe_times
from marketplace.shifts.models import BookingStatus, ShiftBooking, ShiftSlot, SlotSource
from marketplace.shifts.slots import MAX_SHIFT_HOURS, require_aware

_QUARTER = dt.timedelta(minutes=15)


def _held(expert_id: int, start: dt.datetime, end: dt.datetime, *columns: object) -> sa.Select:
    """The expert's seats in slots overlapping [start, end), earliest first."""
    return (
        sa.select(*columns).select_from(ShiftBooking).join(ShiftSlot, ShiftBooking.slot_id == ShiftSlot.id)
        .where(ShiftBooking.expert_id == expert_id, ShiftBooking.status == BookingStatus.BOOKED,
               ShiftSlot.cancelled_at.is_(None), ShiftSlot.starts_at < end, ShiftSlot.ends_at > start)
        .order_by(ShiftSlot.starts_at, ShiftSlot.id)
    )


def _held_at(at: dt.datetime) -> tuple[sa.ColumnElement[bool], ...]:
    """The seats under way at `at`, joined with their slots."""
    return (ShiftBooking.status == BookingStatus.BOOKED, ShiftSlot.cancelled_at.is_(None),
            ShiftSlot.starts_at <= at, ShiftSlot.ends_at > at)


def booked_slots(expert_id: int, start: dt.datetime, end: dt.datetime) -> list[ShiftSlot]:
    """The slots this expert holds a seat in that overlap [start, end)."""
    return list(db.session.scalars(_held(expert_id, start, end, ShiftSlot)))


def held_seats(expert_id: int, start: dt.datetime, end: dt.datetime) -> list[tuple[ShiftBooking, ShiftSlot]]:
    """This expert's bookings in slots overlapping [start, end), each with its slot."""
    rows = db.session.execute(_held(expert_id, start, end, ShiftBooking, ShiftSlot))
    return [(booking, slot) for booking, slot in rows]


def overlap_refusal(other: ShiftSlot, brand: Brand) -> str:
    """Why a seat is refused: it overlaps the expert's seat in `other`, a shift of `brand`."""
    return _l("This shift overlaps your %(brand)s shift of %(when)s.", brand=brand.name,
              when=describe_times(other.starts_at, other.ends_at, brand.timezone))


def grant_planned_seat(brand_id: int, expert_id: int, starts_at: dt.datetime, ends_at: dt.datetime) -> ShiftSlot:
    """Give an expert who accepted the planner's invitation a one-seat slot from now; the caller commits.

    No cut-off applies (the planner asks for now), but an expert never holds two overlapping seats.
    """
    start, end = require_aware(starts_at, "starts_at"), require_aware(ends_at, "ends_at")
    if not start < end <= start + dt.timedelta(hours=MAX_SHIFT_HOURS):
        raise InvalidInput(_l("A shift lasts at most %(hours)d hours.", hours=MAX_SHIFT_HOURS), "ends_at")
    experts.lock_expert(expert_id)
    clash = next(iter(booked_slots(expert_id, start, end)), None)
    if clash is not None:
        other = brands.brands_by_id({clash.brand_id})[clash.brand_id]
        raise Conflict(overlap_refusal(clash, other))
    slot = ShiftSlot(brand_id=brand_id, starts_at=start, ends_at=end, headcount=1, booked_count=1,
                     source=SlotSource.PLANNER)
    db.session.add(slot)
    db.session.flush()
    db.session.add(ShiftBooking(slot_id=slot.id, expert_id=expert_id, status=BookingStatus.BOOKED))
    return slot


def end_planned_seat(slot_id: int, at: dt.datetime) -> None:
    """End a planner's one-seat slot early (the expert was released); the caller commits."""
    db.session.execute(
        sa.update(ShiftSlot).where(ShiftSlot.id == slot_id, ShiftSlot.source == SlotSource.PLANNER,
                                   ShiftSlot.starts_at < at, ShiftSlot.ends_at > at)
        .values(ends_at=at).execution_options(synchronize_session=False)
    )


def booked_now(expert_id: int, at: dt.datetime) -> list[ShiftSlot]:
    """The slots the expert holds a seat in at this moment (usually none or one)."""
    return booked_slots(expert_id, at, at + dt.timedelta(microseconds=1))


def is_on_shift(expert_id: int, brand_id: int, at: dt.datetime) -> bool:
    return any(slot.brand_id == brand_id for slot in booked_now(expert_id, at))


def seated_expert_ids(expert_ids: set[int], at: dt.datetime) -> set[int]:
    """Those of these experts who hold a seat in some brand's shift at this moment; one query."""
    if not expert_ids:
        return set()
    return set(db.session.scalars(
        sa.select(ShiftBooking.expert_id).join(ShiftSlot, ShiftBooking.slot_id == ShiftSlot.id)
        .where(ShiftBooking.expert_id.in_(expert_ids), *_held_at(at))
    ))


def on_shift_expert_ids(brand_id: int, at: dt.datetime) -> sa.Select:
    """A query of the experts holding a seat in one of the brand's shifts at `at`, for the router to compose."""
    return (
        sa.select(ShiftBooking.expert_id).join(ShiftSlot, ShiftBooking.slot_id == ShiftSlot.id)
        .where(ShiftSlot.brand_id == brand_id, *_held_at(at))
    )


def _by_quarter(start: dt.datetime, quarters: int, spans: Iterable[tuple[dt.datetime, dt.datetime, int]]
                ) -> list[int]:
    """Each span's seats added to every quarter hour from `start` that it overlaps."""
    seats = [0] * quarters
    for starts_at, ends_at, count in spans:
        first = max(0, (starts_at - start) // _QUARTER)
        last = min(quarters - 1, (ends_at - start - dt.timedelta(microseconds=1)) // _QUARTER)
        for index in range(first, last + 1):
            seats[index] += count
    return seats


def booked_by_quarter(brand_id: int, start: dt.datetime, quarters: int) -> list[int]:
    """Booked seats of the brand in each quarter hour from `start` (a seat counts where its slot overlaps)."""
    end = start + quarters * _QUARTER
    rows = db.session.execute(
        sa.select(ShiftSlot.starts_at, ShiftSlot.ends_at, ShiftSlot.booked_count)
        .where(ShiftSlot.brand_id == brand_id, ShiftSlot.cancelled_at.is_(None), ShiftSlot.booked_count > 0,
               ShiftSlot.starts_at < end, ShiftSlot.ends_at > start)
    ).all()
    return _by_quarter(start, quarters, rows)


def offered_by_quarter(brand_id: int, start: dt.datetime, quarters: int) -> list[int]:
    """Seats the brand can count on in each quarter hour: booked seats of its own slots, and every seat the
    planner has opened (booked or not yet), so the planner never opens the same gap twice."""
    end = start + quarters * _QUARTER
    rows = db.session.execute(
        sa.select(ShiftSlot.starts_at, ShiftSlot.ends_at, ShiftSlot.booked_count, ShiftSlot.headcount,
                  ShiftSlot.source)
        .where(ShiftSlot.brand_id == brand_id, ShiftSlot.cancelled_at.is_(None),
               ShiftSlot.starts_at < end, ShiftSlot.ends_at > start)
    ).all()
    return _by_quarter(start, quarters, ((starts_at, ends_at, headcount if source == SlotSource.PLANNER else booked)
                                         for starts_at, ends_at, booked, headcount, source in rows))


def planner_slots(brand_id: int, start: dt.datetime, end: dt.datetime) -> list[ShiftSlot]:
    """The planner's slots of the brand starting in [start, end) (an invitation's seat starts when accepted)."""
    return list(db.session.scalars(
        sa.select(ShiftSlot).where(ShiftSlot.brand_id == brand_id, ShiftSlot.source == SlotSource.PLANNER,
                                   ShiftSlot.cancelled_at.is_(None), ShiftSlot.starts_at >= start,
                                   ShiftSlot.starts_at < end)
        .order_by(ShiftSlot.starts_at)
    ))
