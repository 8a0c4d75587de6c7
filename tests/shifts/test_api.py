"""The shifts API: experts book and cancel, brands publish, list and cancel; refusals are problem+json."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from marketplace.accounts.models import User
from marketplace.brands import services as brands
from marketplace.brands.models import BrandRole
from marketplace.database import utcnow
from marketplace.shifts.models import ShiftSlot
from tests.factories import BrandFactory, EnrolmentFactory, MembershipFactory, ShiftBookingFactory, ShiftSlotFactory
from tests.shifts.conftest import logged_in, slot_at


def iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def test_an_expert_sees_the_week_of_slots(client, session, scene):
    slot = slot_at(scene.brand.id, 48, bonus_cents=750)
    logged_in(client, scene.expert)
    week = slot.starts_at.date().isoformat()
    response = client.get(f"/api/v1/shifts/slots?week={week}")
    assert response.status_code == 200
    [shown] = [s for s in response.json["slots"] if s["id"] == slot.id]
    assert shown["brand_name"] == "Lumière" and shown["currency"] == "EUR" and shown["bonus_cents"] == 750
    assert (shown["seats_left"], shown["booked"], shown["can_book"], shown["reason"]) == (2, False, True, None)
    assert dt.datetime.fromisoformat(shown["starts_at"]) == slot.starts_at
    assert client.get("/api/v1/shifts/slots").status_code == 200  # the week from today by default


def noon_utc(day: dt.date, offset: int) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=offset), dt.time(12), dt.UTC)


def test_the_week_is_the_seven_days_from_the_day_given_or_today(client, session, scene):
    thursday = utcnow().date() + dt.timedelta(days=14 + (3 - utcnow().weekday()) % 7)
    slots = {offset: ShiftSlotFactory(brand_id=scene.brand.id, starts_at=noon_utc(thursday, offset),
                                      ends_at=noon_utc(thursday, offset) + dt.timedelta(hours=2))
             for offset in (-1, 0, 6, 7)}
    logged_in(client, scene.expert)
    week = client.get(f"/api/v1/shifts/slots?week={thursday.isoformat()}").json
    assert week["week_start"] == thursday.isoformat()
    assert [s["id"] for s in week["slots"]] == [slots[0].id, slots[6].id]
    today = utcnow().astimezone(ZoneInfo("Europe/Paris")).date()
    assert client.get("/api/v1/shifts/slots").json["week_start"] == today.isoformat()


def test_a_bad_week_is_422_naming_it(client, session, scene):
    logged_in(client, scene.expert)
    for week in ("next-tuesday", "9999-12-31", "0001-01-01"):
        response = client.get(f"/api/v1/shifts/slots?week={week}")
        assert response.status_code == 422, week
        assert list(response.json["errors"]) == ["week"]


def test_an_expert_books_then_cancels_through_the_api(client, session, scene):
    slot = slot_at(scene.brand.id, 24)
    headers = logged_in(client, scene.expert)
    booked = client.post(f"/api/v1/shifts/slots/{slot.id}/booking", headers=headers)
    assert booked.status_code == 201
    assert (booked.json["slot_id"], booked.json["status"]) == (slot.id, "booked")
    again = client.post(f"/api/v1/shifts/slots/{slot.id}/booking", headers=headers)
    assert again.status_code == 409
    assert again.mimetype == "application/problem+json"
    assert again.json["detail"] == "You have already booked this shift."
    listed = client.get("/api/v1/shifts/bookings").json
    assert [(b["slot_id"], b["brand_name"], b["status"]) for b in listed] == [(slot.id, "Lumière", "booked")]
    cancelled = client.delete(f"/api/v1/shifts/slots/{slot.id}/booking", headers=headers)
    assert (cancelled.status_code, cancelled.json["status"]) == (200, "cancelled")
    assert client.delete(f"/api/v1/shifts/slots/{slot.id}/booking", headers=headers).status_code == 404
    assert client.get("/api/v1/shifts/bookings").json == []


def test_a_full_slot_is_409_all_seats_taken(client, session, scene):
    slot = slot_at(scene.brand.id, 24, headcount=1)
    ShiftBookingFactory(slot_id=slot.id, expert_id=EnrolmentFactory(brand_id=scene.brand.id).expert.id)
    headers = logged_in(client, scene.expert)
    response = client.post(f"/api/v1/shifts/slots/{slot.id}/booking", headers=headers)
    assert (response.status_code, response.json["detail"]) == (409, "All seats are taken.")


def test_a_slot_of_a_brand_that_has_not_approved_the_expert_is_404(client, session, scene):
    slot = slot_at(BrandFactory().id, 24)
    headers = logged_in(client, scene.expert)
    assert client.post(f"/api/v1/shifts/slots/{slot.id}/booking", headers=headers).status_code == 404
    week = client.get(f"/api/v1/shifts/slots?week={slot.starts_at.date().isoformat()}").json
    assert slot.id not in [s["id"] for s in week["slots"]]


def test_booking_needs_the_csrf_token_with_a_session(client, session, scene):
    slot = slot_at(scene.brand.id, 24)
    logged_in(client, scene.expert)
    assert client.post(f"/api/v1/shifts/slots/{slot.id}/booking").status_code == 400


def publish_body(**changes) -> dict:
    start = (utcnow() + dt.timedelta(days=2)).replace(microsecond=0)
    return {"starts_at": iso(start), "ends_at": iso(start + dt.timedelta(hours=3)), "headcount": 4, **changes}


def test_an_admin_publishes_lists_and_cancels_slots(client, session, scene):
    headers = logged_in(client, scene.admin)
    published = client.post(f"/api/v1/brands/{scene.brand.id}/shift-slots", json=publish_body(bonus_cents=300),
                            headers=headers)
    assert published.status_code == 201
    slot_id = published.json["id"]
    assert (published.json["headcount"], published.json["bonus_cents"], published.json["source"]) == (4, 300, "brand")
    ShiftBookingFactory(slot_id=slot_id, expert_id=scene.expert_id)
    listed = client.get(f"/api/v1/brands/{scene.brand.id}/shift-slots").json
    assert [s["id"] for s in listed] == [slot_id]
    assert [b["display_name"] for b in listed[0]["bookings"]] == [scene.profile.display_name]
    cancelled = client.delete(f"/api/v1/brands/{scene.brand.id}/shift-slots/{slot_id}", headers=headers)
    assert cancelled.status_code == 200 and cancelled.json["cancelled_at"] is not None
    again = client.delete(f"/api/v1/brands/{scene.brand.id}/shift-slots/{slot_id}", headers=headers)
    assert again.status_code == 409


def test_bad_slots_are_422_naming_the_field_and_write_nothing(client, session, scene):
    headers = logged_in(client, scene.admin)
    url = f"/api/v1/brands/{scene.brand.id}/shift-slots"
    naive = client.post(url, json=publish_body(starts_at="2031-01-01T09:00:00"), headers=headers)
    assert (naive.status_code, list(naive.json["errors"])) == (422, ["starts_at"])
    seats = client.post(url, json=publish_body(headcount=0, bonus_cents=-5), headers=headers)
    assert (seats.status_code, set(seats.json["errors"])) == (422, {"headcount", "bonus_cents"})
    body = publish_body()
    backwards = client.post(url, json={**body, "ends_at": body["starts_at"]}, headers=headers)
    assert (backwards.status_code, list(backwards.json["errors"])) == (422, ["ends_at"])
    assert session.scalar(sa.select(sa.func.count()).where(ShiftSlot.brand_id == scene.brand.id)) == 0


def test_a_viewer_lists_but_may_not_publish_or_cancel(client, session, scene):
    viewer = session.get(User, MembershipFactory(brand=scene.brand, role=BrandRole.VIEWER).user_id)
    slot = slot_at(scene.brand.id, 24)
    headers = logged_in(client, viewer)
    assert client.get(f"/api/v1/brands/{scene.brand.id}/shift-slots").status_code == 200
    url = f"/api/v1/brands/{scene.brand.id}/shift-slots"
    assert client.post(url, json=publish_body(), headers=headers).status_code == 403
    assert client.delete(f"{url}/{slot.id}", headers=headers).status_code == 403


def test_a_member_of_another_brand_gets_404(client, session, scene):
    outsider = session.get(User, MembershipFactory(role=BrandRole.ADMIN).user_id)
    slot = slot_at(scene.brand.id, 24)
    headers = logged_in(client, outsider)
    url = f"/api/v1/brands/{scene.brand.id}/shift-slots"
    assert client.get(url).status_code == 404
    assert client.post(url, json=publish_body(), headers=headers).status_code == 404
    assert client.delete(f"{url}/{slot.id}", headers=headers).status_code == 404


def test_an_admin_token_publishes_and_a_viewer_token_only_reads(client, session, scene):
    admin_token = brands.issue_api_token(scene.admin, scene.brand.id, "planner", BrandRole.ADMIN).secret
    viewer_token = brands.issue_api_token(scene.admin, scene.brand.id, "report", BrandRole.VIEWER).secret
    url = f"/api/v1/brands/{scene.brand.id}/shift-slots"
    published = client.post(url, json=publish_body(), headers={"Authorization": f"Bearer {admin_token}"})
    assert published.status_code == 201
    reader = {"Authorization": f"Bearer {viewer_token}"}
    assert [s["id"] for s in client.get(url, headers=reader).json] == [published.json["id"]]
    assert client.post(url, json=publish_body(), headers=reader).status_code == 403
    other = BrandFactory()
    assert client.get(f"/api/v1/brands/{other.id}/shift-slots", headers=reader).status_code == 404
