"""The migrations build exactly the schema the models describe, on SQLite and on PostgreSQL."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from marketplace.database import db
from tests.conftest import BACKENDS, make_app, scratch_postgres_database

BEFORE_RATE_CARDS = "67ad30caa88d"


def test_migrations_match_the_models(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def _descending_columns(index: sa.Index) -> list[str]:
    return [element.element.name for element in index.expressions
            if isinstance(element, sa.UnaryExpression) and element.modifier is sa.sql.operators.desc_op]


def test_descending_index_columns_stay_descending(app):
    """Autogenerate cannot see a DESC on SQLite, and SQLite's table rebuilds dropped it (the router's queue then
    sorted the brand's whole queue on every decision): each index the models order descending is so in the
    migrated database."""
    indexes = {index.name: _descending_columns(index)
               for table in db.metadata.tables.values() for index in table.indexes if _descending_columns(index)}
    assert "ix_conversations_queue" in indexes
    with app.app_context(), db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            query = "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
        else:
            query = "SELECT indexname, indexdef FROM pg_indexes"
        definitions = dict(connection.execute(sa.text(query)).tuples().all())
    for name, columns in indexes.items():
        for column in columns:
            assert f"{column} DESC" in definitions[name], (name, definitions[name])


def test_the_routers_queue_is_read_off_its_index_unsorted(app):
    from marketplace.routing.router.decisions import _queue_page

    with app.app_context(), db.engine.connect() as connection:
        if connection.dialect.name != "sqlite":
            return  # the planner's choice on PostgreSQL depends on its statistics; the index itself is checked above
        page = _queue_page().compile(connection)
        values = page.construct_params({"brand": 1, "limit": 16, "offset": 0})
        plan = [row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {page}",
                                                              tuple(values[name] for name in page.positiontup))]
    assert any("ix_conversations_queue" in step for step in plan), plan
    assert not any("TEMP B-TREE" in step for step in plan), plan


def test_the_database_is_at_the_newest_revision(app):
    from alembic.script import ScriptDirectory

    with app.app_context(), db.engine.connect() as connection:
        config = app.extensions["migrate"].migrate.get_config()
        head = ScriptDirectory.from_config(config).get_current_head()
        assert MigrationContext.configure(connection).get_current_revision() == head


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_rate_card_migration_keeps_each_brands_people_and_price(backend, tmp_path):
    """Rebuilding the brands table on SQLite must not cascade-delete what points at it (it did)."""
    with contextlib.ExitStack() as stack:
        url = (f"sqlite:///{tmp_path / 'old.db'}" if backend == "sqlite"
               else stack.enter_context(scratch_postgres_database("migration")))
        application = make_app(url)
        with application.app_context():
            upgrade(revision=BEFORE_RATE_CARDS)
            created = dt.datetime(2026, 3, 1, 12, 0)  # noqa: DTZ001 - the schema stores naive UTC
            with db.engine.begin() as connection:
                connection.execute(sa.text(
                    "INSERT INTO users (id, email, password_hash, full_name, role, is_disabled, created_at) "
                    "VALUES (1, 'admin@example.com', 'x', 'Ada', 'brand', false, :at)"), {"at": created})
                connection.execute(sa.text(
                    "INSERT INTO brands (id, name, slug, timezone, currency, created_at, widget_key, chat_rate_cents) "
                    "VALUES (7, 'Vélo', 'velo', 'America/New_York', 'EUR', :at, 'wk_test', 350)"), {"at": created})
                connection.execute(sa.text(
                    "INSERT INTO brand_memberships (brand_id, user_id, role, created_at) "
                    "VALUES (7, 1, 'admin', :at)"), {"at": created})
            upgrade()
            with db.engine.connect() as connection:
                members = connection.execute(sa.text("SELECT brand_id, user_id FROM brand_memberships")).all()
                cards = connection.execute(sa.text(
                    "SELECT brand_id, price_cents, commission_bps, effective_from FROM rate_cards")).all()
            assert [tuple(row) for row in members] == [(7, 1)]
            assert [tuple(row)[:3] for row in cards] == [(7, 350, 2000)]
            assert str(cards[0].effective_from) <= "2026-03-01"  # in effect since the brand began, in any timezone
            downgrade(revision=BEFORE_RATE_CARDS)
            with db.engine.connect() as connection:
                price = connection.execute(sa.text("SELECT chat_rate_cents FROM brands WHERE id = 7")).scalar()
                kept = connection.execute(sa.text("SELECT count(*) FROM brand_memberships")).scalar()
            assert (price, kept) == (350, 1)
        with application.app_context():
            db.engine.dispose()
