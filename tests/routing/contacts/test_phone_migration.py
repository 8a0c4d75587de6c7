"""The contacts-by-phone migration keeps every contact going up, and going back keeps those with an address."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from marketplace.database import db
from tests.conftest import BACKENDS, make_app, scratch_postgres_database

BEFORE = "e7b3d52a9c14"
CREATED = dt.datetime(2026, 11, 1, 12, 0)  # noqa: DTZ001 - the schema stores naive UTC


def _insert_contact(connection, contact_id, **values):
    row = {"id": contact_id, "brand_id": 7, "created_at": CREATED, "proved_at": CREATED, **values}
    contacts = sa.table("contacts", *(sa.column(name) for name in row))
    connection.execute(sa.insert(contacts).values(**row))


@pytest.mark.parametrize("backend", BACKENDS)
def test_contacts_keep_their_address_up_and_only_those_with_one_survive_going_back(backend, tmp_path):
    with contextlib.ExitStack() as stack:
        url = (f"sqlite:///{tmp_path / 'old.db'}" if backend == "sqlite"
               else stack.enter_context(scratch_postgres_database("phones")))
        application = make_app(url)
        with application.app_context():
            upgrade(revision=BEFORE)
            with db.engine.begin() as connection:
                connection.execute(sa.text(
                    "INSERT INTO brands (id, name, slug, timezone, currency, created_at, widget_key) "
                    "VALUES (7, 'Vélo', 'velo', 'Europe/Paris', 'EUR', :at, 'wk_test')"), {"at": CREATED})
                _insert_contact(connection, 1, email="Ana@Example.com", email_normalised="ana@example.com")
            upgrade()
            with db.engine.begin() as connection:
                assert connection.execute(sa.text("SELECT email, phone FROM contacts")).all() == \
                    [("Ana@Example.com", None)]
                _insert_contact(connection, 2, phone="+33612345678")
                _insert_contact(connection, 3, phone="+33612345679", merged_into_id=2)
                with pytest.raises(sa.exc.IntegrityError), connection.begin_nested():
                    _insert_contact(connection, 4, phone="+33612345678")  # one number, one contact of the brand
            downgrade(revision=BEFORE)
            with db.engine.connect() as connection:
                left = connection.execute(sa.text("SELECT id, email_normalised FROM contacts")).all()
            assert [tuple(row) for row in left] == [(1, "ana@example.com")]
        with application.app_context():
            db.engine.dispose()
