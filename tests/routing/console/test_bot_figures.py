"""The FAQ bot's figures on the dashboard: involvement, resolution, hand-overs, failing entries, the brand's own only;
and the day's chats leaving out the conversations no person was needed for."""

from __future__ import annotations

import datetime as dt

import pytest

from marketplace.accounts.models import Role
from marketplace.brands.models import Brand, BrandRole
from marketplace.database import db, utcnow
from marketplace.faq.models import FaqEntry, FaqSettings
from marketplace.routing.bot.models import BotTurn, TurnOutcome
from marketplace.routing.console import dashboard
from marketplace.routing.console.bot_figures import HANDOVER_REASONS, bot_figures
from marketplace.routing.models import Conversation, ConversationStatus, EndReason
from tests.conftest import log_in
from tests.factories import BrandFactory, ConversationFactory, UserFactory
from tests.routing.conftest import admin_of

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=UTC)  # 16:00 in Paris: the brand's day began at 23:00 UTC
DAY_START, DAY_END = dt.datetime(2026, 3, 9, 23, 0, tzinfo=UTC), dt.datetime(2026, 3, 10, 23, 0, tzinfo=UTC)
BOT, RESOLVED, WAITING = ConversationStatus.BOT, ConversationStatus.RESOLVED, ConversationStatus.WAITING
CLOSED, ABANDONED, CAPPED = ConversationStatus.CLOSED, ConversationStatus.ABANDONED, ConversationStatus.CAPPED
ANSWERED, HANDED_OVER = TurnOutcome.ANSWERED, TurnOutcome.HANDED_OVER


def at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, 10, hour, minute, tzinfo=UTC)


def _ops():
    return UserFactory(role=Role.OPS)


def bot_on(brand: Brand, enabled: bool = True) -> None:
    db.session.add(FaqSettings(brand_id=brand.id, bot_enabled=enabled))
    db.session.flush()


def entry(brand: Brand, ref: str, question: str = "Quel est le délai de livraison ?\nLivrez-vous vite ?") -> FaqEntry:
    row = FaqEntry(brand_id=brand.id, ref=ref, lang="fr", question=question, answer="Trois jours ouvrés.")
    db.session.add(row)
    db.session.flush()
    return row


def chat(brand: Brand, status: ConversationStatus, created_at: dt.datetime, **fields) -> Conversation:
    return ConversationFactory(brand=brand, status=status, created_at=created_at, **fields)


def resolved(brand: Brand, created_at: dt.datetime, confirmed: bool = True) -> Conversation:
    return chat(brand, RESOLVED, created_at,
                end_reason=EndReason.BOT_CONFIRMED if confirmed else EndReason.BOT_UNCONFIRMED)


def turn(conversation: Conversation, seq: int, outcome: TurnOutcome, reason: str, answered_with: FaqEntry | None = None,
         helpful: bool | None = None) -> BotTurn:
    row = BotTurn(conversation_id=conversation.id, brand_id=conversation.brand_id, visitor_seq=seq, outcome=outcome,
                  reason=reason, entry_id=answered_with.id if answered_with else None,
                  confidence=0.9 if answered_with else 0.2, helpful=helpful,
                  created_at=conversation.created_at + dt.timedelta(seconds=seq))
    db.session.add(row)
    db.session.flush()
    return row


@pytest.fixture
def paris(session) -> Brand:
    brand = BrandFactory(timezone="Europe/Paris", service_level_seconds=60)
    session.flush()
    return brand


def test_involvement_and_resolution_count_the_days_conversations_the_bot_answered_first(session, paris):
    bot_on(paris)
    delivery = entry(paris, "delivery")
    confirmed = resolved(paris, at(9))
    turn(confirmed, 1, ANSWERED, "answered", delivery, helpful=True)
    unconfirmed = resolved(paris, at(10), confirmed=False)
    turn(unconfirmed, 1, ANSWERED, "answered", delivery)
    said_no = chat(paris, CLOSED, at(11))
    turn(said_no, 1, ANSWERED, "answered", delivery, helpful=False)
    turn(said_no, 2, HANDED_OVER, "not_helpful")
    asked_a_person = chat(paris, WAITING, NOW - dt.timedelta(seconds=20))  # handed over at once: not involved
    turn(asked_a_person, 1, HANDED_OVER, "asked_for_person")
    chat(paris, CLOSED, at(12))  # no bot turn at all (before the bot was on)
    still_with_bot = chat(paris, BOT, at(14, 55))
    turn(still_with_bot, 1, ANSWERED, "answered", delivery)
    chat(paris, CAPPED, at(13), end_reason=EndReason.DAILY_CAP)  # refused: a conversation of the day all the same
    yesterday = resolved(paris, at(22) - dt.timedelta(days=1))
    turn(yesterday, 1, ANSWERED, "answered", delivery, helpful=True)
    turn(chat(paris, CLOSED, at(22) - dt.timedelta(days=1)), 1, HANDED_OVER, "low_confidence")

    bot = dashboard.brand_dashboard(_ops(), paris.id, now=NOW).bot

    assert bot.bot_enabled is True
    assert (bot.conversations, bot.involved, bot.resolved_confirmed, bot.resolved_unconfirmed) == (7, 4, 1, 1)
    assert bot.involvement_share == pytest.approx(4 / 7)
    assert (bot.resolution_share, bot.confirmed_share, bot.unconfirmed_share) == (0.5, 0.25, 0.25)
    assert bot.with_bot_now == 1
    assert bot.handovers == {**dict.fromkeys(HANDOVER_REASONS, 0), "not_helpful": 1, "asked_for_person": 1}
    assert bot.handed_over == 2


def test_the_failing_entries_are_answers_the_visitor_said_no_to_or_a_hand_over_followed(session, paris):
    bot_on(paris)
    delivery = entry(paris, "delivery")
    returns = entry(paris, "returns", "Comment renvoyer un article ?")
    sizes = entry(paris, "sizes", "Quelle taille choisir ?")
    said_no = chat(paris, CLOSED, at(9))
    turn(said_no, 1, ANSWERED, "answered", delivery, helpful=False)
    turn(said_no, 2, HANDED_OVER, "not_helpful")  # the same failure: counted once
    then_a_person = chat(paris, CLOSED, at(10))
    turn(then_a_person, 1, ANSWERED, "answered", delivery)
    turn(then_a_person, 3, HANDED_OVER, "second_unanswered")
    turn(resolved(paris, at(11)), 1, ANSWERED, "answered", delivery, helpful=True)
    turn(chat(paris, BOT, at(14, 50)), 1, ANSWERED, "answered", returns, helpful=False)
    turn(resolved(paris, at(12), confirmed=False), 1, ANSWERED, "answered", sizes)
    turn(resolved(paris, at(12, 30)), 1, ANSWERED, "answered", sizes, helpful=True)
    two_answers = chat(paris, CLOSED, at(13))  # both of the bot's answers came before the hand-over
    turn(two_answers, 1, ANSWERED, "answered", sizes, helpful=True)
    turn(two_answers, 2, ANSWERED, "answered", returns)
    turn(two_answers, 3, HANDED_OVER, "low_confidence")

    failing = dashboard.brand_dashboard(_ops(), paris.id, now=NOW).bot.failing_entries

    assert [(f.ref, f.question, f.failures, f.answers) for f in failing] == [
        ("delivery", "Quel est le délai de livraison ?", 2, 3), ("returns", "Comment renvoyer un article ?", 2, 2),
        ("sizes", "Quelle taille choisir ?", 1, 3)]
    assert [f.share for f in failing] == [pytest.approx(2 / 3), 1.0, pytest.approx(1 / 3)]


def test_another_brands_conversations_turns_and_entries_never_count(session, paris):
    bot_on(paris)
    other = BrandFactory(timezone="Europe/Paris")
    bot_on(other)
    theirs = entry(other, "delivery")
    mine = entry(paris, "delivery")
    their_chat = chat(other, CLOSED, at(9))
    turn(their_chat, 1, ANSWERED, "answered", theirs, helpful=False)
    turn(their_chat, 2, HANDED_OVER, "not_helpful")
    turn(resolved(other, at(10)), 1, ANSWERED, "answered", theirs, helpful=True)
    chat(other, BOT, at(14))
    turn(resolved(paris, at(11)), 1, ANSWERED, "answered", mine, helpful=True)

    ours = bot_figures(paris.id, DAY_START, DAY_END, with_bot_now=0)
    assert (ours.conversations, ours.involved, ours.resolved, ours.handed_over, ours.failing_entries) == \
        (1, 1, 1, 0, [])
    board = dashboard.brand_dashboard(_ops(), other.id, now=NOW).bot
    assert (board.conversations, board.involved, board.with_bot_now, board.handovers["not_helpful"]) == (3, 2, 1, 1)
    assert [(f.entry_id, f.failures, f.answers) for f in board.failing_entries] == [(theirs.id, 1, 2)]


def test_a_brand_that_never_used_the_bot_has_no_bot_figures(session, paris):
    chat(paris, CLOSED, at(9))
    assert dashboard.brand_dashboard(_ops(), paris.id, now=NOW).bot is None


def test_a_bot_turned_on_without_a_turn_yet_shows_zeros_and_no_shares(session, paris):
    bot_on(paris)
    bot = dashboard.brand_dashboard(_ops(), paris.id, now=NOW).bot
    assert (bot.conversations, bot.involved, bot.resolved, bot.handed_over, bot.failing_entries) == (0, 0, 0, 0, [])
    assert (bot.involvement_share, bot.resolution_share) == (None, None)


def test_a_bot_turned_off_still_shows_the_figures_of_its_past_turns(session, paris):
    bot_on(paris, enabled=False)
    turn(chat(paris, CLOSED, at(9)), 1, HANDED_OVER, "error")
    bot = dashboard.brand_dashboard(_ops(), paris.id, now=NOW).bot
    assert bot.bot_enabled is False and bot.handovers["error"] == 1


# The day's chats: the bot's conversations never reached a person.

def test_conversations_with_the_bot_or_resolved_by_it_are_no_arrivals_nor_abandoned_nor_late(session, paris):
    bot_on(paris)
    delivery = entry(paris, "delivery")
    for hour in (8, 9, 10):
        turn(resolved(paris, at(hour)), 1, ANSWERED, "answered", delivery, helpful=True)
    turn(chat(paris, BOT, at(11)), 1, ANSWERED, "answered", delivery)  # long past the 60 s target: not late
    handed_over = chat(paris, CLOSED, at(12), reply_after=20)  # answered by the bot, then by an expert
    turn(handed_over, 1, ANSWERED, "answered", delivery, helpful=False)
    turn(handed_over, 2, HANDED_OVER, "not_helpful")
    chat(paris, ABANDONED, at(13), end_reason=EndReason.LEFT)

    board = dashboard.brand_dashboard(_ops(), paris.id, now=NOW)

    assert (board.arrivals, board.answered, board.abandoned, board.missed) == (2, 1, 1, 0)
    assert board.abandonment_share == 0.5
    assert (board.service_level.within, board.service_level.decided) == (1, 2)
    assert sum(q.arrivals or 0 for q in board.intervals) == 2  # the handed-over one once, the abandoned one
    assert (board.waiting, board.active, board.bot.with_bot_now) == (0, 0, 1)


# The page and the API.

def test_the_api_answers_the_bot_figures_and_null_for_a_brand_without_the_bot(client, session, brand):
    log_in(client, admin_of(session, brand, BrandRole.VIEWER).email)
    assert client.get(f"/api/v1/brands/{brand.id}/dashboard").json["bot"] is None

    bot_on(brand)
    delivery = entry(brand, "delivery")
    said_no = chat(brand, CLOSED, utcnow() - dt.timedelta(seconds=90))
    turn(said_no, 1, ANSWERED, "answered", delivery, helpful=False)
    turn(said_no, 2, HANDED_OVER, "not_helpful")
    session.commit()

    bot = client.get(f"/api/v1/brands/{brand.id}/dashboard").json["bot"]

    assert (bot["bot_enabled"], bot["conversations"], bot["involved"], bot["involvement_share"]) == (True, 1, 1, 1.0)
    assert (bot["resolved"], bot["resolution_share"], bot["handed_over"]) == (0, 0.0, 1)
    assert bot["handovers"]["not_helpful"] == 1 and set(bot["handovers"]) == set(HANDOVER_REASONS)
    assert bot["failing_entries"] == [{"entry_id": delivery.id, "ref": "delivery",
                                       "question": "Quel est le délai de livraison ?", "failures": 1, "answers": 1,
                                       "share": 1.0}]


def test_the_page_shows_the_faq_bot_section_in_french_only_when_the_brand_uses_the_bot(client, session, brand):
    viewer = admin_of(session, brand, BrandRole.VIEWER)
    viewer.locale = "fr"
    session.commit()
    log_in(client, viewer.email)
    assert 'data-testid="dashboard-bot"' not in client.get(f"/brands/{brand.slug}/dashboard").get_data(as_text=True)

    bot_on(brand)
    turn(resolved(brand, utcnow() - dt.timedelta(minutes=2)), 1, ANSWERED, "answered", entry(brand, "delivery"),
         helpful=True)
    session.commit()
    html = client.get(f"/brands/{brand.slug}/dashboard").get_data(as_text=True)

    assert 'data-testid="dashboard-bot"' in html
    assert "Bot FAQ" in html and "Répondues d'abord par le bot" in html
    assert 'data-handover="not_helpful">0<' in html
    assert "Aucune réponse n'a échoué aujourd'hui." in html
