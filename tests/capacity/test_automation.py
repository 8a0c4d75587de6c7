"""The planner forecasts the human demand: conversations the FAQ bot resolved or still has are no arrivals for
experts, one it handed over counts once, and the plan shows the automation measured."""

from __future__ import annotations

import datetime as dt
import secrets
import zoneinfo

import pytest
import sqlalchemy as sa

from marketplace.brands.models import Brand
from marketplace.capacity import planning
from marketplace.database import db, utcnow
from marketplace.routing import history
from marketplace.routing.bot.models import BotTurn, TurnOutcome
from marketplace.routing.models import Channel, Conversation, ConversationStatus, EndReason
from tests.conftest import log_in
from tests.factories import BrandFactory, ConversationFactory, EnrolmentFactory
from tests.routing.conftest import admin_of

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
WEEKS = 8


def local_today() -> dt.date:
    return utcnow().astimezone(PARIS).date()


def at_ten(day: dt.date, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(10, minute), PARIS).astimezone(dt.UTC)


def resolved_rows(brand_id: int, created: list[dt.datetime]) -> None:
    """Conversations the bot resolved (half confirmed by the visitor), each with the bot's answer; bulk inserted."""
    ids = db.session.scalars(sa.insert(Conversation).returning(Conversation.id, sort_by_parameter_order=True), [
        {"brand_id": brand_id, "status": ConversationStatus.RESOLVED, "priority": 0, "channel": Channel.WEB,
         "end_reason": EndReason.BOT_CONFIRMED if n % 2 else EndReason.BOT_UNCONFIRMED,
         "visitor_token_hash": secrets.token_hex(32), "created_at": at, "queued_at": at, "visitor_seen_at": at,
         "last_activity_at": at, "closed_at": at + dt.timedelta(minutes=10), "last_seq": 2, "expert_read_seq": 0}
        for n, at in enumerate(created)]).all()
    db.session.execute(sa.insert(BotTurn), [
        {"conversation_id": conversation_id, "brand_id": brand_id, "visitor_seq": 1, "outcome": TurnOutcome.ANSWERED,
         "reason": "answered", "confidence": 0.9, "created_at": at}
        for conversation_id, at in zip(ids, created, strict=True)])
    db.session.commit()


def human_history(brand: Brand, expert_id: int, per_day: int) -> None:
    """Every past day of the last WEEKS weeks: `per_day` chats answered by an expert in the 10:00 quarter hour."""
    chats = [history.PastChat(at_ten(local_today() - dt.timedelta(days=days_ago), n),
                              expert_id, 10, 300)
             for days_ago in range(7 * WEEKS, 0, -1) for n in range(per_day)]
    history.record_past_chats(brand.id, chats)


@pytest.fixture
def with_bot(session) -> Brand:
    """10 arrivals every day at 10:00: 6 answered by experts, 4 resolved by the FAQ bot."""
    brand = BrandFactory(name="Atelier", expert_concurrency=2, service_level_percent=80, service_level_seconds=60)
    expert = EnrolmentFactory(brand_id=brand.id).expert
    session.commit()
    human_history(brand, expert.id, 6)
    resolved_rows(brand.id, [at_ten(local_today() - dt.timedelta(days=days_ago), 6 + n)
                             for days_ago in range(7 * WEEKS, 0, -1) for n in range(4)])
    return brand


@pytest.fixture
def without_bot(session) -> Brand:
    """Its twin without a bot: 6 arrivals every day at 10:00, answered by experts."""
    brand = BrandFactory(name="Jumeau", expert_concurrency=2, service_level_percent=80, service_level_seconds=60)
    expert = EnrolmentFactory(brand_id=brand.id).expert
    session.commit()
    human_history(brand, expert.id, 6)
    return brand


def test_a_brand_with_10_arrivals_of_which_4_resolved_by_the_bot_plans_for_6(session, with_bot, without_bot):
    tomorrow = local_today() + dt.timedelta(days=1)
    ten = at_ten(tomorrow)
    member = admin_of(session, with_bot)
    twin_member = admin_of(session, without_bot)

    plan = planning.brand_plan(member, with_bot.id, tomorrow)
    twin = planning.brand_plan(twin_member, without_bot.id, tomorrow)

    quarter = next(q for q in plan.quarters if q.starts_at == ten)
    assert quarter.forecast == pytest.approx(6.0)
    assert [(q.forecast, q.required) for q in plan.quarters] == [(q.forecast, q.required) for q in twin.quarters]
    assert quarter.required > 0 and plan.expected_arrivals == pytest.approx(6.0)


def test_the_plan_shows_the_share_the_bot_resolved_over_the_history_window(client, session, with_bot):
    log_in(client, admin_of(session, with_bot).email)

    automation = client.get(f"/api/v1/brands/{with_bot.id}/plan").json["automation"]

    assert (automation["resolved"], automation["conversations"]) == (4 * 7 * WEEKS, 10 * 7 * WEEKS)
    assert automation["share"] == pytest.approx(0.4)
    page = client.get(f"/brands/{with_bot.slug}/planning").get_data(as_text=True)
    assert 'data-testid="automation"' in page and "40%" in page
    assert f"{4 * 7 * WEEKS} of {10 * 7 * WEEKS} conversations" in page


def test_a_brand_without_the_bot_shows_no_automation_on_its_plan(client, session, without_bot):
    log_in(client, admin_of(session, without_bot).email)
    assert client.get(f"/api/v1/brands/{without_bot.id}/plan").json["automation"]["share"] == 0.0
    assert 'data-testid="automation"' not in client.get(f"/brands/{without_bot.slug}/planning").get_data(as_text=True)


def test_the_history_counts_a_handed_over_conversation_once_and_never_the_bots_own(session):
    brand = BrandFactory(timezone="Europe/Paris")
    session.flush()
    yesterday = local_today() - dt.timedelta(days=1)
    since, until = at_ten(yesterday), at_ten(yesterday, 15)
    for minute in range(5):
        ConversationFactory(brand=brand, created_at=at_ten(yesterday, minute))
    handed_over = ConversationFactory(brand=brand, created_at=at_ten(yesterday, 5))
    session.add_all([
        BotTurn(conversation_id=handed_over.id, brand_id=brand.id, visitor_seq=1, outcome=TurnOutcome.ANSWERED,
                reason="answered", confidence=0.8, helpful=False),
        BotTurn(conversation_id=handed_over.id, brand_id=brand.id, visitor_seq=2, outcome=TurnOutcome.HANDED_OVER,
                reason="not_helpful")])
    session.commit()
    resolved_rows(brand.id, [at_ten(yesterday, 6 + n) for n in range(4)])
    resolved_rows(brand.id, [at_ten(yesterday - dt.timedelta(days=30))])  # older than any expert's chat
    ConversationFactory(brand=brand, status=ConversationStatus.BOT, created_at=utcnow())  # with the bot now

    assert history.arrivals_between(brand.id, since, until) == 6
    assert history.arrivals_by_quarter(brand.id, "Europe/Paris", yesterday, yesterday)[yesterday][40] == 6
    assert history.handling(brand.id, since, until).arrivals == 6
    assert history.arrivals_between(brand.id, utcnow() - dt.timedelta(minutes=15), utcnow()) == 0
    assert history.first_arrival_day(brand.id, "Europe/Paris") == yesterday
    assert history.automation_between(brand.id, since, until) == (4, 10)
