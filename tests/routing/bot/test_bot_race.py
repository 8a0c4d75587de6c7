"""Rule 16 under real concurrency: the bot never writes in a conversation once it was handed over, whatever the timing
of the bot's answer, the visitor's "Talk to an expert" and the expert's acceptance (real commits, SQLite and
PostgreSQL)."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from marketplace.database import db, utcnow
from marketplace.errors import Conflict, NotFound
from marketplace.experts.models import ExpertPresence, PresenceStatus
from marketplace.faq.models import FaqEntry, FaqSettings
from marketplace.routing.bot import services as bot
from marketplace.routing.bot.models import BotTurn, TurnOutcome
from marketplace.routing.chat.messages import post_message
from marketplace.routing.door import services as door
from marketplace.routing.models import Conversation, ConversationStatus, ExpertLoad, Message, Offer, OfferStatus, Sender
from marketplace.routing.router import offers
from tests.conftest import BACKENDS, committed_database_app
from tests.factories import BrandFactory, EnrolmentFactory
from tests.routing.conftest import visitor_token

QUESTION = "Quels sont vos délais de livraison ?"


@pytest.fixture(scope="module", params=BACKENDS)
def committed_app(request, tmp_path_factory) -> Iterator[Flask]:
    with committed_database_app(request.param, tmp_path_factory.mktemp("bot_race"), "bot_race") as app:
        yield app


@pytest.fixture(scope="module")
def world(committed_app) -> dict:
    with committed_app.app_context():
        brand = BrandFactory(expert_concurrency=10, max_concurrent=500)
        db.session.flush()
        db.session.add(FaqSettings(brand_id=brand.id, bot_enabled=True, threshold=0.3, resolve_after_minutes=10,
                                   credit_cents=0, synonyms="", version=1))
        db.session.add(FaqEntry(brand_id=brand.id, ref="delivery", lang="fr", question=QUESTION,
                                answer="En 2 à 3 jours.", tags=[]))
        expert = EnrolmentFactory(brand_id=brand.id).expert
        now = utcnow()
        db.session.add(ExpertPresence(expert_id=expert.id, status=PresenceStatus.AVAILABLE, changed_at=now,
                                      last_heartbeat_at=now, missed_offers_in_row=0))
        db.session.add(ExpertLoad(expert_id=expert.id, open_chats=0, pending_offers=0))
        db.session.commit()
        return {"key": brand.widget_key, "expert_id": expert.id}


def _accept_when_offered(conversation_id: int, expert_id: int) -> bool:
    offer_id = db.session.scalar(sa.select(Offer.id).where(Offer.conversation_id == conversation_id,
                                                           Offer.status == OfferStatus.PENDING))
    db.session.commit()
    if offer_id is None:
        return False
    try:
        offers.accept_offer(expert_id, offer_id)
    except (Conflict, NotFound):
        return False
    return True


def _assert_rule_16(conversation_id: int) -> list[Sender]:
    """No bot message after the bot's hand-over line; an answered turn's message, if any, came before it."""
    rows = db.session.execute(sa.select(Message.seq, Message.sender, Message.client_id)
                              .where(Message.conversation_id == conversation_id).order_by(Message.seq)).all()
    handover = [row.seq for row in rows if row.client_id.startswith("bot-handover-")]
    assert len(handover) <= 1
    if handover:
        assert not [row for row in rows if row.sender == Sender.BOT and row.seq > handover[0]], rows
    turns = db.session.scalars(sa.select(BotTurn).where(BotTurn.conversation_id == conversation_id)).all()
    for turn in turns:
        if turn.outcome == TurnOutcome.ANSWERED:
            assert turn.bot_seq is not None and (not handover or turn.bot_seq < handover[0])
    db.session.commit()
    return [row.sender for row in rows]


def test_an_answer_computed_while_the_visitor_reaches_an_expert_is_never_written(committed_app, world, monkeypatch):
    """The bot is reading the visitor's question (its answer is being computed) when the visitor asks for a person in
    a second message, which hands the chat over, and the expert accepts and writes: the answer the bot then has for
    the first question is dropped."""
    reading, handed = threading.Event(), threading.Event()
    real_answer = bot.answering.answer
    calls = []

    def slow_answer(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:  # the first question only: the second message is read at once
            reading.set()
            assert handed.wait(20)
        return real_answer(*args, **kwargs)

    monkeypatch.setattr(bot.answering, "answer", slow_answer)
    with committed_app.app_context():
        conversation_id = door.start_conversation(world["key"], visitor_token()).id
    errors: list[BaseException] = []

    def visitor() -> None:
        with committed_app.app_context():
            try:
                post_message(conversation_id, Sender.VISITOR, "v1", QUESTION)  # the bot reads it, slowly
            except BaseException as error:  # noqa: BLE001 - reported by the test thread
                errors.append(error)
                reading.set()

    thread = threading.Thread(target=visitor)
    thread.start()
    try:
        assert reading.wait(20)
        with committed_app.app_context():
            post_message(conversation_id, Sender.VISITOR, "v2", "Je veux parler à un conseiller")
            assert db.session.get(Conversation, conversation_id).status == ConversationStatus.OFFERED
            db.session.commit()
            assert _accept_when_offered(conversation_id, world["expert_id"])
            post_message(conversation_id, Sender.EXPERT, "e1", "Bonjour, je regarde.", expert_id=world["expert_id"])
    finally:
        handed.set()
        thread.join(30)
    assert not errors
    with committed_app.app_context():
        senders = _assert_rule_16(conversation_id)
        # The question, the request, the bot's hand-over line, then the expert.
        assert senders == [Sender.VISITOR, Sender.VISITOR, Sender.BOT, Sender.EXPERT]
        assert db.session.get(Conversation, conversation_id).status == ConversationStatus.ACTIVE
        assert db.session.scalar(sa.select(sa.func.count()).select_from(BotTurn).where(
            BotTurn.conversation_id == conversation_id, BotTurn.outcome == TurnOutcome.ANSWERED)) == 0


def test_racing_visitors_buttons_and_acceptances_never_let_the_bot_write_after_a_hand_over(committed_app, world):
    """Many conversations, each with a visitor writing questions, the same visitor tapping "Talk to an expert" and the
    expert accepting, at random moments in threads of their own."""
    rng = random.Random(16)
    conversation_ids = []
    errors: list[BaseException] = []
    for _round in range(12):
        with committed_app.app_context():
            conversation_id = door.start_conversation(world["key"], visitor_token()).id
        conversation_ids.append(conversation_id)
        delays = [rng.random() / 50 for _ in range(3)]

        def run(action, delay, conversation_id=conversation_id):
            threading.Event().wait(delay)
            with committed_app.app_context():
                try:
                    action(conversation_id)
                except (Conflict, NotFound):
                    pass
                except BaseException as error:  # noqa: BLE001 - reported by the test thread
                    errors.append(error)

        def ask(conversation_id):
            for n in range(3):
                post_message(conversation_id, Sender.VISITOR, f"v{n}", QUESTION)

        def tap(conversation_id):
            bot.give_to_expert(conversation_id, bot.Reason.VISITOR_ASKED)

        def accept(conversation_id):
            for _attempt in range(20):
                if _accept_when_offered(conversation_id, world["expert_id"]):
                    post_message(conversation_id, Sender.EXPERT, "e1", "Bonjour !", expert_id=world["expert_id"])
                    return
                threading.Event().wait(0.01)

        threads = [threading.Thread(target=run, args=(action, delay))
                   for action, delay in zip((ask, tap, accept), delays, strict=True)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert not errors, errors
    with committed_app.app_context():
        handed_over = 0
        for conversation_id in conversation_ids:
            _assert_rule_16(conversation_id)
            status = db.session.get(Conversation, conversation_id).status
            db.session.commit()
            assert status != ConversationStatus.BOT  # the tap always hands over, if nothing else did
            handed_over += status in (ConversationStatus.ACTIVE, ConversationStatus.WAITING,
                                      ConversationStatus.OFFERED)
        assert handed_over == len(conversation_ids)
