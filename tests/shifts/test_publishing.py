"""Brands (and the planner) publish and cancel slots; brand people see only their own brand's slots."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import Role, User
from marketplace.brands.models import BrandRole
from marketplace.database import utcnow
from marketplace.errors import Conflict, Forbidden, InvalidInput, NotFound
from marketplace.notifications.models import Notification
from marketplace.shifts import bookings, slots
from marketplace.shifts.models import BookingStatus, ShiftBooking, ShiftSlot, SlotSource
from tests.factories import BrandFactory, EnrolmentFactory, MembershipFactory, ShiftBookingFactory, UserFactory
from tests.shifts.conftest import slot_at


def tomorrow_at(hour: int) -> dt.datetime:
    return (utcnow() + dt.timedelta(days=1)).replace(hour=hour, minute=0, second=0, microsecond=0)


def test_an_admin_publishes_a_slot(session, scene):
    start = tomorrow_at(9).astimezone(dt.timezone(dt.timedelta(hours=2)))  # any offset; stored in UTC
    slot = slots.publish_slot(scene.admin, scene.brand.id, start, start + dt.timedelta(hours=4), 3, 500)
    stored = session.get(ShiftSlot, slot.id)
    assert (stored.starts_at, stored.ends_at) == (tomorrow_at(9), tomorrow_at(13))
    assert (stored.headcount, stored.booked_count, stored.bonus_cents) == (3, 0, 500)
    assert (stored.source, stored.created_by_id, stored.cancelled_at) == (SlotSource.BRAND, scene.admin.id, None)


def test_ops_publish_for_any_brand(session, scene):
    ops = UserFactory(role=Role.OPS)
    slot = slots.publish_slot(ops, scene.brand.id, tomorrow_at(9), tomorrow_at(11), 1)
    assert slot.brand_id == scene.brand.id


def test_a_viewer_may_not_publish(session, scene):
    viewer = session.get(User, MembershipFactory(brand=scene.brand, role=BrandRole.VIEWER).user_id)
    with pytest.raises(Forbidden, match="Only the brand's admins"):
        slots.publish_slot(viewer, scene.brand.id, tomorrow_at(9), tomorrow_at(11), 1)


@pytest.mark.parametrize("role", [Role.EXPERT, Role.FINANCE])
def test_people_outside_the_brand_may_not_publish(session, scene, role):
    with pytest.raises((NotFound, Forbidden)):
        slots.publish_slot(UserFactory(role=role), scene.brand.id, tomorrow_at(9), tomorrow_at(11), 1)


def test_an_admin_of_another_brand_can_neither_list_publish_nor_cancel_this_brands_slots(session, scene):
    outsider = session.get(User, MembershipFactory(role=BrandRole.ADMIN).user_id)
    slot = slot_at(scene.brand.id, 24)
    session.commit()  # what the test built stays when a refused use case rolls its own transaction back
    now = utcnow()
    with pytest.raises(NotFound):
        slots.brand_slots(outsider, scene.brand.id, now, now + dt.timedelta(days=7))
    with pytest.raises(NotFound):
        slots.publish_slot(outsider, scene.brand.id, tomorrow_at(9), tomorrow_at(11), 1)
    with pytest.raises(NotFound):
        slots.cancel_slot(outsider, scene.brand.id, slot.id)
    assert session.get(ShiftSlot, slot.id).cancelled_at is None


def test_another_brands_slot_cannot_be_cancelled_through_ones_own_brand(session, scene):
    foreign = slot_at(BrandFactory().id, 24)
    session.commit()  # what the test built stays when a refused use case rolls its own transaction back
    with pytest.raises(NotFound, match="No such shift"):
        slots.cancel_slot(scene.admin, scene.brand.id, foreign.id)
    assert session.get(ShiftSlot, foreign.id).cancelled_at is None


NAIVE = dt.datetime(2030, 1, 1, 9, 0)  # noqa: DTZ001 - the point of the test


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"starts_at": NAIVE}, "starts_at", "with its time zone"),
        ({"ends_at": "tomorrow"}, "ends_at", "with its time zone"),
        ({"starts_at": utcnow() - dt.timedelta(hours=1)}, "starts_at", "start in the future"),
        ({"starts_at": utcnow() + dt.timedelta(days=400)}, "starts_at", "at most a year ahead"),
        ({"ends_at": tomorrow_at(9)}, "ends_at", "end after it starts"),
        ({"ends_at": tomorrow_at(9) + dt.timedelta(hours=12, minutes=1)}, "ends_at", "at most 12 hours"),
        ({"headcount": 0}, "headcount", "between 1 and 500"),
        ({"headcount": 501}, "headcount", "between 1 and 500"),
        ({"headcount": "3"}, "headcount", "between 1 and 500"),
        ({"headcount": True}, "headcount", "between 1 and 500"),
        ({"bonus_cents": -1}, "bonus_cents", "whole number of cents"),
        ({"bonus_cents": 2.5}, "bonus_cents", "whole number of cents"),
    ],
)
def test_bad_slots_are_refused_naming_the_field(session, scene, changes, field, message):
    values = {"starts_at": tomorrow_at(9), "ends_at": tomorrow_at(11), "headcount": 2, "bonus_cents": 0, **changes}
    with pytest.raises(InvalidInput) as refused:
        slots.publish_slot(scene.admin, scene.brand.id, **values)
    assert refused.value.field == field
    assert message in str(refused.value.message)
    assert session.scalar(sa.select(sa.func.count()).where(ShiftSlot.brand_id == scene.brand.id)) == 0


def test_the_planner_publishes_without_an_actor(session, scene):
    slot = slots.publish_planned_slot(scene.brand.id, tomorrow_at(9), tomorrow_at(10), 5, 200)
    assert (slot.source, slot.created_by_id, slot.headcount, slot.bonus_cents) == (SlotSource.PLANNER, None, 5, 200)
    with pytest.raises(NotFound):
        slots.publish_planned_slot(987654321, tomorrow_at(9), tomorrow_at(10), 5)
    with pytest.raises(InvalidInput) as refused:
        slots.publish_planned_slot(scene.brand.id, tomorrow_at(10), tomorrow_at(9), 5)
    assert refused.value.field == "ends_at"


def test_cancelling_a_slot_cancels_its_bookings_and_tells_each_expert(session, scene):
    slot = slot_at(scene.brand.id, 48, headcount=3)
    bookings.book_slot(scene.expert, slot.id)
    other = EnrolmentFactory(brand_id=scene.brand.id).expert
    ShiftBookingFactory(slot_id=slot.id, expert_id=other.id)
    cancelled = slots.cancel_slot(scene.admin, scene.brand.id, slot.id)
    assert cancelled.cancelled_at is not None and cancelled.booked_count == 0
    statuses = session.scalars(sa.select(ShiftBooking.status).where(ShiftBooking.slot_id == slot.id)).all()
    assert statuses == [BookingStatus.CANCELLED, BookingStatus.CANCELLED]
    told = session.scalars(sa.select(Notification).where(Notification.kind == "shift_cancelled")).all()
    assert sorted(n.user_id for n in told) == sorted([scene.expert.id, other.user_id])
    day = slot.starts_at.astimezone(ZoneInfo("Europe/Paris")).date()  # the week from the shift's day: it comes first
    assert all("Lumière" in n.title and n.url == f"/expert/shifts?week={day.isoformat()}" for n in told)


def test_a_slot_is_cancelled_once(session, scene):
    slot = slot_at(scene.brand.id, 24)
    slots.cancel_slot(scene.admin, scene.brand.id, slot.id)
    with pytest.raises(Conflict, match="already cancelled"):
        slots.cancel_slot(scene.admin, scene.brand.id, slot.id)


def test_a_started_slot_cannot_be_cancelled(session, scene):
    slot = slot_at(scene.brand.id, -0.25)
    with pytest.raises(Conflict, match="has started"):
        slots.cancel_slot(scene.admin, scene.brand.id, slot.id)


def test_a_viewer_may_not_cancel_a_slot(session, scene):
    viewer = session.get(User, MembershipFactory(brand=scene.brand, role=BrandRole.VIEWER).user_id)
    slot = slot_at(scene.brand.id, 24)
    with pytest.raises(Forbidden):
        slots.cancel_slot(viewer, scene.brand.id, slot.id)


def test_the_brand_sees_its_slots_with_who_booked_them(session, scene):
    viewer = session.get(User, MembershipFactory(brand=scene.brand, role=BrandRole.VIEWER).user_id)
    slot = slot_at(scene.brand.id, 24)
    later = slot_at(scene.brand.id, 24 * 20)
    slot_at(BrandFactory().id, 24)  # another brand's: never listed
    bookings.book_slot(scene.expert, slot.id)
    now = utcnow()
    listed = slots.brand_slots(viewer, scene.brand.id, now, now + dt.timedelta(days=7))
    assert [item.slot.id for item in listed] == [slot.id]
    assert [b.display_name for b in listed[0].bookings] == [scene.profile.display_name]
    everything = slots.brand_slots(viewer, scene.brand.id, now, now + dt.timedelta(days=30))
    assert [item.slot.id for item in everything] == [slot.id, later.id]


def test_the_brand_asks_for_a_sensible_window(session, scene):
    now = utcnow()
    with pytest.raises(InvalidInput) as refused:
        slots.brand_slots(scene.admin, scene.brand.id, now, now + dt.timedelta(days=200))
    assert refused.value.field == "end"
    with pytest.raises(InvalidInput) as refused:
        slots.brand_slots(scene.admin, scene.brand.id, now, now - dt.timedelta(days=1))
    assert refused.value.field == "end"
