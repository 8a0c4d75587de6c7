"""The brand's dashboard: figures of the brand's own day, cap use, quarters of an hour, the page and its JSON."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from marketplace.accounts.models import Role, User
from marketplace.brands.models import Brand, BrandRole
from marketplace.database import db, utcnow
from marketplace.errors import NotFound
from marketplace.experts.models import PresenceSession
from marketplace.routing.console import dashboard
from marketplace.routing.models import BrandLoad, ConversationStatus, EndReason
from tests.conftest import log_in
from tests.factories import BrandFactory, ConversationFactory, EnrolmentFactory, UserFactory
from tests.routing.conftest import admin_of, arrive, online_expert

UTC = dt.UTC
# 23:30 UTC on 10 March is 12:30 on 11 March in Auckland (UTC+13): the brand's day began at 11:00 UTC.
NOW = dt.datetime(2026, 3, 10, 23, 30, tzinfo=UTC)
DAY_START = dt.datetime(2026, 3, 10, 11, 0, tzinfo=UTC)
WAITING, OFFERED, ACTIVE = ConversationStatus.WAITING, ConversationStatus.OFFERED, ConversationStatus.ACTIVE
ABANDONED, MISSED, CAPPED = ConversationStatus.ABANDONED, ConversationStatus.MISSED, ConversationStatus.CAPPED


def at(hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, 10, hour, minute, second, tzinfo=UTC)


def _ops() -> User:
    return UserFactory(role=Role.OPS)


@pytest.fixture
def auckland(session) -> Brand:
    brand = BrandFactory(timezone="Pacific/Auckland", currency="NZD", service_level_seconds=60,
                         service_level_percent=80)
    session.flush()
    return brand


def test_todays_figures_follow_the_brands_own_day_and_the_service_level_counts_only_decided_chats(
        session, auckland):
    expert = online_expert(auckland)
    # 23:59 on 10 March in Auckland: yesterday.
    ConversationFactory(brand=auckland, created_at=at(10, 59), reply_after=5, rating=1)
    ConversationFactory(brand=auckland, created_at=at(11, 5), reply_after=60, rating=5)  # exactly on the target: within
    # Answered late.
    ConversationFactory(brand=auckland, created_at=at(11, 10), status=ACTIVE, reply_after=61, expert=expert)
    # Still inside the target: not decided.
    ConversationFactory(brand=auckland, created_at=NOW - dt.timedelta(seconds=30), status=WAITING)
    # Waited past the target: decided, not within.
    ConversationFactory(brand=auckland, created_at=NOW - dt.timedelta(minutes=5), status=OFFERED)
    ConversationFactory(brand=auckland, created_at=at(12), status=ABANDONED, end_reason=EndReason.LEFT)
    ConversationFactory(brand=auckland, created_at=at(12, 30), status=MISSED, end_reason=EndReason.MAX_WAIT)
    # Closed without a reply.
    ConversationFactory(brand=auckland, created_at=at(13), end_reason=EndReason.INACTIVITY, reply_after=None, rating=2)
    for reason in (EndReason.CLOSED_HOURS, EndReason.CLOSED_HOURS, EndReason.MAX_CONCURRENT,
                   EndReason.MAX_ACTIVE_EXPERTS, EndReason.DAILY_CAP, EndReason.MONTHLY_BUDGET):
        ConversationFactory(brand=auckland, created_at=at(14), status=CAPPED, end_reason=reason)
    # Yesterday's refusal.
    ConversationFactory(brand=auckland, created_at=at(10, 0), status=CAPPED, end_reason=EndReason.DAILY_CAP)

    board = dashboard.brand_dashboard(_ops(), auckland.id, now=NOW)

    assert board.day == dt.date(2026, 3, 11)
    assert (board.waiting, board.active, board.experts_online) == (2, 1, 1)
    assert (board.arrivals, board.answered, board.missed, board.abandoned) == (7, 2, 1, 1)
    assert board.abandonment_share == pytest.approx(1 / 7)
    assert board.refusals == {"closed_hours": 2, "max_concurrent": 1, "max_active_experts": 1, "daily_cap": 1,
                              "monthly_budget": 1}
    assert board.refused == 6
    level = board.service_level
    assert (level.within, level.decided, level.target_seconds, level.target_percent) == (1, 6, 60, 80)
    assert level.share == pytest.approx(1 / 6) and level.met is False
    assert (board.rating.average, board.rating.count) == (3.5, 2)


def test_an_empty_day_has_no_shares_rather_than_zero(session, auckland):
    board = dashboard.brand_dashboard(_ops(), auckland.id, now=NOW)
    assert (board.arrivals, board.abandonment_share, board.service_level.share, board.service_level.met) == \
        (0, None, None, None)
    assert (board.rating.average, board.rating.count) == (None, 0)
    assert board.refusals == dict.fromkeys(
        ("closed_hours", "max_concurrent", "max_active_experts", "daily_cap", "monthly_budget"), 0)


def test_cap_use_reads_todays_counters_and_shows_no_cap_as_none(session, auckland):
    auckland.max_concurrent, auckland.daily_cap, auckland.monthly_budget_cents = 10, 20, 100_000
    working = online_expert(auckland)
    ConversationFactory(brand=auckland, created_at=at(11), status=ACTIVE, reply_after=10, expert=working)
    ConversationFactory(brand=auckland, created_at=at(12), status=WAITING)
    session.add(BrandLoad(brand_id=auckland.id, open_conversations=2, pending_offers=0, day=dt.date(2026, 3, 11),
                          day_accepted=4, month="2026-03", month_committed_cents=1234, refusals=0))
    session.flush()

    caps = {use.name: use for use in dashboard.brand_dashboard(_ops(), auckland.id, now=NOW).caps}

    assert [(caps[n].used, caps[n].cap) for n in ("max_concurrent", "max_active_experts", "daily_cap",
                                                   "monthly_budget_cents")] == \
        [(2, 10), (1, None), (4, 20), (1234, 100_000)]
    assert caps["max_concurrent"].share == pytest.approx(0.2) and caps["max_active_experts"].share is None


def test_yesterdays_counters_read_as_zero_and_are_left_as_they_are(session, auckland):
    auckland.daily_cap, auckland.monthly_budget_cents = 5, 1000
    session.add(BrandLoad(brand_id=auckland.id, open_conversations=0, pending_offers=0, day=dt.date(2026, 3, 10),
                          day_accepted=5, month="2026-02", month_committed_cents=900, refusals=3))
    session.flush()

    caps = {use.name: use for use in dashboard.brand_dashboard(_ops(), auckland.id, now=NOW).caps}

    assert (caps["daily_cap"].used, caps["monthly_budget_cents"].used) == (0, 0)
    load = session.get(BrandLoad, auckland.id, populate_existing=True)
    assert (load.day, load.day_accepted, load.month, load.month_committed_cents) == \
        (dt.date(2026, 3, 10), 5, "2026-02", 900)


def test_arrivals_land_in_the_quarter_of_the_brands_day_they_arrived_in(session, auckland):
    ConversationFactory(brand=auckland, created_at=at(10, 59, 59), reply_after=1)  # yesterday
    ConversationFactory(brand=auckland, created_at=at(11, 0), reply_after=10)
    ConversationFactory(brand=auckland, created_at=at(11, 14, 59), reply_after=120)
    ConversationFactory(brand=auckland, created_at=at(11, 15), reply_after=30)  # on the boundary: the second quarter
    ConversationFactory(brand=auckland, created_at=at(12, 0), status=ABANDONED)
    # Refused: not an arrival.
    ConversationFactory(brand=auckland, created_at=at(12, 5), status=CAPPED, end_reason=EndReason.DAILY_CAP)
    ConversationFactory(brand=auckland, created_at=NOW, status=WAITING)

    intervals = dashboard.brand_dashboard(_ops(), auckland.id, now=NOW).intervals

    assert len(intervals) == 96
    assert intervals[0].start == DAY_START and intervals[95].start == DAY_START + dt.timedelta(hours=23, minutes=45)
    counts = {i: (q.arrivals, q.answered_within_target) for i, q in enumerate(intervals) if q.arrivals}
    assert counts == {0: (2, 1), 1: (1, 1), 4: (1, 0), 50: (1, 0)}
    assert intervals[50].arrivals == 1 and intervals[51].arrivals is None  # 12:45 in Auckland has not begun
    assert intervals[51].answered_within_target is None and intervals[51].experts_online is None


def test_experts_online_per_quarter_come_from_the_brands_approved_experts_sessions(session, auckland):
    came_and_went = EnrolmentFactory(brand_id=auckland.id).expert
    all_day = online_expert(auckland)
    elsewhere = online_expert(BrandFactory())
    session.add_all([
        PresenceSession(expert_id=came_and_went.id, started_at=at(11, 20), ended_at=at(11, 40)),
        PresenceSession(expert_id=came_and_went.id, started_at=at(11, 50), ended_at=at(12, 0)),
        PresenceSession(expert_id=came_and_went.id, started_at=at(11, 52), ended_at=at(11, 55)),  # same quarter
        PresenceSession(expert_id=all_day.id, started_at=at(10, 0), ended_at=None),
        PresenceSession(expert_id=elsewhere.id, started_at=at(11, 20), ended_at=None),
    ])
    session.flush()

    board = dashboard.brand_dashboard(_ops(), auckland.id, now=NOW)

    online = [q.experts_online for q in board.intervals]
    assert online[:6] == [1, 2, 2, 2, 1, 1]  # 12:00 ends a session: it is not in the quarter from 12:00
    assert online[50] == 1 and online[51] is None
    assert board.experts_online == 1  # now: the one still available, not the other brand's expert


def test_a_day_the_clocks_go_forward_has_92_quarters(session):
    paris = BrandFactory(timezone="Europe/Paris")
    intervals = dashboard.brand_dashboard(_ops(), paris.id, now=dt.datetime(2026, 3, 29, 12, tzinfo=UTC)).intervals
    assert len(intervals) == 92
    assert intervals[8].start == dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 03:00 in Paris, after the jump


def test_another_brands_member_cannot_read_the_figures(session, auckland):
    outsider = admin_of(session, BrandFactory())
    with pytest.raises(NotFound):
        dashboard.brand_dashboard(outsider, auckland.id, now=NOW)


# The page and the API, on the real clock.

def _refused_and_waiting(brand: Brand) -> None:
    """One visitor let in (nobody online: they wait), the next refused at the door for max_concurrent."""
    brand.max_concurrent, brand.monthly_budget_cents = 1, 100_000
    db.session.commit()
    arrive(brand)
    refused = arrive(brand)
    assert refused.status == ConversationStatus.CAPPED and refused.end_reason == EndReason.MAX_CONCURRENT


def test_the_page_renders_for_a_viewer_with_caps_as_text_and_money_in_the_brands_currency(client, session, brand):
    _refused_and_waiting(brand)
    viewer = admin_of(session, brand, BrandRole.VIEWER)
    viewer.locale = "en"
    session.commit()
    log_in(client, viewer.email)

    page = client.get(f"/brands/{brand.slug}/dashboard")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="dashboard-data"' in html and 'class="console-tabs"' in html
    assert 'data-figure="waiting">1<' in html and 'data-figure="refused">1<' in html
    assert 'data-reason="max_concurrent">1<' in html
    assert "1 of 1" in html and "reached: new chats are refused" in html  # the full cap, said in words
    assert "€0.00 of €1,000.00" in html and "no cap" in html  # budget in euros; daily cap unset
    assert 'data-chart="arrivals" role="img" aria-label="Arrivals per quarter of an hour today: 1 in all' in html
    assert 'data-testid="dashboard-intervals"' in html


@pytest.mark.parametrize("role", [Role.FINANCE, Role.OPS])
def test_finance_and_ops_may_open_the_page(client, session, brand, role):
    user = UserFactory(role=role)
    session.commit()
    log_in(client, user.email)
    assert client.get(f"/brands/{brand.slug}/dashboard").status_code == 200


def test_another_brands_member_gets_404_on_the_page_and_the_api(client, session, brand):
    log_in(client, admin_of(session, BrandFactory()).email)
    assert client.get(f"/brands/{brand.slug}/dashboard").status_code == 404
    assert client.get(f"/api/v1/brands/{brand.id}/dashboard").status_code == 404


def test_an_expert_may_not_open_the_page(client, session, brand):
    expert = online_expert(brand)
    session.commit()
    log_in(client, session.get(User, expert.user_id).email)
    assert client.get(f"/brands/{brand.slug}/dashboard").status_code == 403


def test_the_api_answers_the_figures_as_json(client, session, brand):
    _refused_and_waiting(brand)
    log_in(client, admin_of(session, brand, BrandRole.VIEWER).email)

    response = client.get(f"/api/v1/brands/{brand.id}/dashboard")

    assert response.status_code == 200
    data = response.json
    assert (data["brand_id"], data["currency"], data["timezone"]) == (brand.id, "EUR", "Europe/Paris")
    assert (data["waiting"], data["active"], data["experts_online"], data["arrivals"], data["refused"]) == \
        (1, 0, 0, 1, 1)
    assert data["refusals"]["max_concurrent"] == 1 and data["refusals"]["daily_cap"] == 0
    assert data["abandonment_share"] == 0.0
    assert data["service_level"]["target_seconds"] == brand.service_level_seconds
    assert data["service_level"]["decided"] == 0 and data["service_level"]["share"] is None
    assert data["rating"] == {"average": None, "count": 0}
    assert {c["name"]: (c["used"], c["cap"]) for c in data["caps"]} == {
        "max_concurrent": (1, 1), "max_active_experts": (0, None), "daily_cap": (0, None),
        "monthly_budget_cents": (0, 100_000)}
    assert len(data["intervals"]) in (92, 96, 100)
    begun = [q for q in data["intervals"] if q["arrivals"] is not None]
    assert sum(q["arrivals"] for q in begun) == 1
    assert dt.date.fromisoformat(data["day"]) == utcnow().astimezone(zoneinfo.ZoneInfo("Europe/Paris")).date()


def test_the_service_level_counts_from_the_bots_hand_over_not_from_the_time_with_the_bot(session, auckland):
    """Ten minutes with the FAQ bot, then an expert answered 30 s after the hand-over: within a 60 s target. The bot's
    time is not the experts'."""
    handed = ConversationFactory(brand=auckland, created_at=at(12), reply_after=None)
    handed.handed_over_at = at(12, 10)
    handed.first_reply_at = at(12, 10, 30)
    slow = ConversationFactory(brand=auckland, created_at=at(13), reply_after=None)
    slow.handed_over_at = at(13, 10)
    slow.first_reply_at = at(13, 11, 30)  # 90 s after the hand-over: late
    session.flush()
    level = dashboard.brand_dashboard(_ops(), auckland.id, now=NOW).service_level
    assert (level.within, level.decided) == (1, 2)
