"""SQLite's writers in one process take turns in the order they came (marketplace/sqlite_writers.py): a writer waits
only for those ahead of it, and gets "database is locked" only when the writer ahead keeps its turn."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa

from marketplace.database import configure_engine, db
from marketplace.sqlite_writers import gate_of
from tests.conftest import PROJECT_ROOT, TEST_SECRET


@pytest.fixture
def engine(tmp_path) -> Iterator[sa.Engine]:
    """An engine set up as the app's (WAL, BEGIN IMMEDIATE, turns) on a SQLite file with one table."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'writers.db'}")
    configure_engine(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE scratch (writer TEXT NOT NULL)")
    yield engine
    engine.dispose()


def write(engine: sa.Engine, writer: str, hold: float = 0, inside: threading.Event | None = None) -> None:
    """One write transaction, kept open `hold` seconds after its insert (`inside` is set then)."""
    with engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO scratch (writer) VALUES (?)", (writer,))
        if inside is not None:
            inside.set()
        time.sleep(hold)


def written(engine: sa.Engine) -> list[str]:
    with engine.begin() as connection:
        return list(connection.exec_driver_sql("SELECT writer FROM scratch ORDER BY rowid").scalars())


def wait_until(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never came true"
        time.sleep(0.005)


def test_writers_behind_a_slow_writer_each_wait_only_for_those_ahead(engine):
    """A slow writer begins again as soon as it commits, as a busy one does. Through SQLite's own wait, whose tries
    come ever further apart, it took the lock again every time and the others waited until it stopped (10 s, then
    'database is locked', in the routing race). Taking turns, each waits for at most one of its transactions."""
    stop, inside = threading.Event(), threading.Event()
    waits: list[float] = []
    errors: list[BaseException] = []

    def slow() -> None:
        deadline = time.monotonic() + 6
        while not stop.is_set() and time.monotonic() < deadline:
            write(engine, "slow", hold=0.2, inside=inside)

    def quick(n: int) -> None:
        try:
            for _ in range(3):
                started = time.monotonic()
                write(engine, f"quick {n}")
                waits.append(time.monotonic() - started)
        except BaseException as error:  # noqa: BLE001 - asserted below
            errors.append(error)

    slow_writer = threading.Thread(target=slow)
    slow_writer.start()
    try:
        assert inside.wait(10)
        quick_writers = [threading.Thread(target=quick, args=(n,)) for n in range(8)]
        for thread in quick_writers:
            thread.start()
        for thread in quick_writers:
            thread.join(30)
    finally:
        stop.set()
        slow_writer.join(30)
    assert errors == []
    assert len(waits) == 24
    # Each waited for one of the slow writer's transactions (0.2 s) and the quick ones ahead of it; the bound
    # leaves room for a loaded machine.
    assert max(waits) < 2, sorted(waits)[-5:]


def test_writers_get_the_lock_in_the_order_they_came(engine):
    gate = gate_of(engine)
    writers = []
    with engine.begin() as holder:
        holder.exec_driver_sql("INSERT INTO scratch (writer) VALUES ('holder')")
        for n in range(5):
            thread = threading.Thread(target=write, args=(engine, f"writer {n}"))
            thread.start()
            writers.append(thread)
            wait_until(lambda n=n: gate.waiting() == n + 1)  # it waits behind those before it
    for thread in writers:
        thread.join(10)
    assert written(engine) == ["holder", *(f"writer {n}" for n in range(5))]


def test_a_writer_waits_as_long_as_the_line_moves(engine, monkeypatch):
    """The last of six writers that each hold the lock 0.3 s waits 1.5 s, past the timeout: the writers ahead of it
    each ended in time, so it waits on."""
    monkeypatch.setattr(gate_of(engine), "timeout", 1.0)
    errors: list[BaseException] = []

    def patient(n: int) -> None:
        try:
            write(engine, f"writer {n}", hold=0.3)
        except BaseException as error:  # noqa: BLE001 - asserted below
            errors.append(error)

    writers = [threading.Thread(target=patient, args=(n,)) for n in range(6)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(30)
    assert errors == []
    assert len(written(engine)) == 6


def test_a_writer_gives_up_as_sqlite_would_when_the_writer_ahead_keeps_its_turn(engine, monkeypatch):
    monkeypatch.setattr(gate_of(engine), "timeout", 0.3)
    errors: list[BaseException] = []

    def late() -> None:
        try:
            write(engine, "late")
        except BaseException as error:  # noqa: BLE001 - asserted below
            errors.append(error)

    with engine.begin() as holder:
        holder.exec_driver_sql("INSERT INTO scratch (writer) VALUES ('holder')")
        thread = threading.Thread(target=late)
        thread.start()
        thread.join(10)
        assert not thread.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], sa.exc.OperationalError)
    assert "database is locked" in str(errors[0])
    assert gate_of(engine).waiting() == 0  # it left the line
    write(engine, "after")
    assert written(engine) == ["holder", "after"]


def test_a_commit_a_rollback_or_a_lost_connection_hands_the_turn_on(engine):
    def another_thread_writes(writer: str) -> None:
        # Another thread's write (this one's would not wait for a turn left with itself), which would wait the
        # gate's 10 s for a turn that was kept.
        thread = threading.Thread(target=write, args=(engine, writer))
        thread.start()
        thread.join(5)
        assert not thread.is_alive()

    with engine.connect() as connection:  # kept open after each transaction
        connection.exec_driver_sql("INSERT INTO scratch (writer) VALUES ('committed')")
        connection.commit()
        another_thread_writes("after a commit")
        connection.exec_driver_sql("INSERT INTO scratch (writer) VALUES ('rolled back')")
        connection.rollback()
        another_thread_writes("after a rollback")
        connection.exec_driver_sql("INSERT INTO scratch (writer) VALUES ('lost')")
        connection.invalidate()
        another_thread_writes("after a lost connection")
    assert written(engine) == ["committed", "after a commit", "after a rollback", "after a lost connection"]


def test_a_savepoint_ending_does_not_hand_the_turn_on(engine):
    gate = gate_of(engine)
    with engine.begin() as holder:
        holder.exec_driver_sql("INSERT INTO scratch (writer) VALUES ('outer')")
        thread = threading.Thread(target=write, args=(engine, "other"))
        thread.start()
        wait_until(lambda: gate.waiting() == 1)
        with holder.begin_nested():
            holder.exec_driver_sql("INSERT INTO scratch (writer) VALUES ('released')")
        nested = holder.begin_nested()
        holder.exec_driver_sql("INSERT INTO scratch (writer) VALUES ('undone')")
        nested.rollback()
        time.sleep(0.05)
        assert gate.waiting() == 1
    thread.join(10)
    assert written(engine) == ["outer", "released", "other"]


def test_a_writer_already_holding_the_turn_is_not_queued_behind_itself(engine):
    """Its second transaction, on another connection, is answered by SQLite as before (locked), not left waiting
    for its own first one."""
    with engine.begin() as holder:
        holder.exec_driver_sql("INSERT INTO scratch (writer) VALUES ('holder')")
        with engine.connect() as second:
            second.connection.dbapi_connection.execute("PRAGMA busy_timeout=0")
            started = time.monotonic()
            with pytest.raises(sa.exc.OperationalError, match="database is locked"):
                second.exec_driver_sql("INSERT INTO scratch (writer) VALUES ('second')")
            assert time.monotonic() - started < 2  # not the gate's 10 s
            second.rollback()
            second.connection.dbapi_connection.execute("PRAGMA busy_timeout=10000")
    assert written(engine) == ["holder"]


def test_only_sqlite_writers_take_turns(app):
    with app.app_context():
        on_sqlite = db.engine.dialect.name == "sqlite"
        assert (gate_of(db.engine) is not None) is on_sqlite
        assert ("do_commit" in vars(db.engine.dialect)) is on_sqlite  # PostgreSQL's commits are its own


GREENLETS = """
from gevent import monkey

monkey.patch_all()
import time

import gevent

from marketplace import create_app, database

database.SQLITE_BUSY_TIMEOUT_SECONDS = 2
app = create_app({"TESTING": True})
with app.app_context():
    engine = database.db.engine
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE scratch (writer TEXT NOT NULL)")

    def write(writer, hold):
        with engine.begin() as connection:
            connection.exec_driver_sql("INSERT INTO scratch (writer) VALUES (?)", (writer,))
            gevent.sleep(hold)

    started = time.monotonic()
    greenlets = [gevent.spawn(write, "yielding", 0.3)] + [gevent.spawn(write, f"quick {n}", 0) for n in range(5)]
    gevent.joinall(greenlets, raise_error=True)
    with engine.begin() as connection:
        print(connection.exec_driver_sql("SELECT count(*) FROM scratch").scalar(), round(time.monotonic() - started))
"""


def test_greenlets_wait_their_turn_by_yielding_under_gevent(tmp_path):
    """A greenlet that yields inside its write transaction (a network call) is let to end it: the others wait
    for their turn in gevent's locks, not in SQLite's busy wait, whose sleeps stopped the whole process (the
    writer ahead too) until 'database is locked'. In a process of its own: gevent patches the whole process."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "MARKETPLACE_ENV": "test", "SECRET_KEY": TEST_SECRET,
           "DATABASE_URL": f"sqlite:///{tmp_path / 'gevent.db'}", "SOCKETIO_ASYNC_MODE": "gevent"}
    result = subprocess.run([sys.executable, "-c", GREENLETS], cwd=PROJECT_ROOT, env=env,  # noqa: S603
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["6", "0"]  # every write, in well under a second
