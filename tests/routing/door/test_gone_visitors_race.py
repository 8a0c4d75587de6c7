"""Two sweeps noticing the same gone visitors at once, with real commits on SQLite and PostgreSQL: they share the
work, each chat is marked or moved to its expert's asynchronous list once, its expert told once, and the load
counters still equal the live rows."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from marketplace.database import db, utcnow
from marketplace.extensions import socketio
from marketplace.routing.door import departures
from marketplace.routing.models import Conversation, ConversationStatus
from marketplace.routing.router import loads
from tests.conftest import BACKENDS, committed_database_app
from tests.factories import BrandFactory
from tests.routing.conftest import online_expert
from tests.routing.door.test_gone_visitors import reachable_chat, silent_chats

RUNS = 2
MARKED = 120
MOVED = 6


@pytest.fixture(scope="module", params=BACKENDS)
def committed_app(request, tmp_path_factory) -> Iterator[Flask]:
    with committed_database_app(request.param, tmp_path_factory.mktemp("gone_visitors"), "gone_visitors") as app:
        yield app


def test_two_sweeps_at_once_handle_each_gone_visitor_once(committed_app, monkeypatch):
    monkeypatch.setattr(departures, "MARK_BATCH", 20)  # many batches, so the runs interleave
    monkeypatch.setattr(departures, "MOVE_BATCH", 2)
    with committed_app.app_context():
        brand = BrandFactory(expert_concurrency=3, async_expert_limit=MOVED)
        experts = [online_expert(brand) for _ in range(3)]
        db.session.commit()
        moved = [reachable_chat(brand, silent_for=dt.timedelta(minutes=5, seconds=n)) for n in range(MOVED)]
        marked = silent_chats(brand, experts, MARKED)
    told: list[int] = []
    real_emit = socketio.emit

    def emit(event, payload, *args, **kwargs):
        if event == "chat":
            told.append(payload["conversation_id"])
        return real_emit(event, payload, *args, **kwargs)

    monkeypatch.setattr(socketio, "emit", emit)
    barrier = threading.Barrier(RUNS)
    results: list[object] = [None] * RUNS

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            with committed_app.app_context():
                results[index] = departures.notice_gone_visitors(utcnow())
        except BaseException as error:  # noqa: BLE001 - reported below
            results[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(RUNS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a run is stuck"
    assert all(isinstance(result, int) for result in results), results
    assert sum(results) == MARKED + MOVED  # nobody handled one twice
    assert Counter(told) == Counter(marked + moved)  # each expert told once per chat
    with committed_app.app_context():
        rows = {row.id: row for row in db.session.execute(
            sa.select(Conversation.id, Conversation.status, Conversation.visitor_left_at)
            .where(Conversation.id.in_(marked + moved)))}
        assert all(rows[id_].status == ConversationStatus.ACTIVE and rows[id_].visitor_left_at for id_ in marked)
        assert all(rows[id_].status == ConversationStatus.ASYNCHRONOUS for id_ in moved)
        assert departures.notice_gone_visitors(utcnow()) == 0
        assert loads.counters_match() == []
