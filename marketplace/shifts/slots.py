"""The brand's side of shifts: its admins (or the capacity planner) publish slots, cancel them, and list them.

One transaction each. Cancelling is a compare-and-set, so of two admins cancelling at once one does it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from marketplace.accounts import services as accounts
from marketplace.accounts.language import in_language_of
from marketplace.brands import services as brands
from marketplace.brands.models import Brand, BrandRole
from marketplace.core import clock
from marketplace.database import db, use_case, utcnow
from marketplace.errors import Conflict, InvalidInput, NotFound
from marketplace.experts import services as experts
from marketplace.notifications import services as notifications
from marketplace.shared.links import path_for
from marketplace.shifts.display import describe_times
from marketplace.shifts.models import BookingStatus, ShiftBooking, ShiftSlot, SlotSource

MAX_SHIFT_HOURS = 12
MAX_HEADCOUNT = 500
MAX_BONUS_CENTS = 10_000_000  # far above any real bonus, far below the column's limit
MAX_DAYS_AHEAD = 366
MAX_WINDOW_DAYS = 92

NO_SUCH_SHIFT = _l("No such shift.")


@dataclass(frozen=True)
class BookedExpert:
    """A booking as the brand sees it: who, and whether they came."""

    booking: ShiftBooking
    display_name: str


@dataclass(frozen=True)
class BrandSlot:
    slot: ShiftSlot
    bookings: list[BookedExpert]


def require_aware(value: object, field: str) -> dt.datetime:
    """The moment in UTC; refused without its time zone."""
    if not isinstance(value, dt.datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(_l("Give a date and time with its time zone."), field)
    return value.astimezone(dt.UTC)


def _require_count(value: object, field: str, low: int, high: int, message: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(message, field)
    return value


def _validate_slot(starts_at: object, ends_at: object, headcount: object, bonus_cents: object
                   ) -> tuple[dt.datetime, dt.datetime, int, int]:
    start = require_aware(starts_at, "starts_at")
    end = require_aware(ends_at, "ends_at")
    now = utcnow()
    if start <= now:
        raise InvalidInput(_l("The shift must start in the future."), "starts_at")
    if start > now + dt.timedelta(days=MAX_DAYS_AHEAD):
        raise InvalidInput(_l("Publish shifts at most a year ahead."), "starts_at")
    if end <= start:
        raise InvalidInput(_l("The shift must end after it starts."), "ends_at")
    if end - start > dt.timedelta(hours=MAX_SHIFT_HOURS):
        raise InvalidInput(_l("A shift lasts at most %(hours)d hours.", hours=MAX_SHIFT_HOURS), "ends_at")
    seats = _require_count(headcount, "headcount", 1, MAX_HEADCOUNT,
                           _l("Choose between 1 and %(count)d seats.", count=MAX_HEADCOUNT))
    bonus = _require_count(bonus_cents, "bonus_cents", 0, MAX_BONUS_CENTS,
                           _l("The bonus must be a whole number of cents, from 0 up to %(count)d.",
                              count=MAX_BONUS_CENTS))
    return start, end, seats, bonus


def _open_slot(brand_id: int, starts_at: object, ends_at: object, headcount: object, bonus_cents: object,
               source: SlotSource, created_by_id: int | None = None) -> ShiftSlot:
    start, end, seats, bonus = _validate_slot(starts_at, ends_at, headcount, bonus_cents)
    slot = ShiftSlot(brand_id=brand_id, starts_at=start, ends_at=end, headcount=seats, bonus_cents=bonus,
                     source=source, created_by_id=created_by_id)
    db.session.add(slot)
    return slot


@use_case
def publish_slot(actor: brands.Actor, brand_id: int, starts_at: dt.datetime, ends_at: dt.datetime,
                 headcount: int, bonus_cents: int = 0) -> ShiftSlot:
    """Open `headcount` seats for the brand between two moments (its admins, ops)."""
    brands.get_brand(actor, brand_id, need=BrandRole.ADMIN)
    return _open_slot(brand_id, starts_at, ends_at, headcount, bonus_cents, SlotSource.BRAND,
                      getattr(actor, "id", None))


@use_case
def publish_planned_slot(brand_id: int, starts_at: dt.datetime, ends_at: dt.datetime, headcount: int,
                         bonus_cents: int = 0) -> ShiftSlot:
    """Open seats the capacity planner asks for; no person acts, so no role is checked."""
    if not brands.brands_by_id({brand_id}):
        raise NotFound(_l("No such brand."))
    return _open_slot(brand_id, starts_at, ends_at, headcount, bonus_cents, SlotSource.PLANNER)


def _tell_cancelled(user_id: int, brand: Brand, slot: ShiftSlot) -> None:
    """Notify an expert, in their language, that the brand cancelled a shift they had booked."""
    with in_language_of(accounts.get_user(user_id)):
        when = describe_times(slot.starts_at, slot.ends_at, brand.timezone)
        title = gettext("%(brand)s cancelled a shift", brand=brand.name)
        body = gettext("Your %(brand)s shift of %(when)s is cancelled: it is no longer in your bookings.",
                       brand=brand.name, when=when)
    day = clock.local_day(slot.starts_at, brand.timezone)  # the expert's week from that day: the shift comes first
    notifications.notify(user_id, "shift_cancelled", title, body, url=path_for("shifts.week", week=day.isoformat()),
                         data={"slot_id": slot.id, "brand_id": brand.id})


@use_case
def cancel_slot(actor: brands.Actor, brand_id: int, slot_id: int) -> ShiftSlot:
    """Withdraw a slot that has not started (its admins, ops); its booked experts are told."""
    brand = brands.get_brand(actor, brand_id, need=BrandRole.ADMIN)
    slot = db.session.get(ShiftSlot, slot_id)
    if slot is None or slot.brand_id != brand_id:
        raise NotFound(NO_SUCH_SHIFT)
    now = utcnow()
    if slot.starts_at <= now:
        raise Conflict(_l("This shift has started: it can no longer be cancelled."))
    # Compare-and-set: of two admins cancelling at once, one does it. The row lock it takes also makes
    # concurrent bookings of this slot wait, then find it cancelled.
    moved = db.session.execute(
        sa.update(ShiftSlot).where(ShiftSlot.id == slot_id, ShiftSlot.cancelled_at.is_(None))
        .values(cancelled_at=now, booked_count=0).execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        raise Conflict(_l("This shift is already cancelled."))
    booked = list(db.session.scalars(
        sa.select(ShiftBooking).where(ShiftBooking.slot_id == slot_id, ShiftBooking.status == BookingStatus.BOOKED)
        .order_by(ShiftBooking.id).with_for_update().execution_options(populate_existing=True)
    ))
    for booking in booked:
        booking.status = BookingStatus.CANCELLED
        booking.cancelled_at = now
    profiles = experts.profiles_by_id({booking.expert_id for booking in booked})
    for profile in profiles.values():
        _tell_cancelled(profile.user_id, brand, slot)
    accounts.record_audit("shift_slot_cancelled", actor_id=getattr(actor, "id", None), brand_id=brand_id,
                          slot_id=slot_id, bookings=len(booked))
    return slot


def require_window(start: object, end: object) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) in UTC, refused when backwards or longer than the longest window one may ask for."""
    start_utc, end_utc = require_aware(start, "start"), require_aware(end, "end")
    if end_utc <= start_utc:
        raise InvalidInput(_l("The end must come after the start."), "end")
    if end_utc - start_utc > dt.timedelta(days=MAX_WINDOW_DAYS):
        raise InvalidInput(_l("Ask for at most %(days)d days at once.", days=MAX_WINDOW_DAYS), "end")
    return start_utc, end_utc


def brand_slots(actor: brands.Actor, brand_id: int, start: dt.datetime, end: dt.datetime) -> list[BrandSlot]:
    """The brand's slots overlapping [start, end), cancelled ones included, with who booked them (its people)."""
    brands.get_brand(actor, brand_id)
    start, end = require_window(start, end)
    slots = list(db.session.scalars(
        sa.select(ShiftSlot).where(ShiftSlot.brand_id == brand_id, ShiftSlot.starts_at < end, ShiftSlot.ends_at > start)
        .order_by(ShiftSlot.starts_at, ShiftSlot.id)
    ))
    bookings = list(db.session.scalars(
        sa.select(ShiftBooking).where(ShiftBooking.slot_id.in_([slot.id for slot in slots]),
                                      ShiftBooking.status == BookingStatus.BOOKED)
        .order_by(ShiftBooking.booked_at, ShiftBooking.id)
    )) if slots else []
    names = {p.id: p.display_name for p in experts.profiles_by_id({b.expert_id for b in bookings}).values()}
    return [BrandSlot(slot, [BookedExpert(b, names[b.expert_id]) for b in bookings if b.slot_id == slot.id])
            for slot in slots]
