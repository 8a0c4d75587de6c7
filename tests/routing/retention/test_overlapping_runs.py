"""Two retention runs at once, with real commits on SQLite and PostgreSQL: they share the work, each conversation
is anonymised once, and neither fails."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from marketplace.database import db, utcnow
from marketplace.routing.models import Conversation
from marketplace.routing.retention import services as retention
from tests.conftest import BACKENDS, committed_database_app
from tests.factories import BrandFactory, ClosedChatFactory

RUNS = 3
CHATS = 24


@pytest.fixture(scope="module", params=BACKENDS)
def committed_app(request, tmp_path_factory) -> Iterator[Flask]:
    with committed_database_app(request.param, tmp_path_factory.mktemp("retention"), "retention") as app:
        yield app


def test_overlapping_runs_share_the_work_and_anonymise_each_conversation_once(committed_app, monkeypatch):
    monkeypatch.setattr(retention, "BATCH", 4)  # many batches, so the runs interleave
    with committed_app.app_context():
        brand = BrandFactory(retention_months=1)
        ids = [ClosedChatFactory(brand=brand, closed_at=utcnow() - dt.timedelta(days=40 + n),
                                 visitor_email=f"v{n}@example.com", messages=["Bonjour"]).id for n in range(CHATS)]
        db.session.commit()
    barrier = threading.Barrier(RUNS)
    results: list[object] = [None] * RUNS

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            with committed_app.app_context():
                results[index] = retention.anonymise_expired()
        except BaseException as error:  # noqa: BLE001 - reported below
            results[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(RUNS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a run is stuck"
    assert all(isinstance(result, dict) for result in results), results
    assert sum(result["conversations"] for result in results) == CHATS  # nobody did one twice
    with committed_app.app_context():
        rows = db.session.execute(sa.select(Conversation.anonymised_at, Conversation.visitor_email)
                                  .where(Conversation.id.in_(ids))).all()
        assert len(rows) == CHATS and all(row.anonymised_at is not None and row.visitor_email is None for row in rows)
        assert retention.anonymise_expired()["conversations"] == 0
