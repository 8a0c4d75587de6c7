"""A statement run on the driver's cursor (`DriverStatement`) stores exactly what SQLAlchemy would have stored, and
fails as SQLAlchemy would."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import AuditEvent
from marketplace.database import DriverStatement, db

_EVENTS = AuditEvent.__table__
_FIELDS = ["id", "created_at", "kind", "actor_id", "ip", "detail"]
_INSERT = DriverStatement(sa.insert(_EVENTS).returning(_EVENTS.c.id, _EVENTS.c.kind), _FIELDS)
# A literal (the kind) bound once, beside a parameter given at each execution.
_RENAME = DriverStatement(sa.update(_EVENTS).where(_EVENTS.c.id == sa.bindparam("event"))
                          .values(kind="driver.renamed").returning(_EVENTS.c.kind))


def _stored_as(event_id: int) -> tuple:
    """The row as the database holds it, read without SQLAlchemy's types (a SQLite timestamp is text)."""
    return tuple(db.session.execute(sa.text("SELECT created_at, kind, actor_id, ip, detail FROM audit_events "
                                            "WHERE id = :event"), {"event": event_id}).one())


def test_it_stores_what_sqlalchemy_would_store(session):
    # An aware time in another zone (stored as naive UTC), a JSON column given None (stored as JSON's null) and a dict.
    at = dt.datetime(2026, 3, 29, 2, 30, 0, 123, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    for n, detail in enumerate(({"a": [1, "é"]}, None)):
        fields = {"created_at": at, "kind": "driver.same", "actor_id": None, "ip": "127.0.0.1", "detail": detail}
        by_sqlalchemy = db.session.execute(sa.insert(_EVENTS).returning(_EVENTS.c.id), {"id": 9000 + 2 * n, **fields})
        by_driver = _INSERT.first_row(db.session.connection(), {"id": 9001 + 2 * n, **fields})
        assert tuple(by_driver) == (9001 + 2 * n, "driver.same")
        assert _stored_as(9001 + 2 * n) == _stored_as(by_sqlalchemy.scalar_one())
        event = db.session.get(AuditEvent, 9001 + 2 * n)
        assert event.created_at == at and event.detail == detail


def test_a_literal_is_bound_and_no_row_is_none(session):
    db.session.add(AuditEvent(id=9100, kind="driver.before"))
    db.session.flush()
    assert tuple(_RENAME.first_row(db.session.connection(), {"event": 9100})) == ("driver.renamed",)
    assert _RENAME.first_row(db.session.connection(), {"event": 9199}) is None


def test_a_driver_error_is_raised_as_sqlalchemys(session):
    fields = {"id": 9200, "created_at": dt.datetime.now(dt.UTC), "kind": "driver.twice", "actor_id": None,
              "ip": None, "detail": {}}
    with db.session.begin_nested():
        _INSERT.first_row(db.session.connection(), fields)
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        _INSERT.first_row(db.session.connection(), fields)
    with pytest.raises(KeyError):  # a parameter of its own not given
        _RENAME.first_row(db.session.connection(), {})


def test_an_expanding_parameter_is_refused(session):
    statement = DriverStatement(sa.select(_EVENTS.c.id).where(_EVENTS.c.id.in_([1, 2])))
    with pytest.raises(ValueError, match="expanding"):
        statement.first_row(db.session.connection(), {})


def test_what_listens_to_the_cursor_sees_its_statement(session):
    seen = []

    def note(connection, cursor, statement, parameters, context, executemany):
        seen.append(statement.split()[0])

    connection = db.session.connection()
    sa.event.listen(db.engine, "before_cursor_execute", note)
    sa.event.listen(db.engine, "after_cursor_execute", note)
    try:
        _RENAME.first_row(connection, {"event": 9300})
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", note)
        sa.event.remove(db.engine, "after_cursor_execute", note)
    assert seen == ["UPDATE", "UPDATE"]
