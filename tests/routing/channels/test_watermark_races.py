"""A Messenger receipt and the send of a message it covers, taken at the same moment in two transactions, with real
commits on SQLite and PostgreSQL: whichever commits first, the message ends read. On PostgreSQL each transaction
cannot see what the other has not committed, so the receipt and the send both lock the person's watermark row
before they read: the second waits for the first and then sees it."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator

import pytest
from flask import Flask

from marketplace.accounts.models import User
from marketplace.brands.models import BrandRole
from marketplace.database import db, unit_of_work, utcnow
from marketplace.routing import events
from marketplace.routing.channels import connections, outbound, statuses
from marketplace.routing.channels.graph import SentMessage
from marketplace.routing.channels.payloads import StatusUpdate
from marketplace.routing.models import (
    Channel,
    ChannelDelivery,
    ConversationStatus,
    DeliveryState,
    Sender,
)
from tests.conftest import BACKENDS, committed_database_app
from tests.factories import MembershipFactory
from tests.factories.routing import ConversationFactory, MessageFactory
from tests.routing.channels.conftest import PERSON

PAGES = (str(page_id) for page_id in itertools.count(107_000_000_000_700))  # one page each: its id is unique
# How long the first transaction stays open after the step the other must not miss: the other runs meanwhile, and
# either waits for it (the lock) or, wrongly, finishes without seeing it.
HELD = 0.5


@pytest.fixture(scope="module", params=BACKENDS)
def committed_app(request, tmp_path_factory) -> Iterator[Flask]:
    with committed_database_app(request.param, tmp_path_factory.mktemp("watermarks"), "watermarks") as app:
        yield app


@pytest.fixture
def message_to_send(committed_app) -> tuple[str, int, int]:
    """A brand's Messenger page, a person's conversation on it and the expert's message waiting to go (committed):
    the page's id, its channel's id and the message's id."""
    page = next(PAGES)
    with committed_app.app_context():
        membership = MembershipFactory(role=BrandRole.ADMIN)
        db.session.commit()
        admin = db.session.get(User, membership.user_id)
        channel = connections.connect_channel(admin, membership.brand.id, {
            "kind": "messenger", "page_id": page, "access_token": "EAAPtoken", "app_secret": "secret",
            "verify_token": "verify"})
        db.session.flush()
        conversation = ConversationFactory(brand=membership.brand, status=ConversationStatus.ACTIVE,
                                           channel=Channel.MESSENGER, channel_id=channel.id, channel_customer=PERSON)
        message = MessageFactory(conversation=conversation, sender=Sender.EXPERT)
        db.session.add(ChannelDelivery(message_id=message.id, conversation_id=conversation.id, channel_id=channel.id,
                                       state=DeliveryState.PENDING, attempts=0, created_at=utcnow(),
                                       next_attempt_at=utcnow()))
        db.session.commit()
        return page, channel.id, message.id


def _in_threads(*steps) -> None:
    errors: list[BaseException] = []

    def run(step) -> None:
        try:
            step()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(step,)) for step in steps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a transaction is stuck"
    assert errors == []


def _read_receipt(page: str, channel_id: int) -> None:
    now = utcnow()
    statuses.apply_status(channel_id, StatusUpdate("messenger", page, None, PERSON, "read", now, up_to=now))


def _final_state(app: Flask, message_id: int) -> DeliveryState:
    with app.app_context():
        return db.session.get(ChannelDelivery, message_id).state


def test_a_read_receipt_whose_transaction_is_open_as_the_send_records_reads_the_message(
        committed_app, message_to_send, monkeypatch):
    page, channel_id, message_id = message_to_send
    handed, receipt_looked = threading.Event(), threading.Event()

    def graph_answers(outgoing):
        handed.set()
        assert receipt_looked.wait(10)
        return SentMessage("m_race_1", PERSON)

    monkeypatch.setattr(outbound, "_call_graph", graph_answers)

    def receipt() -> None:
        with committed_app.app_context():
            assert handed.wait(10)
            with unit_of_work():
                _read_receipt(page, channel_id)  # finds the message not recorded yet
                receipt_looked.set()
                time.sleep(HELD)  # the send records meanwhile, or waits for this commit

    def send() -> None:
        with committed_app.app_context():
            assert outbound.send(message_id)

    _in_threads(receipt, send)
    assert _final_state(committed_app, message_id) == DeliveryState.READ


def test_a_read_receipt_taken_while_the_sends_transaction_is_open_reads_the_message(
        committed_app, message_to_send, monkeypatch):
    page, channel_id, message_id = message_to_send
    recorded = threading.Event()
    monkeypatch.setattr(outbound, "_call_graph", lambda outgoing: SentMessage("m_race_2", PERSON))
    told = events.delivery_changed

    def told_then_held(conversation_id, seq, delivery, expert_user_id):
        told(conversation_id, seq, delivery, expert_user_id)
        if delivery.state == DeliveryState.SENT:  # inside the send's transaction, which has read no watermark
            recorded.set()
            time.sleep(HELD)  # the receipt is taken meanwhile, or waits for this commit

    monkeypatch.setattr(events, "delivery_changed", told_then_held)

    def receipt() -> None:
        with committed_app.app_context():
            assert recorded.wait(10)
            with unit_of_work():
                _read_receipt(page, channel_id)

    def send() -> None:
        with committed_app.app_context():
            assert outbound.send(message_id)

    _in_threads(receipt, send)
    assert _final_state(committed_app, message_id) == DeliveryState.READ
