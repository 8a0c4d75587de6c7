"""A read-only transaction on SQLite reads a snapshot without the write lock: writers are not held up."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.database import begin_read_only, db
from tests.conftest import committed_database_app


def write(value: int) -> None:
    """Another connection writes and commits at once, waiting for nobody (busy_timeout 0)."""
    with db.engine.connect() as writer:
        writer.exec_driver_sql("PRAGMA busy_timeout=0")
        writer.execute(sa.text("INSERT INTO scratch (x) VALUES (:x)"), {"x": value})
        writer.commit()


def test_a_long_read_does_not_hold_up_a_writer_on_sqlite(tmp_path):
    with committed_database_app("sqlite", tmp_path, "readonly") as app, app.app_context():
        with db.engine.connect() as setup:
            setup.execute(sa.text("CREATE TABLE scratch (x INTEGER)"))
            setup.commit()
        begin_read_only()
        assert db.session.scalar(sa.text("SELECT count(*) FROM scratch")) == 0  # a read transaction is open
        write(1)  # not made to wait
        assert db.session.scalar(sa.text("SELECT count(*) FROM scratch")) == 0  # the reader keeps its snapshot
        db.session.commit()
        assert db.session.scalar(sa.text("SELECT count(*) FROM scratch")) == 1
        db.session.commit()

        db.session.scalar(sa.text("SELECT count(*) FROM scratch"))  # an ordinary transaction takes the lock
        with pytest.raises(sa.exc.OperationalError, match="locked"):
            write(2)
        db.session.rollback()
        db.session.remove()
