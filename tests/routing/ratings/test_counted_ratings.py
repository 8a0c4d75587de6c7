"""A rating the brand removed counts nowhere: averages, dashboards, invitation ranking, bonuses, searches, exports,
APIs. Each figure is taken before and after the removal, so a test fails if a place still reads the raw rating."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import Role
from marketplace.brands.models import Brand, RateCard
from marketplace.database import utcnow
from marketplace.experts.models import ExpertProfile
from marketplace.payouts.earnings import services as earnings
from marketplace.payouts.models import Earning
from marketplace.routing import history
from marketplace.routing.chat import services as chats
from marketplace.routing.console import dashboard, expert_stats, transcripts
from marketplace.routing.models import Conversation
from marketplace.routing.ratings import services as ratings
from tests.conftest import log_in
from tests.factories import BrandFactory, ClosedChatFactory, ConversationFactory, UserFactory
from tests.routing.conftest import admin_of
from tests.routing.ratings.conftest import expert_of, rated_chat


def remove(session, brand: Brand, expert: ExpertProfile, chat: Conversation) -> None:
    """The expert contests the chat's rating and the brand removes it, as the services do it."""
    contest = ratings.contest_rating(expert.id, chat.id, "Le visiteur était injurieux")
    ratings.decide_contest(admin_of(session, brand), brand.id, contest.id, "removed", "Retirée.")


def test_the_counted_rating_is_null_for_a_removed_one_in_python_and_sql(session, brand, expert, chat):
    assert chat.counted_rating == 1
    remove(session, brand, expert, chat)
    session.refresh(chat)
    assert chat.rating == 1 and chat.counted_rating is None
    counted = session.execute(sa.select(sa.func.count(Conversation.counted_rating),
                                        sa.func.count(Conversation.rating))).one()
    assert tuple(counted) == (0, 1)


def test_a_removed_one_star_no_longer_lowers_the_experts_average_for_the_brand(app, session, brand, expert, chat):
    expert_stats.register(app)
    for _ in range(expert_stats.MIN_RATINGS):
        rated_chat(session, brand, expert, rating=5)
    admin = admin_of(session, brand)
    before = expert_stats.expert_stats(admin, brand.id, {expert.id})[expert.id]
    assert (before.ratings, before.rating_average) == (6, 4.33)
    remove(session, brand, expert, chat)
    after = expert_stats.expert_stats(admin, brand.id, {expert.id})[expert.id]
    assert (after.ratings, after.rating_average) == (5, 5.0)


def test_a_removed_rating_leaves_the_dashboards_average(session):
    brand = BrandFactory(name="Minuit", timezone="UTC")
    expert = expert_of(brand)
    now = dt.datetime(2026, 3, 11, 12, 0, tzinfo=dt.UTC)
    first = ConversationFactory(brand=brand, expert=expert, created_at=now - dt.timedelta(hours=3), rating=1)
    ConversationFactory(brand=brand, expert=expert, created_at=now - dt.timedelta(hours=2), rating=5)
    session.commit()
    ops = UserFactory(role=Role.OPS)
    session.commit()
    board = dashboard.brand_dashboard(ops, brand.id, now=now)
    assert (board.rating.average, board.rating.count) == (3.0, 2)
    remove(session, brand, expert, first)
    board = dashboard.brand_dashboard(ops, brand.id, now=now)
    assert (board.rating.average, board.rating.count) == (5.0, 1)


def test_a_removed_one_star_no_longer_changes_the_invitation_ranking(app, session, brand):
    from marketplace.capacity import pool  # noqa: PLC0415 - the planner sits above routing; only this test needs it

    first, second = expert_of(brand), expert_of(brand)
    session.commit()
    for rating in (5, 5):
        rated_chat(session, brand, first, rating=rating)
    low = rated_chat(session, brand, first, rating=1)
    for rating in (5, 5, 4):
        rated_chat(session, brand, second, rating=rating)
    assert history.ratings_of({first.id, second.id}) == {first.id: (11.0, 3), second.id: (14.0, 3)}
    order = [c.expert_id for c in pool._candidates(brand, set(), utcnow())]
    assert order == [second.id, first.id]
    remove(session, brand, first, low)
    assert history.ratings_of({first.id}) == {first.id: (10.0, 2)}
    order = [c.expert_id for c in pool._candidates(brand, set(), utcnow())]
    assert order == [first.id, second.id]


def test_a_rating_removed_before_the_earning_is_made_earns_no_rating_bonus(session):
    brand = BrandFactory(name="Atelier", price_cents=200)
    card = session.scalar(sa.select(RateCard).where(RateCard.brand_id == brand.id))
    card.bonus_rules = [{"kind": "rating_at_least", "value": 1, "bonus_cents": 50}]  # any rating earns it
    expert = expert_of(brand)
    removed = ClosedChatFactory(brand=brand, expert=expert, rating=1)
    kept = ClosedChatFactory(brand=brand, expert=expert, rating=1)
    session.commit()
    remove(session, brand, expert, removed)
    assert earnings.record_earnings(utcnow()) == 2
    bonus = dict(session.execute(sa.select(Earning.conversation_id, Earning.bonus_cents)).all())
    assert bonus == {removed.id: 0, kept.id: 50}
    assert {chat.conversation_id: chat.rating for chat in history.answered_chats_closed(
        utcnow() - dt.timedelta(hours=1), utcnow())} == {removed.id: None, kept.id: 1}


def test_searches_exports_and_the_brand_api_show_no_removed_rating(client, session, brand, expert, chat):
    admin = admin_of(session, brand)
    assert [r.id for r in transcripts.search_conversations(admin, brand.id, {"rating": 1}).rows] == [chat.id]
    remove(session, brand, expert, chat)
    assert transcripts.search_conversations(admin, brand.id, {"rating": 1}).rows == []
    assert transcripts.search_conversations(admin, brand.id, {"min_rating": 1}).rows == []
    [row] = transcripts.search_conversations(admin, brand.id, {}).rows
    assert (row.rating, row.rating_comment, row.rating_removed) == (None, None, True)
    exported = "".join(transcripts.export_csv(admin, brand.id, {}))
    assert "Nul, il ne savait rien" not in exported
    log_in(client, admin.email)
    [api_row] = client.get(f"/api/v1/brands/{brand.id}/conversations").json["conversations"]
    assert (api_row["rating"], api_row["rating_comment"], api_row["rating_removed"]) == (None, None, True)
    page = client.get(f"/brands/{brand.slug}/conversations/{chat.id}").get_data(as_text=True)
    assert "Nul, il ne savait rien" not in page and "Removed after the expert contested it" in page


def test_the_experts_chat_list_shows_no_removed_rating(session, brand, expert, chat):
    assert chats.chat_summary(chat)["visitor_rating"] == 1
    remove(session, brand, expert, chat)
    summary = chats.chat_summary(session.get(Conversation, chat.id))
    assert (summary["visitor_rating"], summary["visitor_comment"]) == (None, None)


@pytest.mark.parametrize("rating", [5, 1])
def test_a_pending_or_kept_contest_leaves_the_rating_counted(session, brand, expert, rating):
    chat = rated_chat(session, brand, expert, rating=rating)
    contest = ratings.contest_rating(expert.id, chat.id, "Injuste")
    assert history.ratings_of({expert.id}) == {expert.id: (float(rating), 1)}
    ratings.decide_contest(admin_of(session, brand), brand.id, contest.id, "kept", "Non")
    assert history.ratings_of({expert.id}) == {expert.id: (float(rating), 1)}
