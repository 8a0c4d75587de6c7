"""Bursts of arrivals against each demand cap, on SQLite and PostgreSQL with real commits (rule 3).

24 visitors arrive at the same instant; whatever the interleaving, the door lets in exactly what the cap
allows and refuses the rest with the cap's name, every refusal counted. A lowered cap applies to the next one.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from marketplace.accounts.models import Role
from marketplace.brands import program
from marketplace.database import db
from marketplace.routing.chat import messages
from marketplace.routing.door import services as conversations
from marketplace.routing.models import (
    OPEN_STATUSES,
    BrandLoad,
    Conversation,
    ConversationStatus,
    Offer,
    OfferStatus,
    Sender,
)
from marketplace.routing.router import decisions, loads, offers
from tests.conftest import BACKENDS, committed_database_app
from tests.factories import BrandFactory, UserFactory
from tests.routing.conftest import online_expert, visitor_token

BURST = 24


@pytest.fixture(scope="module", params=BACKENDS)
def committed_app(request, tmp_path_factory) -> Iterator[Flask]:
    with committed_database_app(request.param, tmp_path_factory.mktemp("cap_bursts"), "cap_bursts") as app:
        yield app


def burst(app: Flask, widget_key: str, *, answer: bool) -> list[BaseException]:
    """BURST visitors arrive at once; with `answer`, each one offered is accepted and answered by its expert."""
    ready = threading.Barrier(BURST)
    errors: list[BaseException] = []

    def visitor() -> None:
        with app.app_context():
            try:
                ready.wait()
                conversation = conversations.start_conversation(widget_key, visitor_token())
                offer = db.session.scalar(sa.select(Offer).where(Offer.conversation_id == conversation.id,
                                                                 Offer.status == OfferStatus.PENDING))
                db.session.commit()
                if answer and offer is not None:
                    offers.accept_offer(offer.expert_id, offer.id)
                    messages.post_message(conversation.id, Sender.EXPERT, visitor_token()[:32], "Bonjour !",
                                          expert_id=offer.expert_id)
            except BaseException as error:  # noqa: BLE001 - reported by the test
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=visitor) for _ in range(BURST)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if answer:
        answer_late_offers(app)
    return errors


def answer_late_offers(app: Flask) -> None:
    """Accept and answer what the burst left: offers made after their visitor had looked, and conversations
    whose routing found the cap's room held by offers not yet accepted (the scheduler's sweep routes those)."""
    with app.app_context():
        while True:
            decisions.route_all()
            late = db.session.execute(sa.select(Offer.id, Offer.expert_id, Offer.conversation_id)
                                      .where(Offer.status == OfferStatus.PENDING)).all()
            db.session.commit()
            if not late:
                break
            for offer_id, expert_id, conversation_id in late:
                offers.accept_offer(expert_id, offer_id)
                messages.post_message(conversation_id, Sender.EXPERT, visitor_token()[:32], "Bonjour !",
                                      expert_id=expert_id)
        db.session.remove()


def outcome(brand_id: int) -> tuple[Counter, int, BrandLoad]:
    rows = db.session.execute(sa.select(Conversation.status, Conversation.end_reason)
                              .where(Conversation.brand_id == brand_id)).all()
    statuses = Counter("open" if row.status in OPEN_STATUSES else f"{row.status}:{row.end_reason}" for row in rows)
    accepted = db.session.scalar(sa.select(sa.func.count()).where(Conversation.brand_id == brand_id,
                                                                  Conversation.accepted_at.is_not(None)))
    return statuses, accepted, db.session.get(BrandLoad, brand_id, populate_existing=True)


def brand_with_experts(**caps):
    brand = BrandFactory(expert_concurrency=3, **caps)
    for _ in range(10):  # 30 seats: the experts never run out before the cap does
        online_expert(brand)
    found = brand.id, brand.widget_key
    db.session.commit()  # and no transaction left open: on SQLite it would hold the write lock
    return found


def test_a_burst_never_passes_max_concurrent_and_a_lowered_cap_applies_to_the_next_arrival(committed_app):
    with committed_app.app_context():
        brand_id, key = brand_with_experts(max_concurrent=5)
        assert burst(committed_app, key, answer=False) == []
        statuses, _accepted, load = outcome(brand_id)
        assert statuses == {"open": 5, "capped:max_concurrent": BURST - 5}
        assert (load.open_conversations, load.refusals) == (5, BURST - 5)
        program.update_program(UserFactory(role=Role.OPS), brand_id, {"max_concurrent": 4})
        db.session.commit()
        late = conversations.start_conversation(key, visitor_token())
        assert (late.status, late.end_reason) == (ConversationStatus.CAPPED, "max_concurrent")
        assert loads.counters_match() == []


def test_a_burst_never_passes_the_daily_cap(committed_app):
    with committed_app.app_context():
        brand_id, key = brand_with_experts(daily_cap=7)
        assert burst(committed_app, key, answer=True) == []
        statuses, accepted, load = outcome(brand_id)
        assert accepted == 7 and load.day_accepted == 7
        assert statuses == {"open": 7, "capped:daily_cap": BURST - 7}
        assert loads.counters_match() == []


def test_a_burst_never_passes_the_monthly_budget(committed_app):
    with committed_app.app_context():
        brand_id, key = brand_with_experts(price_cents=250, monthly_budget_cents=1_000)
        assert burst(committed_app, key, answer=True) == []
        statuses, accepted, load = outcome(brand_id)
        assert accepted == 4 and load.month_committed_cents == 1_000
        assert statuses == {"open": 4, "capped:monthly_budget": BURST - 4}
        assert loads.counters_match() == []


def test_a_burst_never_uses_more_experts_than_max_active_experts(committed_app):
    with committed_app.app_context():
        brand_id, key = brand_with_experts(max_active_experts=2)
        assert burst(committed_app, key, answer=True) == []
        statuses, _accepted, _load = outcome(brand_id)
        experts = set(db.session.scalars(sa.select(Conversation.expert_id).where(
            Conversation.brand_id == brand_id, Conversation.expert_id.is_not(None))))
        assert len(experts) == 2
        assert statuses == {"open": 6, "capped:max_active_experts": BURST - 6}  # 2 experts x 3 seats
        assert loads.counters_match() == []
