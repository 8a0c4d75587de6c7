"""The migration that adds the one-live-conversation and one-pending-invitation indexes resolves the duplicates
an older database may hold first, as the services would have, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from marketplace.brands.models import BrandInvitation, BrandRole
from marketplace.database import db, utcnow
from marketplace.routing.models import (
    BrandLoad,
    Conversation,
    ConversationStatus,
    EndReason,
    ExpertLoad,
    Offer,
    OfferStatus,
)
from tests.conftest import BACKENDS, committed_database_app
from tests.factories import BrandFactory, EnrolmentFactory

BEFORE = "d1a7c3e90b15"  # the revision before the indexes


def brand_and_experts_before(count: int) -> tuple[int, list[int]]:
    """A brand and `count` experts it approved, made with today's models, then the database taken back to BEFORE.

    They are made first because their tables gained columns since BEFORE, which today's models write.
    """
    brand = BrandFactory()
    expert_ids = [EnrolmentFactory(brand_id=brand.id).expert.id for _ in range(count)]
    brand_id = brand.id
    db.session.commit()
    db.session.close()
    downgrade(revision=BEFORE)
    return brand_id, expert_ids


def add_old(model: type[db.Model], **values) -> int | None:
    """Insert a row as the table stood at BEFORE: today's columns (types, defaults) that it had then, and no others.

    The models gain columns after BEFORE (conversations their visitor's address, loads their asynchronous counts),
    which an ORM insert would write into the old table.
    """
    connection = db.session.connection()
    table = model.__table__
    then = {column["name"] for column in sa.inspect(connection).get_columns(table.name)}
    old = sa.Table(table.name, sa.MetaData(), *(column._copy() for column in table.columns if column.name in then))
    statement = old.insert().values(**values)
    if "id" in old.c:
        return connection.execute(statement.returning(old.c.id)).scalar_one()
    connection.execute(statement)
    return None


def conversation(brand_id: int, token: str, status: ConversationStatus, seen_minutes_ago: int,
                 expert_id: int | None = None) -> int:
    return add_old(Conversation, brand_id=brand_id, visitor_token_hash=token * 64, status=status, expert_id=expert_id,
                   visitor_seen_at=utcnow() - dt.timedelta(minutes=seen_minutes_ago))


def invitation(brand_id: int, email: str, created_minutes_ago: int, **fields) -> int:
    now = utcnow()
    return add_old(BrandInvitation, brand_id=brand_id, email=email, role=BrandRole.VIEWER,
                   secret_hash=f"{email}-{now}", created_at=now - dt.timedelta(minutes=created_minutes_ago),
                   expires_at=now + dt.timedelta(days=1), **fields)


@pytest.mark.parametrize("backend", BACKENDS)
def test_it_keeps_the_conversation_the_visitor_follows_and_the_newest_invitation(backend, tmp_path):
    with committed_database_app(backend, tmp_path, "live_rows") as app, app.app_context():
        brand_id, [expert_id] = brand_and_experts_before(1)
        # Token "a": two tabs queued (one of them offered to the expert), the page polls the third.
        a_waiting = conversation(brand_id, "a", ConversationStatus.WAITING, seen_minutes_ago=3)
        a_offered = conversation(brand_id, "a", ConversationStatus.OFFERED, seen_minutes_ago=2)
        a_followed = conversation(brand_id, "a", ConversationStatus.WAITING, seen_minutes_ago=0)
        # Token "b": a chat with the expert, and a tab still waiting that the page polled later: the chat stays.
        b_active = conversation(brand_id, "b", ConversationStatus.ACTIVE, seen_minutes_ago=5, expert_id=expert_id)
        b_waiting = conversation(brand_id, "b", ConversationStatus.WAITING, seen_minutes_ago=0)
        offer_id = add_old(Offer, conversation_id=a_offered, brand_id=brand_id, expert_id=expert_id,
                           expires_at=utcnow() + dt.timedelta(seconds=30))
        add_old(ExpertLoad, expert_id=expert_id, open_chats=1, pending_offers=1)
        add_old(BrandLoad, brand_id=brand_id, open_conversations=5, pending_offers=1)
        older = invitation(brand_id, "ana@example.com", created_minutes_ago=30)
        old = invitation(brand_id, "ana@example.com", created_minutes_ago=20)
        newest = invitation(brand_id, "Ana@Example.com", created_minutes_ago=10)
        accepted = invitation(brand_id, "ana@example.com", created_minutes_ago=60, accepted_at=utcnow())
        db.session.commit()
        db.session.close()  # the migration alters the tables: hold no transaction on them

        upgrade()

        db.session.expire_all()
        ended = {row.id: (row.status, row.end_reason, row.closed_at is not None)
                 for row in db.session.scalars(sa.select(Conversation))}
        abandoned = (ConversationStatus.ABANDONED, EndReason.LEFT, True)
        assert ended == {a_waiting: abandoned, a_offered: abandoned, b_waiting: abandoned,
                         a_followed: (ConversationStatus.WAITING, None, False),
                         b_active: (ConversationStatus.ACTIVE, None, False)}
        assert db.session.get(Offer, offer_id).status == OfferStatus.RESCINDED
        load = db.session.get(BrandLoad, brand_id)
        assert (load.open_conversations, load.pending_offers) == (2, 0)
        expert_load = db.session.get(ExpertLoad, expert_id)
        assert (expert_load.open_chats, expert_load.pending_offers) == (1, 0)
        invitations = {row.id: (row.email, row.revoked_at is not None)
                       for row in db.session.scalars(sa.select(BrandInvitation))}
        assert invitations == {older: ("ana@example.com", True), old: ("ana@example.com", True),
                               newest: ("ana@example.com", False), accepted: ("ana@example.com", False)}


@pytest.mark.parametrize("backend", BACKENDS)
def test_it_stops_rather_than_end_a_chat_an_expert_is_in(backend, tmp_path, caplog):
    with committed_database_app(backend, tmp_path, "two_chats") as app, app.app_context():
        brand_id, [first, second] = brand_and_experts_before(2)
        ids = [conversation(brand_id, "c", ConversationStatus.ACTIVE, seen_minutes_ago=1, expert_id=first),
               conversation(brand_id, "c", ConversationStatus.ACTIVE, seen_minutes_ago=0, expert_id=second)]
        db.session.commit()
        db.session.close()

        with pytest.raises(SystemExit):  # Flask-Migrate logs the migration's error and exits
            upgrade()

        assert f"more than one chat with an expert (conversations [{ids}])" in caplog.text
        with db.engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == BEFORE
        statuses = db.session.scalars(sa.select(Conversation.status).where(Conversation.id.in_(ids))).all()
        assert statuses == [ConversationStatus.ACTIVE] * 2
