"""The migration that counts live time fills it for conversations from before, where it can be known, on SQLite and
PostgreSQL: acceptance to close for a closed chat whose visitor never gave an address (it never went asynchronous),
unknown (null) for one whose visitor did (it may have been away)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from marketplace.database import db
from marketplace.routing.models import Conversation, ConversationStatus
from tests.conftest import BACKENDS, committed_database_app
from tests.factories import BrandFactory, EnrolmentFactory
from tests.test_one_live_row_migration import add_old

BEFORE = "4e65a60e8267"  # the revision before live time
ACCEPTED = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


def old_chat(brand_id: int, expert_id: int | None, status: ConversationStatus, *, token: str,
             closed_after: dt.timedelta | None = None, email: bool = False) -> int:
    return add_old(Conversation, brand_id=brand_id, visitor_token_hash=token * 64, status=status, expert_id=expert_id,
                   created_at=ACCEPTED, queued_at=ACCEPTED, visitor_seen_at=ACCEPTED, last_activity_at=ACCEPTED,
                   accepted_at=ACCEPTED if expert_id else None,
                   closed_at=ACCEPTED + closed_after if closed_after is not None else None,
                   visitor_email="ana@example.com" if email else None,
                   visitor_email_consent_at=ACCEPTED if email else None)


@pytest.mark.parametrize("backend", BACKENDS)
def test_old_chats_get_acceptance_to_close_when_they_never_went_asynchronous(backend, tmp_path):
    with committed_database_app(backend, tmp_path, "live_time") as app, app.app_context():
        brand = BrandFactory()
        expert_id = EnrolmentFactory(brand_id=brand.id).expert.id
        brand_id = brand.id
        db.session.commit()
        db.session.close()
        downgrade(revision=BEFORE)
        seven_minutes = old_chat(brand_id, expert_id, ConversationStatus.CLOSED, token="a",
                                 closed_after=dt.timedelta(minutes=7))
        with_address = old_chat(brand_id, expert_id, ConversationStatus.CLOSED, token="b",
                                closed_after=dt.timedelta(days=2, minutes=7), email=True)
        live_now = old_chat(brand_id, expert_id, ConversationStatus.ACTIVE, token="c")
        away_now = old_chat(brand_id, expert_id, ConversationStatus.ASYNCHRONOUS, token="d", email=True)
        never_answered = old_chat(brand_id, None, ConversationStatus.ABANDONED, token="e",
                                  closed_after=dt.timedelta(minutes=1))
        db.session.commit()
        db.session.close()  # the migration alters the table: hold no transaction on it

        upgrade()

        rows = {row.id: (row.live_seconds, row.active_since)
                for row in db.session.scalars(sa.select(Conversation))}
        assert rows == {seven_minutes: (420, None), with_address: (None, None), live_now: (0, ACCEPTED),
                        away_now: (None, None), never_answered: (0, None)}
        db.session.close()
        downgrade(revision=BEFORE)
        columns = {column["name"] for column in sa.inspect(db.engine).get_columns("conversations")}
        assert not columns & {"live_seconds", "active_since"}
