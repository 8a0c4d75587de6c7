"""The database layer's shared pieces: the model base, column types, engine settings, transaction hooks."""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import functools
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import flask_sqlalchemy.session
import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_sqlalchemy import SQLAlchemy

from marketplace import sqlite_writers

log = logging.getLogger("marketplace.database")

# Stable constraint names, so migrations can alter them on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """Return the current time, timezone-aware in UTC."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp stored as naive UTC and always handed back timezone-aware.

    SQLite keeps no timezone, so normalising here keeps both databases alike.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


# Ids (and every other plain `int` column) are 64-bit on PostgreSQL, as the API promises; SQLite's integers are
# 64-bit already, and only a column declared INTEGER is the rowid alias that numbers new rows by itself. Input
# beyond these bounds is refused where it enters (web.requests, web.schemas), never left to overflow here.
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
ID_MAX = INT64_MAX
INT64 = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def enum_column(enum_class: type[enum.Enum], name: str) -> sa.Enum:
    """Store an enum as its value in a VARCHAR with a CHECK constraint, the same on every database."""
    return sa.Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        length=max(len(member.value) for member in enum_class),
        values_callable=lambda members: [member.value for member in members],
    )


class Base(so.DeclarativeBase):
    registry = so.registry(
        metadata=sa.MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={dt.datetime: UTCDateTime, int: INT64},
    )


class Session(flask_sqlalchemy.session.Session):
    """Honour a session-level bind, so tests can run each case inside an outer transaction."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):  # type: ignore[override]
        if bind is None and self.bind is not None:
            return self.bind
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


db = SQLAlchemy(model_class=Base, session_options={"class_": Session})


def after_commit(callback: Callable[[], None]) -> None:
    """Run `callback` once the current transaction commits; drop it if the transaction rolls back."""
    # Begin the transaction now if none is open: a rollback of no transaction fires no event,
    # and the callback would otherwise wait for, and run with, some later commit.
    session = db.session()
    if not session.in_transaction():  # inside a unit it has begun: asking for the connection again costs more
        session.connection()
    session.info.setdefault("after_commit", []).append(callback)


def after_rollback(callback: Callable[[], None]) -> None:
    """Run `callback` once the outermost unit of work has rolled back, outside it (so it may open a unit of its own:
    a refusal that is still recorded); drop it if the transaction commits."""
    db.session.info.setdefault("after_rollback", []).append(callback)


def discard_after_rollback() -> None:
    """Forget the steps noted to run after the unit's rollback (they are noted again when the work is done again)."""
    db.session.info.pop("after_rollback", None)


@sa.event.listens_for(so.Session, "after_commit")
def _run_after_commit(session: so.Session) -> None:
    session.info.pop("after_rollback", None)
    callbacks = session.info.pop("after_commit", [])
    for callback in callbacks:
        callback()


@sa.event.listens_for(so.Session, "after_soft_rollback")
def _drop_after_commit(session: so.Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:
        session.info.pop("after_commit", None)


READ_ONLY = "marketplace_read_only"
_IN_UNIT = "marketplace_unit_of_work"

P = ParamSpec("P")
R = TypeVar("R")


@contextlib.contextmanager
def unit_of_work(*, alone: bool = False) -> Iterator[so.Session]:
    """One transaction for a service's writes: committed when the block ends, rolled back when it raises.

    A unit opened inside another joins it, so a service that calls another still commits once, at the end of
    the outermost (its after-commit side effects wait for that commit). A unit that must be committed when it
    ends (`alone`: a payout marked before the provider is called) refuses to run inside another: joined, it
    would commit only with the outer one.
    """
    session = db.session
    if session.info.get(_IN_UNIT):
        if alone:
            raise RuntimeError("this unit of work commits on its own: call it outside any other unit")
        yield session
        return
    session.info[_IN_UNIT] = True
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info.pop(_IN_UNIT, None)
        for callback in session.info.pop("after_rollback", []):
            try:
                callback()
            except Exception:
                # The unit's own error is what its caller gets: a failed follow-up is only logged.
                log.exception("a step after a rollback failed")


def in_unit_of_work() -> bool:
    """Whether a unit of work is open: what the caller does now would commit only with it."""
    return bool(db.session.info.get(_IN_UNIT))


def use_case(function: Callable[P, R]) -> Callable[P, R]:
    """Run a service as one unit of work (see `unit_of_work`): it commits on return and rolls back on error."""

    @functools.wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with unit_of_work():
            return function(*args, **kwargs)

    return run


_Bind = tuple[str, bool, Any, "Callable[[Any], Any] | None"]  # name, given at each execution, literal, processor


class DriverStatement:
    """A statement compiled once per dialect and run on the driver's cursor, inside the connection's transaction:
    its parameters processed as SQLAlchemy would (each bind's processor, read off the compiled statement once), its
    literals bound once, its driver's errors raised as SQLAlchemy's.

    For the statements run for every message and every routing pass: SQLAlchemy's execution of a cached statement
    (its cache key, the parameters built again, the result's metadata) took three times as long as the driver's.
    It fires the cursor events, not the execution events. Only plain binds: an expanding IN is refused.
    """

    def __init__(self, statement: sa.Executable, column_keys: list[str] | None = None) -> None:
        self.statement = statement
        self.column_keys = column_keys  # an INSERT's columns (compiled for these alone)
        self._prepared: dict[sa.Dialect, _Prepared] = {}

    def _prepare(self, dialect: sa.Dialect) -> _Prepared:
        compiled = self.statement.compile(dialect=dialect, column_keys=self.column_keys)
        binds = []
        names = compiled.positiontup if compiled.positional else dict.fromkeys(compiled.bind_names.values())
        for name in names:
            bind = compiled.binds[name]
            if bind.expanding:
                raise ValueError(f"{name}: an expanding parameter is compiled anew for each execution")
            # A bind of our own, or named after a column of an INSERT, is given at each execution; else a literal.
            given = bind.required or name in (self.column_keys or ())
            binds.append((name, given, None if given else bind.effective_value,
                          bind.type.dialect_impl(dialect).bind_processor(dialect)))
        # What SQLAlchemy does to each column it reads (an enum's member, a UTC timestamp made aware): for `rows`.
        results = [column.type.dialect_impl(dialect).result_processor(dialect, None)
                   for column in compiled._result_columns]  # noqa: SLF001 - the compiled statement's own columns
        prepared = self._prepared[dialect] = _Prepared(compiled.string, compiled.positional, binds, results)
        return prepared

    def _run(self, connection: sa.Connection, parameters: dict[str, Any], fetch: Callable[[Any], Any]
             ) -> tuple[Any, _Prepared]:
        dialect = connection.dialect
        prepared = self._prepared.get(dialect) or self._prepare(dialect)
        sql = prepared.sql
        values = [(name, parameters[name] if given else literal, process)
                  for name, given, literal, process in prepared.binds]
        arguments: tuple | dict = (
            tuple(value if process is None else process(value) for _, value, process in values) if prepared.positional
            else {name: value if process is None else process(value) for name, value, process in values})
        cursor = connection.connection.cursor()
        try:
            # The cursor events SQLAlchemy fires around a statement (without an execution context): what listens to
            # the statements (a test counting them, a tracer) still sees these.
            events = connection.dispatch
            if events.before_cursor_execute:
                for before in events.before_cursor_execute:
                    sql, arguments = before(connection, cursor, sql, arguments, None, False)
            cursor.execute(sql, arguments)
            if events.after_cursor_execute:
                for after in events.after_cursor_execute:
                    after(connection, cursor, sql, arguments, None, False)
            return fetch(cursor), prepared
        except dialect.loaded_dbapi.Error as error:
            raise sa.exc.DBAPIError.instance(sql, arguments, error, dialect.loaded_dbapi.Error,
                                             dialect=dialect) from error
        finally:
            cursor.close()

    def first_row(self, connection: sa.Connection, parameters: dict[str, Any]) -> tuple | None:
        """Run it in the connection's transaction; its first row, as the driver gives it (None without one)."""
        return self._run(connection, parameters, lambda cursor: cursor.fetchone())[0]

    def run(self, connection: sa.Connection, parameters: dict[str, Any]) -> None:
        """Run a statement that returns no rows in the connection's transaction."""
        self._run(connection, parameters, lambda cursor: None)

    def rows(self, connection: sa.Connection, parameters: dict[str, Any]) -> list[tuple]:
        """Run it in the connection's transaction; every row, each value as SQLAlchemy would give it."""
        rows, prepared = self._run(connection, parameters, lambda cursor: cursor.fetchall())
        processors = prepared.results
        if not any(processors):
            return [tuple(row) for row in rows]
        return [tuple(value if process is None else process(value) for value, process in zip(row, processors,
                                                                                              strict=True))
                for row in rows]


@dataclass(frozen=True)
class _Prepared:
    sql: str
    positional: bool
    binds: list[_Bind]
    results: list[Callable[[Any], Any] | None]


def end_read() -> None:
    """End the transaction a service only read in (outside a unit of work): on SQLite every transaction holds the
    write lock (BEGIN IMMEDIATE), so a read must not keep it while the caller renders, streams or waits."""
    if not db.session.info.get(_IN_UNIT):
        db.session.commit()


def begin_read_only() -> None:
    """End the session's transaction and begin one that only reads (the caller must not write in it): on
    SQLite it takes no write lock; elsewhere it is an ordinary transaction."""
    db.session.commit()
    db.session.connection(execution_options={READ_ONLY: True})


# How long a SQLite writer waits for the write lock: for another process's writer (SQLite's busy timeout), or for the
# turn of this process's writer ahead of it (`sqlite_writers`).
SQLITE_BUSY_TIMEOUT_SECONDS = 10


def configure_engine(engine: sa.engine.Engine) -> None:
    """Set SQLite up as DESIGN asks: WAL, foreign keys, and transactions that begin IMMEDIATE.

    A deferred transaction that reads and then writes fails at once with "database is locked"
    when another connection wrote in between (busy_timeout cannot help that upgrade), so every
    transaction takes the write lock up front and waits its turn instead: in the order the
    writers of this process came (`sqlite_writers.WriterGate`), SQLite's own wait being unfair.
    """
    if engine.dialect.name != "sqlite":
        return
    on_disk = sqlite_writers.on_disk(engine)  # in memory, each connection has its own: nobody to take turns with
    gate = sqlite_writers.take_turns(engine, SQLITE_BUSY_TIMEOUT_SECONDS) if on_disk else None

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
        if on_disk:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.engine.Connection) -> None:
        # A transaction opened by `begin_read_only` only reads: deferred, it reads a snapshot (WAL) without
        # the write lock, so a long export or the ledger check does not hold up every writer.
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
        elif gate is not None:
            gate.begin_immediate(connection)
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def ping_when_idle(engine: sa.engine.Engine, idle_seconds: float) -> None:
    """Test a pooled connection before it is used again only when it sat in the pool `idle_seconds` or longer; one
    that fails the test is replaced (the pool takes another). A connection in steady use is not tested: SQLAlchemy's
    `pool_pre_ping` tested every checkout, a round trip for each socket event's transaction (on PostgreSQL under
    gevent, a twentieth of a server's CPU). A connection that dies while in use fails its statement, and the pool
    then drops every connection opened before (SQLAlchemy's disconnect handling), as after a database restart.
    """
    if engine.dialect.name == "sqlite":
        return  # a file: nothing between the process and it to go away

    @sa.event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise sa.exc.DisconnectionError(f"a pooled connection failed its test: {error}") from error
