"""Forecasts and plans from a brand's history, through the API and the pages."""

from __future__ import annotations

import datetime as dt
import html
import zoneinfo

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import Role, User
from marketplace.brands.models import Brand, BrandRole
from marketplace.capacity import planning
from marketplace.core import staffing
from marketplace.database import utcnow
from marketplace.errors import Forbidden
from marketplace.routing import history
from marketplace.shifts.models import ShiftSlot, SlotSource
from tests.conftest import log_in
from tests.factories import BrandFactory, EnrolmentFactory, ShiftBookingFactory, ShiftSlotFactory, UserFactory
from tests.routing.conftest import admin_of, online_expert
from tests.routing.router.test_live_time import live_away_back_closed

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


def test_ops_see_every_brand_on_the_network_page_and_the_network_day_charted(client, session, steady):
    ops = UserFactory(role=Role.OPS)
    log_in(client, ops.email)
    page = client.get("/ops/capacity")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Atelier" in text and 'data-chart="experts"' in text
    quarters = planning.network_plan(ops, local_today(), "Europe/Paris")
    assert len(quarters) in (92, 96, 100)
    assert sum(q.forecast for q in quarters) == pytest.approx(12.0)  # the one brand with history
    assert max(q.planned for q in quarters) == staffing.staff(8, 900, 300, 2, 0.80, 60).experts


def test_gaps_become_shifts_of_one_to_four_hours_with_the_largest_gap_as_seats():
    starts = [dt.datetime(2026, 12, 1, tzinfo=dt.UTC) + n * planning.QUARTER for n in range(40)]
    gaps = [0, 2, 0, 0, 0, 0, 1, 1, 1, 1, 1, 3, 1] + [1] * 20 + [0] * 7
    slots = planning.gap_slots(gaps, starts)
    assert [(s.starts_at, s.ends_at, s.headcount) for s in slots] == [
        (starts[1], starts[5], 2),  # one short gap: an hour from its start
        (starts[6], starts[22], 3),  # a long gap: four hours at most...
        (starts[22], starts[33], 1),  # ...then the rest of it
    ]
    assert planning.gap_slots([0] * 10, starts[:10]) == []
    assert planning.gap_slots([0, 0, 1], starts[:3])[0].ends_at == starts[2] + planning.QUARTER  # the day ends


def test_the_planner_opens_each_gap_of_the_coming_days_once_with_the_brands_bonus(session, steady):
    steady.planner_bonus_cents = 500
    session.commit()
    opened = planning.publish_open_slots(steady.id)
    ten, two = staffing.staff(8, 900, 300, 2, 0.8, 60).experts, staffing.staff(4, 900, 300, 2, 0.8, 60).experts
    assert len(opened) == 12  # 10:00 and 14:00 (Paris), each of the six days after today
    assert sorted({(s.starts_at.astimezone(PARIS).hour, s.headcount) for s in opened}) == [(10, ten), (14, two)]
    assert all(s.ends_at - s.starts_at == dt.timedelta(hours=1) for s in opened)
    slots = session.scalars(sa.select(ShiftSlot).where(ShiftSlot.brand_id == steady.id)).all()
    assert {(slot.source, slot.bonus_cents) for slot in slots} == {(SlotSource.PLANNER, 500)}
    assert planning.publish_open_slots(steady.id) == []  # the opened seats cover the gaps now


def test_an_admin_sets_the_bonus_and_opens_shifts_from_the_planning_page(client, session, steady):
    log_in(client, admin_of(session, steady).email)
    page = client.get(f"/brands/{steady.slug}/planning").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    bad = client.post(f"/brands/{steady.slug}/planning", data={"csrf_token": token, "bonus": "-3"})
    assert bad.status_code == 422
    done = client.post(f"/brands/{steady.slug}/planning", data={"csrf_token": token, "bonus": "2,50"},
                       follow_redirects=True)
    assert "12 shifts opened" in done.get_data(as_text=True)
    session.expire_all()
    assert session.get(Brand, steady.id).planner_bonus_cents == 250
    assert client.post(f"/api/v1/brands/{steady.id}/open-shifts",
                       headers={"X-CSRFToken": token}).json == []  # nothing left to open
    viewer = admin_of(session, steady, BrandRole.VIEWER)
    client.post("/logout", data={"csrf_token": token})
    log_in(client, viewer.email)
    page = client.get(f"/brands/{steady.slug}/planning").get_data(as_text=True)
    assert "Save and open shifts" not in page
    token = page.split('name="csrf-token" content="')[1].split('"')[0]
    assert client.post(f"/brands/{steady.slug}/planning", data={"csrf_token": token, "bonus": "9"}).status_code == 403


def test_the_forecast_is_explained_in_the_readers_language(client, session, steady):
    log_in(client, admin_of(session, steady).email)
    english = client.get(f"/brands/{steady.slug}/planning").get_data(as_text=True)
    assert "56 days of history: the average of the same weekday over the last 8 weeks, off by 0%" in english
    french = client.get(f"/brands/{steady.slug}/planning", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    text = html.unescape(french.get_data(as_text=True))  # the page writes the apostrophe as &#39;
    assert "56 jours d'historique : la moyenne du même jour de la semaine sur les 8 dernières semaines" in text


def test_a_closed_brand_needs_nobody_whatever_its_history(session, steady):
    steady.opening_hours = {"mon": [["09:00", "12:00"]], "tue": [["09:00", "12:00"]], "wed": [["09:00", "12:00"]],
                            "thu": [["09:00", "12:00"]], "fri": [["09:00", "12:00"]], "sat": [["09:00", "12:00"]],
                            "sun": [["09:00", "12:00"]]}
    session.commit()
    tomorrow = local_today() + dt.timedelta(days=1)
    found = planning.brand_plan(admin_of(session, steady), steady.id, tomorrow)
    by_hour = {q.starts_at.astimezone(PARIS).strftime("%H:%M"): q for q in found.quarters}
    assert by_hour["10:00"].required == staffing.staff(8, 900, 300, 2, 0.8, 60).experts
    assert by_hour["14:00"].forecast == 0 and by_hour["14:00"].required == 0  # closed in the afternoon
    opened = planning.publish_open_slots(steady.id)
    assert {slot.starts_at.astimezone(PARIS).hour for slot in opened} == {10}


def test_a_bad_day_is_refused_naming_the_field(client, session, steady):
    log_in(client, admin_of(session, steady).email)
    answer = client.get(f"/api/v1/brands/{steady.id}/plan?day=someday")
    assert answer.status_code == 422 and answer.mimetype == "application/problem+json"
    assert "day" in answer.json["errors"]


def test_the_bonus_and_the_shifts_it_opens_are_saved_together_or_not_at_all(session, steady, monkeypatch):
    admin = admin_of(session, steady)

    def fail(brand_id, now=None):
        raise RuntimeError("the shifts could not be opened")

    monkeypatch.setattr(planning, "publish_open_slots", fail)
    with pytest.raises(RuntimeError):
        planning.open_shifts_for_gaps(admin, steady.id, bonus_cents=700)
    session.expire_all()
    assert session.get(Brand, steady.id).planner_bonus_cents == 0


def test_only_the_brands_admins_open_shifts(session, steady):
    viewer = admin_of(session, steady, BrandRole.VIEWER)
    with pytest.raises(Forbidden):
        planning.open_shifts_for_gaps(viewer, steady.id, bonus_cents=700)
    session.expire_all()
    assert session.get(Brand, steady.id).planner_bonus_cents == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(ShiftSlot).where(ShiftSlot.brand_id == steady.id)) == 0


def test_asynchronous_chats_are_planned_on_their_live_time_not_their_days_away(client, session, steady):
    expert = online_expert(steady)
    session.commit()
    for _ in range(3):  # 5 minutes live over three days: before, each would have counted as three days of handling
        chat = live_away_back_closed(steady, expert, dt.timedelta(minutes=3), dt.timedelta(days=3),
                                     dt.timedelta(minutes=2))
        assert chat.live_seconds == 300
    tomorrow = local_today() + dt.timedelta(days=1)
    log_in(client, admin_of(session, steady).email)
    plan = client.get(f"/api/v1/brands/{steady.id}/plan?day={tomorrow.isoformat()}").json

    assert plan["handle_s"] == pytest.approx(300.0)  # the steady history's 300 s, and these chats' 300 s live
    ten = dt.datetime.combine(tomorrow, dt.time(10, 0), PARIS).astimezone(dt.UTC).isoformat()
    required = {q["start"]: q["required"] for q in plan["quarters"]}[ten]
    assert required == staffing.staff(8, 900, 300, 2, 0.80, 60).experts
    assert required < staffing.staff(8, 900, (672 * 300 + 3 * (3 * 86400 + 300)) / 675, 2, 0.80, 60).experts
