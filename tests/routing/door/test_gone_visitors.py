"""The routing sweep notices chats whose visitor's page went silent (`notice_gone_visitors`), however many at once:
marked in a few statements a batch, each expert told once per chat, a visitor who came back meanwhile left alone, and
a run capped (those silent longest first), yielding to the process's other work between batches."""

from __future__ import annotations

import datetime as dt
import secrets
from collections import Counter
from collections.abc import Iterator, Sequence

import pytest
import sqlalchemy as sa

from marketplace.database import db, utcnow
from marketplace.experts.models import ExpertProfile
from marketplace.extensions import socketio
from marketplace.routing.door import departures
from marketplace.routing.door import services as conversations
from marketplace.routing.models import (
    Channel,
    Conversation,
    ConversationStatus,
    ExpertLoad,
    Offer,
    OfferStatus,
)
from marketplace.routing.router import loads, offers
from tests.routing.conftest import arrive, online_expert, received, visitor_token

SILENT = dt.timedelta(minutes=5)  # well past VISITOR_GRACE_SECONDS


def silent_chats(brand, experts: Sequence[ExpertProfile], count: int, *, silent_for: dt.timedelta = SILENT,
                 step: dt.timedelta = dt.timedelta(0)) -> list[int]:
    """`count` active chats of the brand, shared among `experts`, whose visitor left no way back and whose page was
    last seen `silent_for` ago (each next one `step` later); written in one statement, counted in the loads. Their
    ids, committed."""
    seen = utcnow() - silent_for
    rows = [{"brand_id": brand.id, "channel": Channel.WEB, "status": ConversationStatus.ACTIVE,
             "visitor_token_hash": secrets.token_hex(32), "created_at": seen - dt.timedelta(minutes=1),
             "queued_at": seen - dt.timedelta(minutes=1), "accepted_at": seen - dt.timedelta(minutes=1),
             "visitor_seen_at": seen + n * step, "last_activity_at": seen, "expert_id": experts[n % len(experts)].id}
            for n in range(count)]
    ids = list(db.session.scalars(sa.insert(Conversation).returning(Conversation.id, sort_by_parameter_order=True),
                                  rows))
    for expert, chats in Counter(row["expert_id"] for row in rows).items():
        db.session.execute(sa.update(ExpertLoad).where(ExpertLoad.expert_id == expert)
                           .values(open_chats=ExpertLoad.open_chats + chats))
    load, _ = loads.lock_brand(brand.id)
    load.open_conversations += count
    db.session.commit()
    return ids


def reachable_chat(brand, *, silent_for: dt.timedelta = SILENT) -> int:
    """A chat accepted by the expert it was offered to, whose visitor gave an address (a way back), their page last
    seen `silent_for` ago."""
    token = visitor_token()
    conversation = arrive(brand, token)
    offer = db.session.scalar(sa.select(Offer).where(Offer.conversation_id == conversation.id,
                                                     Offer.status == OfferStatus.PENDING))
    offers.accept_offer(offer.expert_id, offer.id)
    conversations.give_email(brand.widget_key, token, conversation.id, f"v{conversation.id}@example.com", True)
    db.session.execute(sa.update(Conversation).where(Conversation.id == conversation.id)
                       .values(visitor_seen_at=utcnow() - silent_for))
    db.session.commit()
    return conversation.id


def state_of(ids: Sequence[int]) -> dict[int, tuple[ConversationStatus, bool]]:
    """Each chat's status and whether it is marked as left."""
    rows = db.session.execute(sa.select(Conversation.id, Conversation.status, Conversation.visitor_left_at)
                              .where(Conversation.id.in_(ids))).all()
    db.session.commit()
    return {row.id: (row.status, row.visitor_left_at is not None) for row in rows}


def marked(ids: Sequence[int]) -> set[int]:
    return {id_ for id_, (_, left) in state_of(ids).items() if left}


class Statements:
    """The statements sent to the database while it is open."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def __call__(self, connection, cursor, statement, *args) -> None:
        self.sent.append(statement)

    def __len__(self) -> int:
        return len(self.sent)

    def transactions(self) -> int:
        return sum(statement.startswith(("BEGIN", "SAVEPOINT")) for statement in self.sent)


@pytest.fixture
def statements(session) -> Iterator[Statements]:
    """The statements sent from here on (clear `sent` to start counting again)."""
    recorded = Statements()
    sa.event.listen(db.engine, "before_cursor_execute", recorded)
    try:
        yield recorded
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", recorded)


@pytest.fixture
def experts(session, brand) -> list[ExpertProfile]:
    profiles = [online_expert(brand) for _ in range(3)]
    session.commit()
    return profiles


def test_three_hundred_gone_visitors_cost_the_statements_of_a_few_batches_not_a_transaction_each(
        session, brand, experts, statements, monkeypatch):
    few = silent_chats(brand, experts, 30)
    statements.sent.clear()
    assert departures.notice_gone_visitors(utcnow()) == 30
    for_few, transactions_for_few = len(statements), statements.transactions()
    many = silent_chats(brand, experts, 300)
    monkeypatch.setattr(departures, "MARK_BATCH", 100)  # three batches
    statements.sent.clear()
    assert departures.notice_gone_visitors(utcnow()) == 300
    for_many, transactions_for_many = len(statements), statements.transactions()
    assert marked(few + many) == set(few + many)
    # The read, then each batch's statement, its chats' details for the experts, and commit: per batch, never per chat.
    assert for_few <= 14 and transactions_for_few <= 2
    assert for_many <= 3 * for_few and transactions_for_many <= 4


def test_a_visitor_whose_page_checks_in_between_the_read_and_the_write_is_not_marked_nor_moved(
        session, brand, experts, monkeypatch):
    brand.async_expert_limit = 5
    session.commit()
    [stays, goes] = silent_chats(brand, experts, 2)
    comes_back = reachable_chat(brand)
    real_end_read = departures.end_read

    def visitors_come_back() -> None:  # the sweep has read who is gone: two visitors' pages check in again
        real_end_read()
        conversations.visitor_seen(stays)
        conversations.visitor_seen(comes_back)

    monkeypatch.setattr(departures, "end_read", visitors_come_back)
    assert departures.notice_gone_visitors(utcnow()) == 1
    assert state_of([stays, goes, comes_back]) == {
        stays: (ConversationStatus.ACTIVE, False), goes: (ConversationStatus.ACTIVE, True),
        comes_back: (ConversationStatus.ACTIVE, False)}
    assert loads.counters_match() == []


def test_the_expert_is_told_once_per_chat_whether_it_was_marked_or_went_asynchronous(
        session, brand, expert_socket):
    expert, sio = expert_socket
    brand.async_expert_limit = 5
    session.commit()
    moved = reachable_chat(brand)
    left = silent_chats(brand, [expert], 4)
    received(sio, "chat")
    assert departures.notice_gone_visitors(utcnow()) == 5
    told = received(sio, "chat")
    assert Counter(chat["conversation_id"] for chat in told) == Counter([moved, *left])
    by_id = {chat["conversation_id"]: chat for chat in told}
    assert by_id[moved]["status"] == "asynchronous"
    assert all(by_id[id_]["status"] == "active" and by_id[id_]["visitor_left_at"] is not None for id_ in left)
    assert departures.notice_gone_visitors(utcnow()) == 0
    assert received(sio, "chat") == []
    assert loads.counters_match() == []


def test_a_run_marks_at_most_its_share_and_the_next_run_takes_the_rest_silent_longest_first(
        session, brand, experts, monkeypatch):
    monkeypatch.setattr(departures, "MOST_MARKED_PER_RUN", 10)
    monkeypatch.setattr(departures, "MARK_BATCH", 4)
    # Each next one seen a second earlier: the order is the silence's, not the ids'.
    ids = silent_chats(brand, experts, 25, step=dt.timedelta(seconds=-1))[::-1]
    assert departures.notice_gone_visitors(utcnow()) == 10
    assert marked(ids) == set(ids[:10])
    assert departures.notice_gone_visitors(utcnow()) == 10
    assert marked(ids) == set(ids[:20])
    assert departures.notice_gone_visitors(utcnow()) == 5
    assert departures.notice_gone_visitors(utcnow()) == 0


def test_a_run_moves_at_most_its_share_to_the_asynchronous_lists_the_next_run_the_rest(
        session, brand, monkeypatch):
    monkeypatch.setattr(departures, "MOST_MOVED_PER_RUN", 2)
    monkeypatch.setattr(departures, "MOVE_BATCH", 1)
    brand.expert_concurrency, brand.async_expert_limit = 3, 3
    online_expert(brand)
    session.commit()
    ids = [reachable_chat(brand, silent_for=SILENT - dt.timedelta(seconds=n)) for n in range(3)]
    assert departures.notice_gone_visitors(utcnow()) == 2
    # The third is left as it was for the next run (not marked instead: it may still go asynchronous).
    assert [state_of(ids)[id_] for id_ in ids] == [(ConversationStatus.ASYNCHRONOUS, True)] * 2 + [
        (ConversationStatus.ACTIVE, False)]
    assert departures.notice_gone_visitors(utcnow()) == 1
    assert {status for status, _ in state_of(ids).values()} == {ConversationStatus.ASYNCHRONOUS}
    assert loads.counters_match() == []


def test_the_sweep_lets_the_process_run_other_work_between_batches(session, brand, experts, monkeypatch):
    monkeypatch.setattr(departures, "MARK_BATCH", 2)
    silent_chats(brand, experts, 5)
    done: list[str] = []
    monkeypatch.setattr(socketio, "sleep", lambda seconds: done.append(f"yield {seconds}"))
    real_mark = departures._mark_gone

    def mark(ids, *args):
        done.append(f"batch of {len(ids)}")
        return real_mark(ids, *args)

    monkeypatch.setattr(departures, "_mark_gone", mark)
    assert departures.notice_gone_visitors(utcnow()) == 5
    assert done == ["batch of 2", "yield 0", "batch of 2", "yield 0", "batch of 1", "yield 0"]


def test_an_empty_chat_whose_visitor_went_while_it_was_offered_is_offered_again_once_declined(
        session, brand, experts):
    conversation = arrive(brand)  # on the page, not a word yet
    first = db.session.scalar(sa.select(Offer).where(Offer.conversation_id == conversation.id))
    # The visitor's page went while the offer waited (as the sweep marks a held chat); then the expert says no.
    db.session.execute(sa.update(Conversation).where(Conversation.id == conversation.id)
                       .values(visitor_left_at=utcnow()))
    db.session.commit()
    offers.decline_offer(first.expert_id, first.id)
    # Back in the queue, empty, its visitor away: still offered at once to an expert with room (rule 6). Only a
    # conversation never offered (an e-mail follow-up before its reply is stored) waits for its first message.
    again = db.session.scalars(sa.select(Offer).where(Offer.conversation_id == conversation.id,
                                                      Offer.status == OfferStatus.PENDING)).all()
    assert len(again) == 1 and again[0].expert_id != first.expert_id
    assert state_of([conversation.id]) == {conversation.id: (ConversationStatus.OFFERED, True)}
