"""The pages: the expert's week (book, cancel, flashes), the brand's slots and publish form, the home panel."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from babel.dates import format_time

from marketplace.accounts.models import User
from marketplace.brands.models import BrandRole
from marketplace.database import utcnow
from marketplace.experts.models import ExpertStatus
from marketplace.shifts.models import BookingStatus, ShiftBooking, ShiftSlot
from tests.conftest import log_in
from tests.factories import BrandFactory, EnrolmentFactory, ExpertFactory, MembershipFactory, ShiftBookingFactory
from tests.shifts.conftest import slot_at

PARIS = ZoneInfo("Europe/Paris")


def paris_time(moment: dt.datetime) -> str:
    return format_time(moment, "short", tzinfo=PARIS, locale="en")


def page(response) -> str:
    return response.get_data(as_text=True)


def test_the_week_view_shows_each_slot_in_brand_time_with_seats_and_bonus(client, session, scene):
    slot = slot_at(scene.brand.id, 48, headcount=3, bonus_cents=750)
    log_in(client, scene.expert.email)
    response = client.get(f"/expert/shifts?week={slot.starts_at.date().isoformat()}")
    assert response.status_code == 200
    html = page(response)
    assert f'data-testid="slot-{slot.id}"' in html
    assert "Lumière" in html and paris_time(slot.starts_at) in html and paris_time(slot.ends_at) in html
    assert "3 seats left" in html and "€7.50" in html
    assert ">Book</button>" in html
    assert "Previous week" in html and "Next week" in html


def paris_today() -> dt.date:
    return utcnow().astimezone(PARIS).date()


def shown_days(html: str) -> list[str]:
    return re.findall(r'data-testid="shift-day" data-day="([\d-]+)"', html)


def test_the_week_view_starts_today_and_marks_it(client, session, scene):
    log_in(client, scene.expert.email)
    html = page(client.get("/expert/shifts"))
    today = paris_today()
    assert shown_days(html) == [(today + dt.timedelta(days=n)).isoformat() for n in range(7)]
    assert f'id="day-{today.isoformat()}" aria-current="date"' in html
    assert html.count('aria-current="date"') == 1
    assert f'href="/expert/shifts?week={(today - dt.timedelta(days=7)).isoformat()}"' in html
    assert f'href="/expert/shifts?week={(today + dt.timedelta(days=7)).isoformat()}"' in html
    assert "Back to this week" not in html


def test_the_next_week_is_the_seven_days_after_and_leads_back_to_today(client, session, scene):
    log_in(client, scene.expert.email)
    later = paris_today() + dt.timedelta(days=7)
    html = page(client.get(f"/expert/shifts?week={later.isoformat()}"))
    assert shown_days(html) == [(later + dt.timedelta(days=n)).isoformat() for n in range(7)]
    assert 'aria-current="date"' not in html
    assert 'href="/expert/shifts">Back to this week' in html


def test_a_bad_week_parameter_shows_the_week_from_today(client, session, scene):
    log_in(client, scene.expert.email)
    for week in ("soon", "9999-12-31", "0001-01-01"):
        response = client.get(f"/expert/shifts?week={week}")
        assert response.status_code == 200, week
        assert shown_days(page(response))[0] == paris_today().isoformat()


def test_booking_from_the_week_view_flashes_and_offers_to_cancel(client, session, scene):
    slot = slot_at(scene.brand.id, 48)
    csrf = log_in(client, scene.expert.email)
    week = slot.starts_at.date().isoformat()
    response = client.post(f"/expert/shifts/{slot.id}/book", data={"csrf_token": csrf, "week": week})
    assert response.status_code == 302
    assert f"week={slot.starts_at.date()}" in response.location  # back to the week the expert was looking at
    html = page(client.get(response.location))
    assert "Booked: Lumière" in html
    assert "Cancel my booking</button>" in html
    assert session.scalar(sa.select(ShiftBooking.status).where(ShiftBooking.slot_id == slot.id)) == BookingStatus.BOOKED


def test_cancelling_from_the_week_view_flashes(client, session, scene):
    slot = slot_at(scene.brand.id, 48)
    ShiftBookingFactory(slot_id=slot.id, expert_id=scene.expert_id)
    csrf = log_in(client, scene.expert.email)
    html = page(client.post(f"/expert/shifts/{slot.id}/cancel", data={"csrf_token": csrf}, follow_redirects=True))
    assert "is cancelled" in html
    assert session.get(ShiftSlot, slot.id, populate_existing=True).booked_count == 0


def test_a_refused_booking_flashes_the_reason(client, session, scene):
    slot = slot_at(scene.brand.id, 48, headcount=1)
    ShiftBookingFactory(slot_id=slot.id, expert_id=EnrolmentFactory(brand_id=scene.brand.id).expert.id)
    csrf = log_in(client, scene.expert.email)
    html = page(client.post(f"/expert/shifts/{slot.id}/book", data={"csrf_token": csrf}, follow_redirects=True))
    assert 'class="flash flash--error"' in html and "All seats are taken." in html


def test_booking_without_the_form_token_is_refused(client, session, scene):
    slot = slot_at(scene.brand.id, 48)
    log_in(client, scene.expert.email)
    assert client.post(f"/expert/shifts/{slot.id}/book", data={}).status_code == 400
    assert session.scalar(sa.select(sa.func.count()).where(ShiftBooking.slot_id == slot.id)) == 0


def test_an_expert_not_yet_approved_sees_why_instead_of_slots(client, session, scene):
    profile = EnrolmentFactory(brand_id=scene.brand.id, expert=ExpertFactory(status=ExpertStatus.APPLIED)).expert
    slot = slot_at(scene.brand.id, 48)
    log_in(client, session.get(User, profile.user_id).email)
    html = page(client.get("/expert/shifts"))
    assert "still under review" in html
    assert f"slot-{slot.id}" not in html


def test_other_roles_cannot_open_the_week_view(client, session, scene):
    log_in(client, scene.admin.email)
    assert client.get("/expert/shifts").status_code == 403


def test_the_home_page_shows_todays_shifts(client, session, scene):
    slot = slot_at(scene.brand.id, -0.5)
    ShiftBookingFactory(slot_id=slot.id, expert_id=scene.expert_id)
    log_in(client, scene.expert.email)
    html = page(client.get("/expert"))
    assert 'data-testid="today-shifts"' in html
    assert "Lumière" in html and paris_time(slot.starts_at) in html and "Under way" in html
    assert 'href="/expert/shifts"' in html


# The brand's page.

def brand_form(day: dt.date, **changes) -> dict:
    return {"date": day.isoformat(), "start": "09:30", "end": "13:00", "headcount": "3", "bonus": "", **changes}


def test_an_admin_publishes_in_brand_time_with_a_bonus_in_currency_units(client, session, scene):
    csrf = log_in(client, scene.admin.email)
    day = utcnow().date() + dt.timedelta(days=3)
    response = client.post(f"/brands/{scene.brand.slug}/shifts",
                           data={**brand_form(day, bonus="7,50"), "csrf_token": csrf})
    assert response.status_code == 302
    slot = session.scalar(sa.select(ShiftSlot).where(ShiftSlot.brand_id == scene.brand.id))
    assert slot.starts_at == dt.datetime.combine(day, dt.time(9, 30), PARIS).astimezone(dt.UTC)
    assert slot.ends_at == dt.datetime.combine(day, dt.time(13), PARIS).astimezone(dt.UTC)
    assert (slot.headcount, slot.bonus_cents) == (3, 750)
    html = page(client.get(response.location))
    assert "Shift published" in html and f'data-testid="brand-slot-{slot.id}"' in html and "€7.50" in html


def test_an_end_before_the_start_is_the_next_morning(client, session, scene):
    csrf = log_in(client, scene.admin.email)
    day = utcnow().date() + dt.timedelta(days=3)
    client.post(f"/brands/{scene.brand.slug}/shifts",
                data={**brand_form(day, start="22:00", end="02:00"), "csrf_token": csrf})
    slot = session.scalar(sa.select(ShiftSlot).where(ShiftSlot.brand_id == scene.brand.id))
    assert slot.ends_at == dt.datetime.combine(day + dt.timedelta(days=1), dt.time(2), PARIS).astimezone(dt.UTC)


def test_a_bad_bonus_gets_a_friendly_error_not_a_500(client, session, scene):
    csrf = log_in(client, scene.admin.email)
    day = utcnow().date() + dt.timedelta(days=3)
    for bonus, message in [("abc", "Enter an amount such as 5 or 7.50."), ("-3", "Enter an amount such as 5"),
                           ("7.555", "Use at most 2 decimals for EUR."), ("1e3", "Enter an amount"),
                           ("99999999", "This bonus is too large.")]:
        response = client.post(f"/brands/{scene.brand.slug}/shifts",
                               data={**brand_form(day, bonus=bonus), "csrf_token": csrf})
        assert response.status_code == 422, bonus
        assert message in page(response), bonus
        assert 'aria-invalid="true"' in page(response)
    assert session.scalar(sa.select(sa.func.count()).where(ShiftSlot.brand_id == scene.brand.id)) == 0


def test_a_start_in_the_past_is_shown_next_to_the_start_field(client, session, scene):
    csrf = log_in(client, scene.admin.email)
    yesterday = utcnow().date() - dt.timedelta(days=1)
    response = client.post(f"/brands/{scene.brand.slug}/shifts", data={**brand_form(yesterday), "csrf_token": csrf})
    assert response.status_code == 422
    assert 'id="start-error"' in page(response) and "must start in the future" in page(response)


def test_a_viewer_sees_the_slots_read_only(client, session, scene):
    viewer = session.get(User, MembershipFactory(brand=scene.brand, role=BrandRole.VIEWER).user_id)
    slot = slot_at(scene.brand.id, 24)
    ShiftBookingFactory(slot_id=slot.id, expert_id=scene.expert_id)
    csrf = log_in(client, viewer.email)
    html = page(client.get(f"/brands/{scene.brand.slug}/shifts"))
    assert f'data-testid="brand-slot-{slot.id}"' in html and scene.profile.display_name in html
    assert "Publish a shift" not in html and "Cancel this shift" not in html
    day = utcnow().date() + dt.timedelta(days=3)
    assert client.post(f"/brands/{scene.brand.slug}/shifts",
                       data={**brand_form(day), "csrf_token": csrf}).status_code == 403
    assert client.post(f"/brands/{scene.brand.slug}/shifts/{slot.id}/cancel",
                       data={"csrf_token": csrf}).status_code == 403


def test_an_admin_cancels_a_slot_from_the_page(client, session, scene):
    slot = slot_at(scene.brand.id, 24)
    csrf = log_in(client, scene.admin.email)
    html = page(client.post(f"/brands/{scene.brand.slug}/shifts/{slot.id}/cancel", data={"csrf_token": csrf},
                            follow_redirects=True))
    assert "The shift is cancelled" in html
    assert session.get(ShiftSlot, slot.id, populate_existing=True).cancelled_at is not None


def test_another_brands_page_is_404(client, session, scene):
    other = BrandFactory()
    log_in(client, scene.admin.email)
    assert client.get(f"/brands/{other.slug}/shifts").status_code == 404
