"""Shift use cases: brands (or the planner) publish slots, experts book and cancel seats; one transaction each.

The last seat of a slot and an expert's own calendar are both guarded against concurrent requests:
`booked_count` moves only by compare-and-set updates, and an expert's bookings are checked for overlaps
while the expert's row is locked, so one expert's simultaneous requests take turns.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from babel.dates import format_skeleton, format_time
from babel.numbers import get_currency_precision
from flask import current_app
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l

from marketplace.accounts import services as accounts
from marketplace.accounts.language import in_language_of
from marketplace.brands import services as brands
from marketplace.brands.models import Brand, BrandRole
from marketplace.database import db, utcnow
from marketplace.errors import Conflict, DomainError, InvalidInput, NotFound
from marketplace.experts import enrolments
from marketplace.experts import services as experts
from marketplace.notifications import services as notifications
from marketplace.shifts.models import Attendance, BookingStatus, ShiftBooking, ShiftSlot, SlotSource
from marketplace.web.links import path_for

MAX_SHIFT_HOURS = 12
MAX_HEADCOUNT = 500
MAX_BONUS_CENTS = 10_000_000  # far above any real bonus, far below the column's limit
MAX_DAYS_AHEAD = 366
MAX_WINDOW_DAYS = 92
WEEK_DAYS = 7  # an expert's week: seven days from the one asked for (today by default), whatever its weekday
# The days a week may start on: far enough from the calendar's ends for a week's arithmetic never to overflow.
FIRST_WEEK_START, LAST_WEEK_START = dt.date(2000, 1, 1), dt.date(9999, 1, 1)

NO_SUCH_SHIFT = _l("No such shift.")
SLOT_CANCELLED = _l("The brand cancelled this shift.")
SLOT_FULL = _l("All seats are taken.")


@dataclass(frozen=True)
class BookedExpert:
    """A booking as the brand sees it: who, and whether they came."""

    booking: ShiftBooking
    display_name: str


@dataclass(frozen=True)
class BrandSlot:
    slot: ShiftSlot
    bookings: list[BookedExpert]


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


# Times as people read them: in the brand's time zone, in the reader's language.

def brand_time(value: dt.datetime, timezone: str) -> dt.datetime:
    return value.astimezone(ZoneInfo(timezone))


def describe_times(starts_at: dt.datetime, ends_at: dt.datetime, timezone: str) -> str:
    """E.g. "Tue, Mar 4, 10:00 AM – 12:00 PM", in the brand's time zone and the current language."""
    zone, locale = ZoneInfo(timezone), get_locale() or "en"
    day = format_skeleton("MMMEd", starts_at, tzinfo=zone, locale=locale)
    start = format_time(starts_at, "short", tzinfo=zone, locale=locale)
    end = format_time(ends_at, "short", tzinfo=zone, locale=locale)
    return f"{day}, {start} – {end}"


def minor_to_decimal(cents: int, currency: str) -> Decimal:
    """Integer minor units as an exact amount in currency units (750 EUR -> 7.50)."""
    return Decimal(cents).scaleb(-get_currency_precision(currency))


# The brand's side.

def _cutoff() -> dt.timedelta:
    return dt.timedelta(minutes=current_app.config["SHIFT_BOOKING_CUTOFF_MINUTES"])


def _require_aware(value: object, field: str) -> dt.datetime:
    if not isinstance(value, dt.datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(_l("Give a date and time with its time zone."), field)
    return value.astimezone(dt.UTC)


def _require_count(value: object, field: str, low: int, high: int, message: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(message, field)
    return value


def _validate_slot(starts_at: object, ends_at: object, headcount: object, bonus_cents: object
                   ) -> tuple[dt.datetime, dt.datetime, int, int]:
    start = _require_aware(starts_at, "starts_at")
    end = _require_aware(ends_at, "ends_at")
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


def publish_slot(actor: brands.Actor, brand_id: int, starts_at: dt.datetime, ends_at: dt.datetime,
                 headcount: int, bonus_cents: int = 0) -> ShiftSlot:
    """Open `headcount` seats for the brand between two moments (its admins, ops)."""
    brands.get_brand(actor, brand_id, need=BrandRole.ADMIN)
    start, end, seats, bonus = _validate_slot(starts_at, ends_at, headcount, bonus_cents)
    slot = ShiftSlot(brand_id=brand_id, starts_at=start, ends_at=end, headcount=seats, bonus_cents=bonus,
                     source=SlotSource.BRAND, created_by_id=getattr(actor, "id", None))
    db.session.add(slot)
    db.session.commit()
    return slot


def publish_planned_slot(brand_id: int, starts_at: dt.datetime, ends_at: dt.datetime, headcount: int,
                         bonus_cents: int = 0) -> ShiftSlot:
    """Open seats the capacity planner asks for; no person acts, so no role is checked."""
    if not brands.brands_by_id({brand_id}):
        raise NotFound(_l("No such brand."))
    start, end, seats, bonus = _validate_slot(starts_at, ends_at, headcount, bonus_cents)
    slot = ShiftSlot(brand_id=brand_id, starts_at=start, ends_at=end, headcount=seats, bonus_cents=bonus,
                     source=SlotSource.PLANNER)
    db.session.add(slot)
    db.session.commit()
    return slot


def grant_planned_seat(brand_id: int, expert_id: int, starts_at: dt.datetime, ends_at: dt.datetime) -> ShiftSlot:
    """Give an expert who accepted the planner's invitation a one-seat slot from now; the caller commits.

    No cut-off applies (the planner asks for now), but an expert never holds two overlapping seats.
    """
    start, end = _require_aware(starts_at, "starts_at"), _require_aware(ends_at, "ends_at")
    if not start < end <= start + dt.timedelta(hours=MAX_SHIFT_HOURS):
        raise InvalidInput(_l("A shift lasts at most %(hours)d hours.", hours=MAX_SHIFT_HOURS), "ends_at")
    experts.lock_expert(expert_id)
    clash = next(iter(_booked_slots(expert_id, start, end)), None)
    if clash is not None:
        other = brands.brands_by_id({clash.brand_id})[clash.brand_id]
        raise Conflict(_overlap_refusal(clash, other))
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


def _tell_cancelled(user_id: int, brand: Brand, slot: ShiftSlot) -> None:
    """Notify an expert, in their language, that the brand cancelled a shift they had booked."""
    with in_language_of(accounts.get_user(user_id)):
        when = describe_times(slot.starts_at, slot.ends_at, brand.timezone)
        title = gettext("%(brand)s cancelled a shift", brand=brand.name)
        body = gettext("Your %(brand)s shift of %(when)s is cancelled: it is no longer in your bookings.",
                       brand=brand.name, when=when)
    day = brand_time(slot.starts_at, brand.timezone).date()  # the expert's week from that day: the shift comes first
    notifications.notify(user_id, "shift_cancelled", title, body, url=path_for("shifts.week", week=day.isoformat()),
                         data={"slot_id": slot.id, "brand_id": brand.id})


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
        db.session.rollback()
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
    db.session.commit()
    return slot


def _window(start: object, end: object) -> tuple[dt.datetime, dt.datetime]:
    start_utc, end_utc = _require_aware(start, "start"), _require_aware(end, "end")
    if end_utc <= start_utc:
        raise InvalidInput(_l("The end must come after the start."), "end")
    if end_utc - start_utc > dt.timedelta(days=MAX_WINDOW_DAYS):
        raise InvalidInput(_l("Ask for at most %(days)d days at once.", days=MAX_WINDOW_DAYS), "end")
    return start_utc, end_utc


def brand_slots(actor: brands.Actor, brand_id: int, start: dt.datetime, end: dt.datetime) -> list[BrandSlot]:
    """The brand's slots overlapping [start, end), cancelled ones included, with who booked them (its people)."""
    brands.get_brand(actor, brand_id)
    start, end = _window(start, end)
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


# The expert's side.

def _booked_slots(expert_id: int, start: dt.datetime, end: dt.datetime) -> list[ShiftSlot]:
    """The slots this expert holds a seat in that overlap [start, end)."""
    return list(db.session.scalars(
        sa.select(ShiftSlot).join(ShiftBooking, ShiftBooking.slot_id == ShiftSlot.id)
        .where(ShiftBooking.expert_id == expert_id, ShiftBooking.status == BookingStatus.BOOKED,
               ShiftSlot.cancelled_at.is_(None), ShiftSlot.starts_at < end, ShiftSlot.ends_at > start)
        .order_by(ShiftSlot.starts_at, ShiftSlot.id)
    ))


def _overlap_refusal(other: ShiftSlot, brand: Brand) -> str:
    return _l("This shift overlaps your %(brand)s shift of %(when)s.", brand=brand.name,
              when=describe_times(other.starts_at, other.ends_at, brand.timezone))


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
    own = _booked_slots(profile.id, window_start, window_end + dt.timedelta(hours=MAX_SHIFT_HOURS))
    found = brands.brands_by_id({slot.brand_id for slot in [*slots, *own]})
    own_ids = {slot.id for slot in own}
    now, cutoff = utcnow(), _cutoff()
    week = []
    for slot in slots:
        brand = found[slot.brand_id]
        day = brand_time(slot.starts_at, brand.timezone).date()
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
                reason = _overlap_refusal(clash, found[clash.brand_id])
        week.append(ExpertSlot(slot, brand, day, max(seats_left, 0), booked, not booked and reason is None,
                               booked and reason is None, reason))
    return ExpertWeek(week_start, week)


def _refuse(error: DomainError) -> DomainError:
    """Drop what the transaction holds (locks included) before refusing."""
    db.session.rollback()
    return error


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
        raise _refuse(Conflict(SLOT_CANCELLED))
    booking = db.session.scalar(
        sa.select(ShiftBooking).where(ShiftBooking.slot_id == slot_id, ShiftBooking.expert_id == expert_id)
        .execution_options(populate_existing=True)
    )
    if booking is not None and booking.status == BookingStatus.BOOKED:
        raise _refuse(Conflict(_l("You have already booked this shift.")))
    now = utcnow()
    if now + _cutoff() > slot.starts_at:
        raise _refuse(Conflict(_l("Booking closes %(minutes)d minutes before the start.",
                                  minutes=current_app.config["SHIFT_BOOKING_CUTOFF_MINUTES"])))
    if slot.booked_count >= slot.headcount:
        raise _refuse(Conflict(SLOT_FULL))
    clash = next(iter(_booked_slots(expert_id, slot.starts_at, slot.ends_at)), None)
    if clash is not None:
        other = brands.brands_by_id({clash.brand_id})[clash.brand_id]
        raise _refuse(Conflict(_overlap_refusal(clash, other)))
    # The last seat goes to exactly one of the experts pressing at once: the others update no row.
    taken = db.session.execute(
        sa.update(ShiftSlot)
        .where(ShiftSlot.id == slot_id, ShiftSlot.booked_count < ShiftSlot.headcount, ShiftSlot.cancelled_at.is_(None))
        .values(booked_count=ShiftSlot.booked_count + 1).execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        db.session.refresh(slot)
        raise _refuse(Conflict(SLOT_CANCELLED if slot.cancelled_at is not None else SLOT_FULL))
    if booking is None:
        booking = ShiftBooking(slot_id=slot_id, expert_id=expert_id)
        db.session.add(booking)
    booking.status, booking.attendance = BookingStatus.BOOKED, Attendance.PENDING
    booking.booked_at, booking.cancelled_at = now, None
    booking.reminded_at = booking.attended_at = None
    db.session.commit()
    return booking


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
        raise _refuse(NotFound(NO_SUCH_SHIFT))
    if slot.cancelled_at is not None:
        raise _refuse(Conflict(SLOT_CANCELLED))
    if booking is None or booking.status != BookingStatus.BOOKED:
        raise _refuse(NotFound(_l("You have no booking for this shift.")))
    now = utcnow()
    if now + _cutoff() > slot.starts_at:
        raise _refuse(Conflict(_l("Bookings can be cancelled until %(minutes)d minutes before the start.",
                                  minutes=current_app.config["SHIFT_BOOKING_CUTOFF_MINUTES"])))
    # Only the request that moves the booking from booked to cancelled gives the seat back.
    moved = db.session.execute(
        sa.update(ShiftBooking).where(ShiftBooking.id == booking.id, ShiftBooking.status == BookingStatus.BOOKED)
        .values(status=BookingStatus.CANCELLED, cancelled_at=now).execution_options(synchronize_session=False)
    ).rowcount
    if moved == 1:
        db.session.execute(
            sa.update(ShiftSlot).where(ShiftSlot.id == slot_id, ShiftSlot.booked_count > 0)
            .values(booked_count=ShiftSlot.booked_count - 1).execution_options(synchronize_session=False)
        )
    db.session.commit()
    return booking


def _expert_bookings(expert_id: int, start: dt.datetime, end: dt.datetime) -> list[ExpertBooking]:
    rows = db.session.execute(
        sa.select(ShiftBooking, ShiftSlot).join(ShiftSlot, ShiftBooking.slot_id == ShiftSlot.id)
        .where(ShiftBooking.expert_id == expert_id, ShiftBooking.status == BookingStatus.BOOKED,
               ShiftSlot.cancelled_at.is_(None), ShiftSlot.starts_at < end, ShiftSlot.ends_at > start)
        .order_by(ShiftSlot.starts_at, ShiftSlot.id)
    ).all()
    found = brands.brands_by_id({slot.brand_id for _booking, slot in rows})
    return [ExpertBooking(booking, slot, found[slot.brand_id]) for booking, slot in rows]


def bookings_for_expert(actor, start: dt.datetime, end: dt.datetime) -> list[ExpertBooking]:
    """The caller's live bookings overlapping [start, end)."""
    profile = experts.own_profile(actor)
    start, end = _window(start, end)
    return _expert_bookings(profile.id, start, end)


def todays_bookings(expert_id: int, now: dt.datetime | None = None) -> list[ExpertBooking]:
    """The expert's bookings that start today in their brand's time zone, or are under way."""
    now = now or utcnow()
    nearby = _expert_bookings(expert_id, now - dt.timedelta(days=1), now + dt.timedelta(days=2))
    return [b for b in nearby if b.slot.starts_at <= now < b.slot.ends_at
            or brand_time(b.slot.starts_at, b.brand.timezone).date() == brand_time(now, b.brand.timezone).date()]


def slot_with_brand(slot_id: int) -> tuple[ShiftSlot, Brand]:
    slot = db.session.get(ShiftSlot, slot_id)
    if slot is None:
        raise NotFound(NO_SUCH_SHIFT)
    return slot, brands.brands_by_id({slot.brand_id})[slot.brand_id]


def booked_now(expert_id: int, at: dt.datetime) -> list[ShiftSlot]:
    """The slots the expert holds a seat in at this moment (usually none or one)."""
    return _booked_slots(expert_id, at, at + dt.timedelta(microseconds=1))


def seated_expert_ids(expert_ids: set[int], at: dt.datetime) -> set[int]:
    """Those of these experts who hold a seat in some brand's shift at this moment; one query."""
    if not expert_ids:
        return set()
    return set(db.session.scalars(
        sa.select(ShiftBooking.expert_id).join(ShiftSlot, ShiftBooking.slot_id == ShiftSlot.id)
        .where(ShiftBooking.expert_id.in_(expert_ids), ShiftBooking.status == BookingStatus.BOOKED,
               ShiftSlot.cancelled_at.is_(None), ShiftSlot.starts_at <= at, ShiftSlot.ends_at > at)
    ))


def on_shift_expert_ids(brand_id: int, at: dt.datetime) -> sa.Select:
    """A query of the experts holding a seat in one of the brand's shifts at `at`, for the router to compose."""
    return (
        sa.select(ShiftBooking.expert_id).join(ShiftSlot, ShiftBooking.slot_id == ShiftSlot.id)
        .where(ShiftSlot.brand_id == brand_id, ShiftBooking.status == BookingStatus.BOOKED,
               ShiftSlot.cancelled_at.is_(None), ShiftSlot.starts_at <= at, ShiftSlot.ends_at > at)
    )


def booked_by_quarter(brand_id: int, start: dt.datetime, quarters: int) -> list[int]:
    """Booked seats of the brand in each quarter hour from `start` (a seat counts where its slot overlaps)."""
    step = dt.timedelta(minutes=15)
    end = start + quarters * step
    rows = db.session.execute(
        sa.select(ShiftSlot.starts_at, ShiftSlot.ends_at, ShiftSlot.booked_count)
        .where(ShiftSlot.brand_id == brand_id, ShiftSlot.cancelled_at.is_(None), ShiftSlot.booked_count > 0,
               ShiftSlot.starts_at < end, ShiftSlot.ends_at > start)
    ).all()
    seats = [0] * quarters
    for starts_at, ends_at, booked in rows:
        first = max(0, (starts_at - start) // step)
        last = min(quarters - 1, (ends_at - start - dt.timedelta(microseconds=1)) // step)
        for index in range(first, last + 1):
            seats[index] += booked
    return seats


def offered_by_quarter(brand_id: int, start: dt.datetime, quarters: int) -> list[int]:
    """Seats the brand can count on in each quarter hour: booked seats of its own slots, and every seat the
    planner has opened (booked or not yet), so the planner never opens the same gap twice."""
    step = dt.timedelta(minutes=15)
    end = start + quarters * step
    rows = db.session.execute(
        sa.select(ShiftSlot.starts_at, ShiftSlot.ends_at, ShiftSlot.booked_count, ShiftSlot.headcount,
                  ShiftSlot.source)
        .where(ShiftSlot.brand_id == brand_id, ShiftSlot.cancelled_at.is_(None),
               ShiftSlot.starts_at < end, ShiftSlot.ends_at > start)
    ).all()
    seats = [0] * quarters
    for starts_at, ends_at, booked, headcount, source in rows:
        first = max(0, (starts_at - start) // step)
        last = min(quarters - 1, (ends_at - start - dt.timedelta(microseconds=1)) // step)
        for index in range(first, last + 1):
            seats[index] += headcount if source == SlotSource.PLANNER else booked
    return seats


def planner_slots(brand_id: int, start: dt.datetime, end: dt.datetime) -> list[ShiftSlot]:
    """The planner's slots of the brand starting in [start, end) (an invitation's seat starts when accepted)."""
    return list(db.session.scalars(
        sa.select(ShiftSlot).where(ShiftSlot.brand_id == brand_id, ShiftSlot.source == SlotSource.PLANNER,
                                   ShiftSlot.cancelled_at.is_(None), ShiftSlot.starts_at >= start,
                                   ShiftSlot.starts_at < end)
        .order_by(ShiftSlot.starts_at)
    ))


def is_on_shift(expert_id: int, brand_id: int, at: dt.datetime) -> bool:
    return any(slot.brand_id == brand_id for slot in booked_now(expert_id, at))
