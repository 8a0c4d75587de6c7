"""Two credit passes at once, with real commits on SQLite and PostgreSQL: each resolution is credited once.

On PostgreSQL both passes read the resolution as not yet credited before either writes (a barrier holds them
there), so the unique conversation id decides; SQLite's single writer takes the passes one at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from marketplace.database import db, utcnow
from marketplace.payouts.credits import services as credits
from marketplace.payouts.ledger import books, checks
from marketplace.payouts.models import FaqCredit, LedgerTransaction
from marketplace.routing import history
from tests.conftest import BACKENDS, committed_database_app
from tests.factories import BrandFactory, EnrolmentFactory
from tests.payouts.credits.resolutions import entry, pays_credit, resolved

PASSES = 2


@pytest.fixture(scope="module", params=BACKENDS)
def committed_app(request, tmp_path_factory) -> Iterator[Flask]:
    with committed_database_app(request.param, tmp_path_factory.mktemp("faq_credits"), "faq_credits") as app:
        yield app


def test_two_passes_at_once_credit_each_resolution_once(committed_app, monkeypatch):
    with committed_app.app_context():
        brand = BrandFactory()
        author = EnrolmentFactory(brand_id=brand.id).expert
        pays_credit(brand, 30)
        written = entry(brand, author)
        resolutions = {resolved(brand, written).id for _ in range(3)}
        author_id = author.id
        db.session.commit()
        postgres = db.engine.dialect.name == "postgresql"

    read = history.bot_resolutions
    both_read = threading.Barrier(PASSES)

    def read_then_wait(*args, **kwargs):
        found = read(*args, **kwargs)
        if postgres and found:  # SQLite: the first pass holds the write lock, the other waits for it to commit
            both_read.wait(timeout=30)
        return found

    monkeypatch.setattr(credits.history, "bot_resolutions", read_then_wait)
    start = threading.Barrier(PASSES)
    posted: list[int | BaseException] = []

    def run() -> None:
        try:
            start.wait(timeout=30)
            with committed_app.app_context():
                posted.append(credits.record_credits(utcnow()))
        except BaseException as error:  # noqa: BLE001 - reported below
            posted.append(error)

    threads = [threading.Thread(target=run) for _ in range(PASSES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not any(thread.is_alive() for thread in threads), "a pass is stuck"
    assert all(isinstance(count, int) for count in posted), posted
    assert sum(posted) == len(resolutions)

    with committed_app.app_context():
        credited = db.session.scalars(sa.select(FaqCredit.conversation_id)).all()
        assert sorted(credited) == sorted(resolutions)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerTransaction)
                                 .where(LedgerTransaction.kind == "faq_credit")) == len(resolutions)
        assert books.expert_balances(author_id)["EUR"]["expert_held"] == 30 * len(resolutions)
        assert checks.check_invariants().breaches == []
