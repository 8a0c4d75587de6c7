"""What experts see: their week of slots with what they may do, their bookings, and who is on shift now."""

from __future__ import annotations

import datetime as dt

import pytest

from marketplace.accounts.models import User
from marketplace.database import utcnow
from marketplace.errors import Forbidden
from marketplace.experts.models import ExpertStatus
from marketplace.shifts import bookings, seats
from marketplace.shifts.models import BookingStatus
from tests.factories import BrandFactory, EnrolmentFactory, ExpertFactory, ShiftBookingFactory, ShiftSlotFactory
from tests.shifts.conftest import slot_at


def in_two_weeks() -> dt.date:
    """The Monday two weeks on (a day whose week is all in the future, whatever today is)."""
    day = utcnow().date() + dt.timedelta(days=14)
    return day - dt.timedelta(days=day.weekday())


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), dt.UTC)


def test_the_week_shows_only_slots_of_brands_that_approved_the_expert(session, scene):
    monday = in_two_weeks()
    mine = ShiftSlotFactory(brand_id=scene.brand.id, starts_at=at(monday, 9), ends_at=at(monday, 11))
    ShiftSlotFactory(brand_id=BrandFactory().id, starts_at=at(monday, 9), ends_at=at(monday, 11))
    waiting = BrandFactory()
    EnrolmentFactory(brand_id=waiting.id, expert=scene.profile, status="quiz_passed")
    ShiftSlotFactory(brand_id=waiting.id, starts_at=at(monday, 12), ends_at=at(monday, 13))
    week = bookings.open_slots_for_expert(scene.expert, monday)
    assert [item.slot.id for item in week.slots] == [mine.id]


def test_the_week_leaves_out_cancelled_slots_and_other_weeks(session, scene):
    monday = in_two_weeks()
    kept = ShiftSlotFactory(brand_id=scene.brand.id, starts_at=at(monday, 9), ends_at=at(monday, 11))
    ShiftSlotFactory(brand_id=scene.brand.id, starts_at=at(monday, 12), ends_at=at(monday, 13), cancelled_at=utcnow())
    ShiftSlotFactory(brand_id=scene.brand.id, starts_at=at(monday + dt.timedelta(days=7), 9),
                     ends_at=at(monday + dt.timedelta(days=7), 11))
    assert [item.slot.id for item in bookings.open_slots_for_expert(scene.expert, monday).slots] == [kept.id]


def test_a_week_is_the_seven_days_from_the_day_asked_whatever_its_weekday(session, scene):
    thursday = in_two_weeks() + dt.timedelta(days=3)
    slots = {offset: ShiftSlotFactory(brand_id=scene.brand.id, starts_at=at(thursday + dt.timedelta(days=offset), 10),
                                      ends_at=at(thursday + dt.timedelta(days=offset), 12))
             for offset in (-1, 0, 6, 7)}
    week = bookings.open_slots_for_expert(scene.expert, thursday)
    assert week.week_start == thursday
    assert [(item.slot.id, item.day) for item in week.slots] == [
        (slots[0].id, thursday), (slots[6].id, thursday + dt.timedelta(days=6))]


def test_days_are_the_brands_own_days(session, scene):
    tokyo = BrandFactory(timezone="Asia/Tokyo")  # UTC+9 all year
    EnrolmentFactory(brand_id=tokyo.id, expert=scene.profile)
    monday = in_two_weeks()
    early = ShiftSlotFactory(brand_id=tokyo.id, starts_at=at(monday - dt.timedelta(days=1), 20),  # Mon 05:00 Tokyo
                             ends_at=at(monday - dt.timedelta(days=1), 22))
    late = ShiftSlotFactory(brand_id=tokyo.id, starts_at=at(monday + dt.timedelta(days=6), 16),  # next Mon 01:00
                            ends_at=at(monday + dt.timedelta(days=6), 18))
    this_week = bookings.open_slots_for_expert(scene.expert, monday).slots
    assert [(item.slot.id, item.day) for item in this_week] == [(early.id, monday)]
    next_week = bookings.open_slots_for_expert(scene.expert, monday + dt.timedelta(days=7)).slots
    assert [(item.slot.id, item.day) for item in next_week] == [(late.id, monday + dt.timedelta(days=7))]


def test_the_week_says_what_the_expert_may_do_or_why_not(session, scene):
    booked = slot_at(scene.brand.id, 48, headcount=3)
    overlapping = slot_at(scene.brand.id, 49)
    full = slot_at(scene.brand.id, 52, headcount=1)
    ShiftBookingFactory(slot_id=full.id, expert_id=EnrolmentFactory(brand_id=scene.brand.id).expert.id)
    closing = slot_at(scene.brand.id, 0.5)
    free = slot_at(scene.brand.id, 55, headcount=4)
    bookings.book_slot(scene.expert, booked.id)
    seen = {}
    for day in {utcnow().date(), (utcnow() + dt.timedelta(hours=55)).date()}:
        seen.update({item.slot.id: item for item in bookings.open_slots_for_expert(scene.expert, day).slots})
    assert (seen[booked.id].booked, seen[booked.id].can_cancel, seen[booked.id].can_book) == (True, True, False)
    assert seen[booked.id].seats_left == 2
    assert "overlaps your Lumière shift" in seen[overlapping.id].reason
    assert (seen[full.id].can_book, seen[full.id].seats_left, seen[full.id].reason) == (False, 0,
                                                                                       "All seats are taken.")
    assert (seen[closing.id].can_book, seen[closing.id].reason) == (False, "Booking is closed.")
    assert (seen[free.id].can_book, seen[free.id].reason, seen[free.id].seats_left) == (True, None, 4)


@pytest.mark.parametrize("status", [ExpertStatus.APPLIED, ExpertStatus.SUSPENDED])
def test_an_unapproved_expert_is_told_why_instead_of_seeing_slots(session, scene, status):
    profile = EnrolmentFactory(brand_id=scene.brand.id, expert=ExpertFactory(status=status)).expert
    slot_at(scene.brand.id, 24)
    with pytest.raises(Forbidden) as refused:
        bookings.open_slots_for_expert(session.get(User, profile.user_id), utcnow().date())
    assert str(refused.value.message)


def test_the_expert_lists_their_live_bookings(session, scene):
    kept = slot_at(scene.brand.id, 24)
    dropped = slot_at(scene.brand.id, 30)
    far = slot_at(scene.brand.id, 24 * 40)
    for slot in (kept, dropped, far):
        bookings.book_slot(scene.expert, slot.id)
    bookings.cancel_booking(scene.expert, dropped.id)
    now = utcnow()
    listed = bookings.bookings_for_expert(scene.expert, now, now + dt.timedelta(days=7))
    assert [(b.slot.id, b.brand.name, b.booking.status) for b in listed] == [(kept.id, "Lumière",
                                                                             BookingStatus.BOOKED)]


def test_routing_can_ask_who_is_on_shift_now(session, scene):
    running = slot_at(scene.brand.id, -0.5)
    ShiftBookingFactory(slot_id=running.id, expert_id=scene.expert_id)
    later = slot_at(scene.brand.id, 5)
    ShiftBookingFactory(slot_id=later.id, expert_id=scene.expert_id)
    now = utcnow()
    assert [slot.id for slot in seats.booked_now(scene.expert_id, now)] == [running.id]
    assert seats.is_on_shift(scene.expert_id, scene.brand.id, now) is True
    assert seats.is_on_shift(scene.expert_id, BrandFactory().id, now) is False
    assert seats.is_on_shift(scene.expert_id, scene.brand.id, running.ends_at) is False  # the end is excluded
    assert seats.is_on_shift(scene.expert_id, scene.brand.id, running.starts_at) is True
    assert seats.booked_now(ExpertFactory().id, now) == []


def test_a_cancelled_booking_is_not_on_shift(session, scene):
    running = slot_at(scene.brand.id, -0.5)
    ShiftBookingFactory(slot_id=running.id, expert_id=scene.expert_id, status=BookingStatus.CANCELLED)
    assert seats.is_on_shift(scene.expert_id, scene.brand.id, utcnow()) is False


def test_today_holds_the_shifts_of_the_brands_day_and_those_under_way(session, scene):
    now = dt.datetime(2031, 3, 4, 10, 0, tzinfo=dt.UTC)  # 11:00 in Paris

    def booked(start: dt.datetime, hours: int = 2) -> int:
        slot = ShiftSlotFactory(brand_id=scene.brand.id, starts_at=start, ends_at=start + dt.timedelta(hours=hours))
        ShiftBookingFactory(slot_id=slot.id, expert_id=scene.expert_id)
        return slot.id

    under_way = booked(now - dt.timedelta(hours=1))
    tonight = booked(now.replace(hour=21))  # 22:00 in Paris, still today
    after_midnight = booked(now.replace(hour=23))  # 00:00 tomorrow in Paris
    booked(now - dt.timedelta(days=1))
    assert [b.slot.id for b in bookings.todays_bookings(scene.expert_id, now)] == [under_way, tonight]
    assert after_midnight not in [b.slot.id for b in bookings.todays_bookings(scene.expert_id, now)]
