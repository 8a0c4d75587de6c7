"""Forecasts and plans from a brand's history, through the API and the pages."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from marketplace.accounts.models import Role, User
from marketplace.brands.models import Brand
from marketplace.capacity import planning
from marketplace.core import staffing
from marketplace.database import utcnow
from marketplace.routing import history
from tests.conftest import log_in
from tests.factories import BrandFactory, EnrolmentFactory, ShiftBookingFactory, ShiftSlotFactory, UserFactory
from tests.routing.conftest import admin_of

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def local_today() -> dt.date:
    return utcnow().astimezone(PARIS).date()


def seed_steady_history(brand: Brand, expert_id: int, weeks: int = 8) -> None:
    """Every past day: 8 chats in the 10:00 quarter hour and 4 in the 14:00 one, 300 s each, Paris time."""
    chats = []
    for days_ago in range(7 * weeks, 0, -1):
        day = local_today() - dt.timedelta(days=days_ago)
        for hour, count in ((10, 8), (14, 4)):
            start = dt.datetime.combine(day, dt.time(hour, 0), PARIS).astimezone(dt.UTC)
            chats += [history.PastChat(start + dt.timedelta(seconds=60 * n), expert_id, 10, 300) for n in range(count)]
    history.record_past_chats(brand.id, chats)


@pytest.fixture
def steady(session) -> Brand:
    brand = BrandFactory(name="Atelier", expert_concurrency=2, service_level_percent=80, service_level_seconds=60)
    expert = EnrolmentFactory(brand_id=brand.id).expert
    session.commit()
    seed_steady_history(brand, expert.id)
    return brand


def test_a_steady_history_is_forecast_exactly_and_staffed_by_erlang_c(client, session, steady):
    tomorrow = local_today() + dt.timedelta(days=1)
    log_in(client, admin_of(session, steady).email)
    plan = client.get(f"/api/v1/brands/{steady.id}/plan?day={tomorrow.isoformat()}").json

    by_time = {q["start"]: q for q in plan["quarters"]}
    ten = dt.datetime.combine(tomorrow, dt.time(10, 0), PARIS).astimezone(dt.UTC).isoformat()
    two = dt.datetime.combine(tomorrow, dt.time(14, 0), PARIS).astimezone(dt.UTC).isoformat()
    assert by_time[ten]["forecast"] == pytest.approx(8.0)
    assert by_time[two]["forecast"] == pytest.approx(4.0)
    assert plan["expected_arrivals"] == pytest.approx(12.0)
    assert plan["handle_s"] == pytest.approx(300.0)  # measured: 300 s from acceptance to close
    assert plan["forecast"]["method"] == "same_weekday_average"
    assert plan["forecast"]["wape"] == pytest.approx(0.0)
    expected = staffing.staff(8, 900, 300, 2, 0.80, 60).experts
    assert by_time[ten]["required"] == expected == plan["peak_required"]
    assert by_time[two]["required"] == staffing.staff(4, 900, 300, 2, 0.80, 60).experts
    assert all(q["actual"] is None and q["online"] is None for q in plan["quarters"])  # tomorrow has not begun
    assert sum(q["required"] for q in plan["quarters"]) == by_time[ten]["required"] + by_time[two]["required"]


def test_booked_seats_close_the_gap_and_caps_bound_the_plan(client, session, steady):
    tomorrow = local_today() + dt.timedelta(days=1)
    ten = dt.datetime.combine(tomorrow, dt.time(10, 0), PARIS).astimezone(dt.UTC)
    slot = ShiftSlotFactory(brand_id=steady.id, starts_at=ten - dt.timedelta(hours=1),
                            ends_at=ten + dt.timedelta(hours=1))
    ShiftBookingFactory(slot_id=slot.id)
    steady.max_active_experts = 1
    session.commit()
    found = planning.brand_plan(admin_of(session, steady), steady.id, tomorrow)
    quarter = next(q for q in found.quarters if q.starts_at == ten)
    assert quarter.booked == 1
    assert quarter.planned == 1 and quarter.gap == 0


def test_a_brand_without_history_plans_nobody_and_says_why(client, session):
    brand = BrandFactory()
    session.commit()
    found = planning.brand_plan(admin_of(session, brand), brand.id, local_today())
    assert found.expected_arrivals == 0 and found.peak_required == 0
    assert "no" in found.forecast.reason.lower()


def test_the_planning_page_draws_tomorrow_and_other_brands_cannot_see_it(client, session, steady):
    tomorrow = local_today() + dt.timedelta(days=1)
    log_in(client, admin_of(session, steady).email)
    page = client.get(f"/brands/{steady.slug}/planning?day={tomorrow.isoformat()}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-chart="arrivals"' in text and 'data-chart="experts"' in text and "plan-data" in text
    assert "same weekday" in text
    assert client.get(f"/brands/{steady.slug}/planning?day=someday").status_code == 400
    assert client.get(f"/brands/{steady.slug}/planning?day=2001-01-01").status_code == 400
    other = BrandFactory()
    session.commit()
    assert client.get(f"/brands/{other.slug}/planning").status_code == 404
    assert client.get(f"/api/v1/brands/{other.id}/plan").status_code == 404


def test_the_demand_map_shows_an_expert_the_hours_still_short_of_experts(client, session, steady):
    expert = EnrolmentFactory(brand_id=steady.id).expert
    session.commit()
    log_in(client, session.get(User, expert.user_id).email)
    rows = client.get("/api/v1/experts/me/demand").json
    assert [row["brand_name"] for row in rows] == ["Atelier"]
    wanted = [cell for cell in rows[0]["hours"] if cell["wanted"]]
    local_hours = {dt.datetime.fromisoformat(cell["starts_at"]).astimezone(PARIS).hour for cell in wanted}
    assert local_hours == {10, 14}
    assert len(wanted) in (12, 13, 14)  # two hours a day for a week (today's may have passed)
    page = client.get("/expert/demand").get_data(as_text=True)
    assert "Where demand is this week" in page and "Atelier" in page


def test_ops_see_every_brand_on_the_network_page(client, session, steady):
    log_in(client, UserFactory(role=Role.OPS).email)
    page = client.get("/ops/capacity")
    assert page.status_code == 200
    assert "Atelier" in page.get_data(as_text=True)
