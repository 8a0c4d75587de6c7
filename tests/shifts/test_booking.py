"""Experts book and cancel seats: every allowed move, and every refusal with its reason."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import User
from marketplace.errors import Conflict, Forbidden, NotFound
from marketplace.experts.models import EnrolmentStatus, ExpertStatus
from marketplace.shifts import bookings, display, slots
from marketplace.shifts.models import Attendance, BookingStatus, ShiftBooking, ShiftSlot
from tests.factories import BrandFactory, EnrolmentFactory, ExpertFactory, ShiftBookingFactory
from tests.shifts.conftest import slot_at


def booking_rows(session, slot_id: int) -> list[ShiftBooking]:
    return list(session.scalars(sa.select(ShiftBooking).where(ShiftBooking.slot_id == slot_id)))


def test_an_approved_expert_books_a_seat_and_the_count_moves(session, scene):
    slot = slot_at(scene.brand.id, 24)
    booking = bookings.book_slot(scene.expert, slot.id)
    assert (booking.status, booking.attendance, booking.expert_id) == (BookingStatus.BOOKED, Attendance.PENDING,
                                                                       scene.expert_id)
    assert session.get(ShiftSlot, slot.id).booked_count == 1


@pytest.mark.parametrize("status", [ExpertStatus.APPLIED, ExpertStatus.REJECTED, ExpertStatus.SUSPENDED])
def test_an_unapproved_expert_is_refused_and_told_why(session, scene, status):
    slot = slot_at(scene.brand.id, 24)
    profile = EnrolmentFactory(brand_id=scene.brand.id, expert=ExpertFactory(status=status)).expert
    session.commit()
    with pytest.raises(Forbidden) as refused:
        bookings.book_slot(session.get(User, profile.user_id), slot.id)
    assert "under review" in str(refused.value.message) or "cannot do this" in str(refused.value.message)
    assert booking_rows(session, slot.id) == []


@pytest.mark.parametrize("enrolment", [None, EnrolmentStatus.APPLIED, EnrolmentStatus.QUIZ_PASSED,
                                       EnrolmentStatus.REJECTED])
def test_a_slot_of_a_brand_that_has_not_approved_the_expert_does_not_exist_for_them(session, scene, enrolment):
    other = BrandFactory()
    if enrolment is not None:
        EnrolmentFactory(brand_id=other.id, expert=scene.profile, status=enrolment)
    slot = slot_at(other.id, 24)
    session.commit()
    with pytest.raises(NotFound) as refused:
        bookings.book_slot(scene.expert, slot.id)
    assert str(refused.value.message) == "No such shift."
    assert booking_rows(session, slot.id) == []


def test_an_unknown_slot_is_not_found(session, scene):
    with pytest.raises(NotFound):
        bookings.book_slot(scene.expert, 987654321)


def test_it_refuses_a_full_slot(session, scene):
    slot = slot_at(scene.brand.id, 24, headcount=1)
    ShiftBookingFactory(slot_id=slot.id, expert_id=EnrolmentFactory(brand_id=scene.brand.id).expert.id)
    session.commit()
    with pytest.raises(Conflict) as refused:
        bookings.book_slot(scene.expert, slot.id)
    assert str(refused.value.message) == "All seats are taken."
    assert session.get(ShiftSlot, slot.id).booked_count == 1


def test_it_refuses_a_slot_the_brand_cancelled(session, scene):
    slot = slot_at(scene.brand.id, 24)
    slots.cancel_slot(scene.admin, scene.brand.id, slot.id)
    with pytest.raises(Conflict) as refused:
        bookings.book_slot(scene.expert, slot.id)
    assert str(refused.value.message) == "The brand cancelled this shift."


def test_it_refuses_booking_after_the_cutoff(app, session, scene):
    minutes = app.config["SHIFT_BOOKING_CUTOFF_MINUTES"]
    slot = slot_at(scene.brand.id, (minutes - 5) / 60)
    session.commit()
    with pytest.raises(Conflict) as refused:
        bookings.book_slot(scene.expert, slot.id)
    assert str(refused.value.message) == f"Booking closes {minutes} minutes before the start."


def test_it_refuses_a_slot_that_has_started(session, scene):
    slot = slot_at(scene.brand.id, -0.5)
    session.commit()
    with pytest.raises(Conflict, match="Booking closes"):
        bookings.book_slot(scene.expert, slot.id)


def test_it_refuses_booking_the_same_slot_twice(session, scene):
    slot = slot_at(scene.brand.id, 24)
    bookings.book_slot(scene.expert, slot.id)
    with pytest.raises(Conflict) as refused:
        bookings.book_slot(scene.expert, slot.id)
    assert str(refused.value.message) == "You have already booked this shift."
    assert session.get(ShiftSlot, slot.id).booked_count == 1


def test_it_refuses_an_overlapping_booking_naming_the_other_brand_and_time(session, scene):
    other = BrandFactory(name="Nordlys", timezone="Europe/Oslo")
    EnrolmentFactory(brand_id=other.id, expert=scene.profile)
    first = slot_at(other.id, 24, length_hours=3)
    second = slot_at(scene.brand.id, 25)
    session.commit()
    bookings.book_slot(scene.expert, first.id)
    with pytest.raises(Conflict) as refused:
        bookings.book_slot(scene.expert, second.id)
    message = str(refused.value.message)
    assert "Nordlys" in message
    assert display.describe_times(first.starts_at, first.ends_at, "Europe/Oslo") in message
    assert session.get(ShiftSlot, second.id).booked_count == 0


def test_back_to_back_shifts_do_not_overlap(session, scene):
    morning = slot_at(scene.brand.id, 24, length_hours=2)
    afternoon = slot_at(scene.brand.id, 26, length_hours=2)
    bookings.book_slot(scene.expert, morning.id)
    assert bookings.book_slot(scene.expert, afternoon.id).status == BookingStatus.BOOKED


def test_cancelling_gives_the_seat_back_and_booking_again_reuses_the_row(session, scene):
    slot = slot_at(scene.brand.id, 24)
    booked = bookings.book_slot(scene.expert, slot.id)
    cancelled = bookings.cancel_booking(scene.expert, slot.id)
    assert cancelled.id == booked.id
    assert (cancelled.status, cancelled.cancelled_at is not None) == (BookingStatus.CANCELLED, True)
    assert session.get(ShiftSlot, slot.id).booked_count == 0
    again = bookings.book_slot(scene.expert, slot.id)
    assert (again.id, again.status, again.cancelled_at) == (booked.id, BookingStatus.BOOKED, None)
    assert session.get(ShiftSlot, slot.id).booked_count == 1
    assert len(booking_rows(session, slot.id)) == 1


def test_a_cancelled_seat_can_be_taken_by_another_expert(session, scene):
    slot = slot_at(scene.brand.id, 24, headcount=1)
    other = session.get(User, EnrolmentFactory(brand_id=scene.brand.id).expert.user_id)
    session.commit()
    bookings.book_slot(scene.expert, slot.id)
    bookings.cancel_booking(scene.expert, slot.id)
    assert bookings.book_slot(other, slot.id).status == BookingStatus.BOOKED


def test_it_refuses_cancelling_after_the_cutoff(app, session, scene):
    slot = slot_at(scene.brand.id, 0.5)
    ShiftBookingFactory(slot_id=slot.id, expert_id=scene.expert_id)
    session.commit()
    with pytest.raises(Conflict) as refused:
        bookings.cancel_booking(scene.expert, slot.id)
    minutes = app.config["SHIFT_BOOKING_CUTOFF_MINUTES"]
    assert str(refused.value.message) == f"Bookings can be cancelled until {minutes} minutes before the start."
    assert session.get(ShiftSlot, slot.id).booked_count == 1


def test_it_refuses_cancelling_a_booking_you_do_not_have(session, scene):
    slot = slot_at(scene.brand.id, 24)
    session.commit()
    with pytest.raises(NotFound) as refused:
        bookings.cancel_booking(scene.expert, slot.id)
    assert str(refused.value.message) == "You have no booking for this shift."
    bookings.book_slot(scene.expert, slot.id)
    bookings.cancel_booking(scene.expert, slot.id)
    with pytest.raises(NotFound, match="no booking"):
        bookings.cancel_booking(scene.expert, slot.id)
    assert session.get(ShiftSlot, slot.id).booked_count == 0


def test_another_brands_slot_cannot_be_cancelled_either(session, scene):
    slot = slot_at(BrandFactory().id, 24)
    session.commit()
    with pytest.raises(NotFound, match="No such shift"):
        bookings.cancel_booking(scene.expert, slot.id)


def test_cancelling_a_booking_the_brand_cancelled_says_so(session, scene):
    slot = slot_at(scene.brand.id, 24)
    bookings.book_slot(scene.expert, slot.id)
    slots.cancel_slot(scene.admin, scene.brand.id, slot.id)
    with pytest.raises(Conflict) as refused:
        bookings.cancel_booking(scene.expert, slot.id)
    assert str(refused.value.message) == "The brand cancelled this shift."
