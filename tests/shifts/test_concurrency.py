"""Experts pressing at the same moment, with real commits on SQLite and PostgreSQL: the last seat is given
once, one expert never ends up in two overlapping shifts, and overlapping reminder runs remind once."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from marketplace.accounts.models import User
from marketplace.database import db, utcnow
from marketplace.errors import Conflict
from marketplace.notifications.models import Notification
from marketplace.shifts import bookings, jobs
from marketplace.shifts.models import BookingStatus, ShiftBooking, ShiftSlot
from tests.conftest import BACKENDS, committed_database_app
from tests.factories import BrandFactory, EnrolmentFactory, ShiftBookingFactory, ShiftSlotFactory

THREADS = 8


@pytest.fixture(scope="module", params=BACKENDS)
def committed_app(request, tmp_path_factory) -> Iterator[Flask]:
    with committed_database_app(request.param, tmp_path_factory.mktemp("shifts"), "shifts") as app:
        yield app


def race(app: Flask, calls: list[Callable[[], object]]) -> list[object]:
    """Run the calls in threads that start together, each in its own app context and session;
    return what each returned or raised."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                results[index] = call()
            except BaseException as error:  # noqa: BLE001 - reported through the results
                results[index] = error

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    return results


def book(user_id: int, slot_id: int) -> Callable[[], object]:
    def call() -> object:
        actor = db.session.get(User, user_id)
        return bookings.book_slot(actor, slot_id).id

    return call


def test_concurrent_bookings_of_the_last_seat_give_exactly_one_booking(committed_app):
    with committed_app.app_context():
        brand = BrandFactory()
        start = (utcnow() + dt.timedelta(days=2)).replace(microsecond=0)
        slot = ShiftSlotFactory(brand_id=brand.id, starts_at=start, ends_at=start + dt.timedelta(hours=2),
                                headcount=2)
        ShiftBookingFactory(slot_id=slot.id, expert_id=EnrolmentFactory(brand_id=brand.id).expert.id)
        user_ids = [EnrolmentFactory(brand_id=brand.id).expert.user_id for _ in range(THREADS)]
        slot_id = slot.id
        db.session.commit()

    results = race(committed_app, [book(user_id, slot_id) for user_id in user_ids])

    winners = [r for r in results if isinstance(r, int)]
    refusals = [r for r in results if isinstance(r, Conflict)]
    assert len(winners) == 1, results
    assert len(refusals) == THREADS - 1, results
    assert {str(r.message) for r in refusals} == {"All seats are taken."}
    with committed_app.app_context():
        stored = db.session.get(ShiftSlot, slot_id)
        assert stored.booked_count == stored.headcount == 2
        booked = db.session.scalar(sa.select(sa.func.count()).where(
            ShiftBooking.slot_id == slot_id, ShiftBooking.status == BookingStatus.BOOKED))
        assert booked == 2


def test_one_expert_booking_overlapping_slots_at_once_gets_only_one(committed_app):
    with committed_app.app_context():
        brand = BrandFactory()
        other = BrandFactory()
        enrolment = EnrolmentFactory(brand_id=brand.id)
        EnrolmentFactory(brand_id=other.id, expert=enrolment.expert)
        start = (utcnow() + dt.timedelta(days=3)).replace(microsecond=0)
        slot_ids = [
            ShiftSlotFactory(brand_id=brand_id, starts_at=start + dt.timedelta(minutes=30 * n),
                             ends_at=start + dt.timedelta(hours=2, minutes=30 * n), headcount=5).id
            for n, brand_id in enumerate([brand.id, other.id, brand.id, other.id])
        ]
        user_id, expert_id = enrolment.expert.user_id, enrolment.expert.id
        db.session.commit()

    results = race(committed_app, [book(user_id, slot_id) for slot_id in slot_ids])

    assert len([r for r in results if isinstance(r, int)]) == 1, results
    refusals = [r for r in results if isinstance(r, Conflict)]
    assert len(refusals) == len(slot_ids) - 1, results
    assert all("overlaps your" in str(r.message) for r in refusals)
    with committed_app.app_context():
        held = db.session.scalar(sa.select(sa.func.count()).where(
            ShiftBooking.expert_id == expert_id, ShiftBooking.status == BookingStatus.BOOKED))
        counts = db.session.scalars(sa.select(ShiftSlot.booked_count).where(ShiftSlot.id.in_(slot_ids))).all()
        assert held == 1 and sorted(counts) == [0, 0, 0, 1]


def test_overlapping_reminder_runs_remind_each_booking_once(committed_app):
    with committed_app.app_context():
        brand = BrandFactory()
        start = (utcnow() + dt.timedelta(minutes=15)).replace(microsecond=0)
        slot = ShiftSlotFactory(brand_id=brand.id, starts_at=start, ends_at=start + dt.timedelta(hours=1),
                                headcount=3)
        user_ids = []
        for _ in range(3):
            expert = EnrolmentFactory(brand_id=brand.id).expert
            ShiftBookingFactory(slot_id=slot.id, expert_id=expert.id)
            user_ids.append(expert.user_id)
        db.session.commit()

    now = utcnow()
    results = race(committed_app, [lambda: jobs.send_reminders(now) for _ in range(4)])

    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == 3
    with committed_app.app_context():
        reminders = db.session.scalars(sa.select(Notification.user_id).where(
            Notification.kind == "shift_reminder", Notification.user_id.in_(user_ids))).all()
        assert sorted(reminders) == sorted(user_ids)
