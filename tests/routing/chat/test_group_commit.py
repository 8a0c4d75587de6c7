"""Visitors' messages arriving at the same instant share one commit: each is numbered without gaps, answered only
once that commit is done, and sent to its rooms once; a failed commit answers and stores none of them (rule 8). Real
commits on SQLite and PostgreSQL, each sender a thread with its own session."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from marketplace.database import db
from marketplace.errors import Conflict
from marketplace.extensions import socketio
from marketplace.routing.chat import messages
from marketplace.routing.models import Conversation, ConversationStatus, EndReason, Message, Offer, OfferStatus, Sender
from marketplace.routing.router import admission, offers
from marketplace.shared.rooms import conversation_room, user_room
from tests.conftest import BACKENDS, committed_database_app, gathering_shared_units
from tests.factories import BrandFactory
from tests.routing.conftest import arrive, online_expert


@pytest.fixture(scope="module", params=BACKENDS)
def committed_app(request, tmp_path_factory) -> Iterator[Flask]:
    with committed_database_app(request.param, tmp_path_factory.mktemp("group_commit"), "group_commit") as app:
        yield app


@pytest.fixture
def chats(committed_app) -> list[tuple[int, int]]:
    """Three accepted chats of a new brand, each with its own expert: (conversation id, the expert's user id)."""
    with committed_app.app_context():
        brand = BrandFactory()
        users = {expert.id: expert.user_id for expert in (online_expert(brand) for _ in range(3))}
        db.session.commit()
        made = []
        for _ in users:
            conversation = arrive(brand)
            offer = db.session.scalar(sa.select(Offer).where(Offer.conversation_id == conversation.id,
                                                             Offer.status == OfferStatus.PENDING))
            offers.accept_offer(offer.expert_id, offer.id)
            made.append((conversation.id, users[offer.expert_id]))
        db.session.commit()
    return made


@pytest.fixture
def commits(committed_app) -> Iterator[list[int]]:
    """One entry per transaction the database committed during the test."""
    seen: list[int] = []
    with committed_app.app_context():
        engine = db.engine

    def note(connection) -> None:
        seen.append(1)

    sa.event.listen(engine, "commit", note)
    yield seen
    sa.event.remove(engine, "commit", note)


@pytest.fixture
def emitted(monkeypatch, commits) -> list[tuple[str, str, int, int]]:
    """The `message` events sent: (room, client id, number, how many commits the database had made by then)."""
    sent: list[tuple[str, str, int, int]] = []

    def emit(event, payload, to=None, namespace=None, skip_sid=None, **kwargs):
        if event == "message":
            sent.append((to, payload["client_id"], payload["seq"], len(commits)))

    monkeypatch.setattr(socketio, "emit", emit)
    return sent


def sent_at_once(app: Flask, sends: list[tuple[int, str]]) -> list[object]:
    """Each (conversation id, client id) posted by its visitor from a thread of its own, all gathered into one group;
    what each got back (its Posted) or the exception it got."""
    outcomes: list[object] = [None] * len(sends)

    def send(index: int) -> None:
        conversation_id, client_id = sends[index]
        with app.app_context():
            try:
                outcomes[index] = messages.post_message(conversation_id, Sender.VISITOR, client_id, f"text {client_id}")
            except BaseException as error:  # noqa: BLE001 - compared below
                outcomes[index] = error

    with gathering_shared_units(app, len(sends)):
        threads = [threading.Thread(target=send, args=(index,)) for index in range(len(sends))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a sender is stuck"
    return outcomes


def stored(app: Flask, *conversation_ids: int) -> list[tuple[int, int, str]]:
    with app.app_context():
        rows = db.session.execute(sa.select(Message.conversation_id, Message.seq, Message.client_id)
                                  .where(Message.conversation_id.in_(conversation_ids))
                                  .order_by(Message.conversation_id, Message.seq)).all()
        db.session.rollback()
    return [tuple(row) for row in rows]


def last_numbers(app: Flask, *conversation_ids: int) -> list[int]:
    with app.app_context():
        numbers = [db.session.get(Conversation, conversation_id).last_seq for conversation_id in conversation_ids]
        db.session.rollback()
    return numbers


def test_messages_sent_at_once_share_one_commit_and_each_is_answered_with_its_number(committed_app, chats, emitted,
                                                                                    commits):
    (first, first_expert), (second, second_expert), _ = chats
    outcomes = sent_at_once(committed_app, [(first, "a-1"), (second, "b-1"), (first, "a-2"), (second, "b-2")])
    assert all(isinstance(outcome, messages.Posted) and outcome.created for outcome in outcomes), outcomes
    numbers = {(o.message.conversation_id, o.message.client_id): o.message.seq for o in outcomes}
    # Gapless and in the order they were handed in, per conversation.
    assert numbers == {(first, "a-1"): 1, (first, "a-2"): 2, (second, "b-1"): 1, (second, "b-2"): 2}
    assert len(commits) == 1
    assert stored(committed_app, first, second) == [(first, 1, "a-1"), (first, 2, "a-2"), (second, 1, "b-1"),
                                                   (second, 2, "b-2")]
    assert last_numbers(committed_app, first, second) == [2, 2]
    # Each message once to its visitor's room and once to its expert's, after that commit.
    assert {made for *_, made in emitted} == {1}
    assert sorted(event[:3] for event in emitted) == sorted([
        (conversation_room(first), "a-1", 1), (user_room(first_expert), "a-1", 1),
        (conversation_room(first), "a-2", 2), (user_room(first_expert), "a-2", 2),
        (conversation_room(second), "b-1", 1), (user_room(second_expert), "b-1", 1),
        (conversation_room(second), "b-2", 2), (user_room(second_expert), "b-2", 2)])


def test_a_failed_shared_commit_answers_none_of_its_messages_and_stores_none(committed_app, chats, emitted, commits):
    (first, _), (second, _), _ = chats
    refused = RuntimeError("the commit failed")

    def failing_commit(session) -> None:
        raise refused

    sa.event.listen(db.session.session_factory.class_, "before_commit", failing_commit)
    try:
        outcomes = sent_at_once(committed_app, [(first, "a-1"), (second, "b-1")])
    finally:
        sa.event.remove(db.session.session_factory.class_, "before_commit", failing_commit)
    assert outcomes == [refused, refused]
    assert emitted == [] and commits == []
    assert stored(committed_app, first, second) == []
    assert last_numbers(committed_app, first, second) == [0, 0]  # no number taken, none lost
    # The next messages take the first numbers.
    assert [o.message.seq for o in sent_at_once(committed_app, [(first, "a-1"), (second, "b-1")])] == [1, 1]


def test_a_message_to_an_ended_chat_is_refused_and_the_others_still_share_the_commit(committed_app, chats, emitted,
                                                                                    commits):
    (first, _), (ended, ended_expert), (third, _) = chats
    with committed_app.app_context():
        expert_id = db.session.get(Conversation, ended).expert_id
        admission.end_conversation(ended, ConversationStatus.CLOSED, EndReason.EXPERT, expert_id=expert_id)
    outcomes = sent_at_once(committed_app, [(first, "a-1"), (ended, "x-1"), (third, "c-1")])
    assert isinstance(outcomes[1], Conflict) and outcomes[1].field == "body"
    assert [(o.message.conversation_id, o.message.seq) for o in (outcomes[0], outcomes[2])] == [(first, 1), (third, 1)]
    # The two others were told after one and the same commit: the refusal did not break their group up.
    assert len({made for *_, made in emitted}) == 1
    assert stored(committed_app, first, ended, third) == [(first, 1, "a-1"), (third, 1, "c-1")]
    assert not [event for event in emitted if event[1] == "x-1"]
    assert last_numbers(committed_app, ended) == [0]


def test_a_resend_in_the_same_group_is_the_same_message(committed_app, chats, emitted, commits):
    (first, first_expert), (second, _), _ = chats
    outcomes = sent_at_once(committed_app, [(first, "a-1"), (first, "a-1"), (second, "b-1")])
    assert all(isinstance(outcome, messages.Posted) for outcome in outcomes), outcomes
    assert sorted(o.created for o in outcomes[:2]) == [False, True]
    assert outcomes[0].message.id == outcomes[1].message.id and outcomes[0].message.seq == 1
    assert stored(committed_app, first, second) == [(first, 1, "a-1"), (second, 1, "b-1")]
    assert last_numbers(committed_app, first) == [1]  # the duplicate gave its number back
    # Sent once to each of its two rooms: the resend reaches nobody again.
    assert sorted(room for room, client_id, *_ in emitted if client_id == "a-1") == sorted(
        [conversation_room(first), user_room(first_expert)])
