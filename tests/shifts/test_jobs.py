"""The scheduled jobs: one reminder per booking before the shift, attendance from presence during it."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_babel import force_locale

from marketplace.core import clock
from marketplace.database import utcnow
from marketplace.experts.models import ExpertStatus, PresenceSession
from marketplace.notifications.models import Notification
from marketplace.shifts import display, jobs
from marketplace.shifts.models import Attendance, BookingStatus, ShiftBooking
from tests.factories import EnrolmentFactory, ExpertFactory, ShiftBookingFactory
from tests.shifts.conftest import slot_at


def reminders_for(session, user_id: int) -> list[Notification]:
    return list(session.scalars(sa.select(Notification).where(Notification.user_id == user_id,
                                                              Notification.kind == "shift_reminder")))


def test_the_jobs_are_registered_with_the_scheduler(app):
    assert {"shift-reminders", "shift-attendance"} <= {job.id for job in app.extensions["scheduled_jobs"]}


def test_a_booked_expert_is_reminded_once_before_the_shift(app, session, scene):
    slot = slot_at(scene.brand.id, (app.config["SHIFT_REMINDER_MINUTES"] - 10) / 60)
    booking = ShiftBookingFactory(slot_id=slot.id, expert_id=scene.expert_id)
    now = utcnow()
    assert jobs.send_reminders(now) == 1
    assert jobs.send_reminders(now + dt.timedelta(minutes=1)) == 0
    [reminder] = reminders_for(session, scene.expert.id)
    assert "Lumière" in reminder.title
    with force_locale(app.config["BABEL_DEFAULT_LOCALE"]):  # the expert chose no language: the app's default
        assert display.describe_times(slot.starts_at, slot.ends_at, "Europe/Paris") in reminder.body
    day = clock.local_day(slot.starts_at, "Europe/Paris")
    assert reminder.url == f"/expert/shifts?week={day.isoformat()}"  # the week shown starts on the shift's day
    assert session.get(ShiftBooking, booking.id).reminded_at == now


def test_no_reminder_before_the_window_and_none_once_the_shift_started(app, session, scene):
    soon = slot_at(scene.brand.id, 3)
    ShiftBookingFactory(slot_id=soon.id, expert_id=scene.expert_id)
    started = slot_at(scene.brand.id, -0.1)
    ShiftBookingFactory(slot_id=started.id, expert_id=scene.expert_id)
    assert jobs.send_reminders(utcnow()) == 0
    window = dt.timedelta(minutes=app.config["SHIFT_REMINDER_MINUTES"])
    assert jobs.send_reminders(soon.starts_at - window + dt.timedelta(minutes=1)) == 1


def test_cancelled_bookings_cancelled_slots_and_suspended_experts_get_no_reminder(session, scene):
    cancelled_booking = slot_at(scene.brand.id, 0.25)
    ShiftBookingFactory(slot_id=cancelled_booking.id, expert_id=scene.expert_id, status=BookingStatus.CANCELLED)
    cancelled_slot = slot_at(scene.brand.id, 0.25, cancelled_at=utcnow())
    ShiftBookingFactory(slot_id=cancelled_slot.id, expert_id=scene.expert_id)
    suspended = EnrolmentFactory(brand_id=scene.brand.id, expert=ExpertFactory(status=ExpertStatus.SUSPENDED)).expert
    ShiftBookingFactory(slot_id=slot_at(scene.brand.id, 0.25).id, expert_id=suspended.id)
    assert jobs.send_reminders(utcnow()) == 0
    assert reminders_for(session, scene.expert.id) == []


def online(session, expert_id: int, start: dt.datetime, end: dt.datetime | None) -> None:
    session.add(PresenceSession(expert_id=expert_id, started_at=start, ended_at=end))
    session.flush()


def attendance_of(session, booking_id: int) -> tuple[Attendance, dt.datetime | None]:
    booking = session.get(ShiftBooking, booking_id, populate_existing=True)
    return booking.attendance, booking.attended_at


def test_an_expert_online_during_the_shift_attended_from_when_they_came(session, scene):
    slot = slot_at(scene.brand.id, -1)
    booking = ShiftBookingFactory(slot_id=slot.id, expert_id=scene.expert_id)
    came = slot.starts_at + dt.timedelta(minutes=20)
    online(session, scene.expert_id, came, None)
    assert jobs.record_attendance(utcnow()) == {"attended": 1, "no_show": 0}
    assert attendance_of(session, booking.id) == (Attendance.ATTENDED, came)


def test_being_online_since_before_the_shift_counts_from_its_start(session, scene):
    slot = slot_at(scene.brand.id, -1)
    booking = ShiftBookingFactory(slot_id=slot.id, expert_id=scene.expert_id)
    online(session, scene.expert_id, slot.starts_at - dt.timedelta(hours=2), slot.starts_at + dt.timedelta(minutes=5))
    jobs.record_attendance(utcnow())
    assert attendance_of(session, booking.id) == (Attendance.ATTENDED, slot.starts_at)


def test_an_expert_never_online_is_a_no_show_only_once_the_shift_ended(session, scene):
    slot = slot_at(scene.brand.id, -1)
    booking = ShiftBookingFactory(slot_id=slot.id, expert_id=scene.expert_id)
    assert jobs.record_attendance(utcnow()) == {"attended": 0, "no_show": 0}
    assert attendance_of(session, booking.id) == (Attendance.PENDING, None)
    assert jobs.record_attendance(slot.ends_at) == {"attended": 0, "no_show": 1}
    assert attendance_of(session, booking.id) == (Attendance.NO_SHOW, None)


def test_being_online_only_before_or_after_the_shift_does_not_count(session, scene):
    slot = slot_at(scene.brand.id, -3, length_hours=1)
    booking = ShiftBookingFactory(slot_id=slot.id, expert_id=scene.expert_id)
    online(session, scene.expert_id, slot.starts_at - dt.timedelta(hours=1), slot.starts_at)
    online(session, scene.expert_id, slot.ends_at, None)
    assert jobs.record_attendance(utcnow()) == {"attended": 0, "no_show": 1}
    assert attendance_of(session, booking.id) == (Attendance.NO_SHOW, None)


def test_online_after_the_job_looked_still_counts_if_within_the_shift(session, scene):
    slot = slot_at(scene.brand.id, -1)
    booking = ShiftBookingFactory(slot_id=slot.id, expert_id=scene.expert_id)
    jobs.record_attendance(slot.starts_at + dt.timedelta(minutes=10))
    online(session, scene.expert_id, slot.starts_at + dt.timedelta(minutes=30), slot.starts_at + dt.timedelta(hours=1))
    jobs.record_attendance(slot.ends_at + dt.timedelta(minutes=5))
    assert attendance_of(session, booking.id)[0] == Attendance.ATTENDED


def test_settled_and_cancelled_bookings_are_left_alone(session, scene):
    slot = slot_at(scene.brand.id, -3, length_hours=1)
    settled = ShiftBookingFactory(slot_id=slot.id, expert_id=scene.expert_id)
    other = EnrolmentFactory(brand_id=scene.brand.id).expert
    cancelled = ShiftBookingFactory(slot_id=slot.id, expert_id=other.id, status=BookingStatus.CANCELLED)
    assert jobs.record_attendance(utcnow()) == {"attended": 0, "no_show": 1}
    online(session, scene.expert_id, slot.starts_at, None)  # too late to change a settled record
    assert jobs.record_attendance(utcnow()) == {"attended": 0, "no_show": 0}
    assert attendance_of(session, settled.id)[0] == Attendance.NO_SHOW
    assert attendance_of(session, cancelled.id)[0] == Attendance.PENDING
