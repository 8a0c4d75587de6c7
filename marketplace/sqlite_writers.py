"""SQLite's writers in one process take their turns in the order they came, instead of racing for the write lock.

SQLite waits for its write lock (`busy_timeout`) by trying again after ever longer sleeps, up to 100 ms apart: the
writer that has waited longest tries least often, while one that has just arrived, or has just committed and begins
again, tries at once and takes the lock. With a few dozen writers on a busy machine, a writer lost every try for the
whole busy timeout while about a thousand transactions went by (2 ms each at the median, 1.5 s at the longest), and
got "database is locked". Here a write transaction first waits for its turn at its database's gate, and the
commit or rollback that ends one hands the turn to the next: each writer waits only for those ahead of it. SQLite's
busy timeout still covers the writers of other processes (the scheduler's), which the gate does not see.

Under gevent, `threading` is gevent's (monkey-patched before the app is built): a greenlet waits here by yielding,
so the writer ahead runs on and ends its transaction (SQLite's sleeps block the whole process, that writer too).
"""

from __future__ import annotations

import collections
import os
import sqlite3
import threading
import weakref
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa


class _Waiter:
    __slots__ = ("connection", "thread", "turn")

    def __init__(self, connection: Any, thread: int) -> None:
        self.connection = connection
        self.thread = thread
        self.turn = threading.Lock()  # gevent's lock under gevent: looked up now, after the monkey-patching
        self.turn.acquire()  # released by the writer who hands over the turn


class WriterGate:
    """The write transactions of one SQLite database in this process, let in one at a time, in the order they came.

    A transaction holds the turn from before its BEGIN IMMEDIATE until its connection commits, rolls back or is lost.
    A writer gives up ("database is locked", as SQLite would) only when the turn has not moved for `timeout` seconds:
    the writer ahead is stuck. One waiting behind many others that each commit waits as long as the line moves.
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._mutex = threading.Lock()  # never held across a switch, so a plain lock under gevent too
        self._holder: Any = None  # the DBAPI connection whose transaction has the turn
        self._holder_thread: int | None = None
        self._queue: collections.deque[_Waiter] = collections.deque()
        self._handovers = 0

    def begin_immediate(self, connection: sa.Connection) -> None:
        """Begin `connection`'s write transaction once it is its turn (its commit or rollback hands the turn on)."""
        dbapi_connection = connection.connection.dbapi_connection
        if not self._enter(dbapi_connection):
            raise sa.exc.OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError(
                f"database is locked (the writer ahead kept its turn for {self.timeout:g} s)"))
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self.leave(dbapi_connection)
            raise

    def _enter(self, connection: Any) -> bool:
        """Wait for `connection`'s turn; False when the turn stayed with the same writer for `timeout`."""
        thread = threading.get_ident()  # a greenlet's own under gevent
        with self._mutex:
            if self._holder is None:
                self._holder, self._holder_thread = connection, thread
                return True
            if self._holder_thread == thread:
                # This thread already writes on another connection: queued, it would wait for itself. SQLite
                # answers its second transaction as it always did (locked, after the busy timeout).
                return True
            waiter = _Waiter(connection, thread)
            self._queue.append(waiter)
            seen = self._handovers
        while not waiter.turn.acquire(timeout=self.timeout):
            with self._mutex:
                if self._holder is connection:  # handed over just as the wait ran out
                    return True
                if self._handovers == seen:
                    self._queue.remove(waiter)
                    return False
                seen = self._handovers
        return True

    def leave(self, connection: Any) -> None:
        """`connection`'s transaction has ended: hand the turn to the writer who has waited longest (if it had it)."""
        with self._mutex:
            if self._holder is not connection:
                return
            self._handovers += 1
            if self._queue:
                waiter = self._queue.popleft()
                self._holder, self._holder_thread = waiter.connection, waiter.thread
                waiter.turn.release()
            else:
                self._holder = self._holder_thread = None

    def waiting(self) -> int:
        """How many writers wait for their turn."""
        with self._mutex:
            return len(self._queue)


_GATES: weakref.WeakValueDictionary[str, WriterGate] = weakref.WeakValueDictionary()
_GATES_MUTEX = threading.Lock()


def take_turns(engine: sa.engine.Engine, timeout: float) -> WriterGate:
    """The gate of the engine's database file (one per file in the process, shared by its engines), which every
    commit and rollback of the engine's connections now leaves, as does a connection checked in or lost."""
    path = os.path.realpath(engine.url.database)
    with _GATES_MUTEX:
        gate = _GATES.get(path)
        if gate is None:
            gate = _GATES[path] = WriterGate(timeout)
    # The turn passes on once COMMIT or ROLLBACK has run, not before (SQLAlchemy's commit and rollback events come
    # first): the next writer's BEGIN IMMEDIATE then finds the lock free. The pool's reset of a returned connection
    # rolls back through the same method.
    dialect = engine.dialect
    dialect.do_commit = _then_leave(dialect.do_commit, gate)  # type: ignore[method-assign]
    dialect.do_rollback = _then_leave(dialect.do_rollback, gate)  # type: ignore[method-assign]

    def lost(dbapi_connection: Any, *_: Any) -> None:
        if dbapi_connection is not None:
            gate.leave(dbapi_connection)

    for event in ("checkin", "invalidate", "close"):
        sa.event.listen(engine, event, lost)
    return gate


def on_disk(engine: sa.engine.Engine) -> bool:
    """Whether the engine's SQLite database is a file: each connection to an in-memory one has its own."""
    return engine.url.database not in (None, "", ":memory:")


def gate_of(engine: sa.engine.Engine) -> WriterGate | None:
    """The gate the writers of the engine's database take turns at (None: they do not, as on PostgreSQL)."""
    if engine.dialect.name != "sqlite" or not on_disk(engine):
        return None
    return _GATES.get(os.path.realpath(engine.url.database))


def _then_leave(end: Callable[[Any], None], gate: WriterGate) -> Callable[[Any], None]:
    def end_then_leave(connection: Any) -> None:
        try:
            end(connection)
        finally:
            # The gate only orders this process's writers (SQLite's lock keeps the data safe): a failed COMMIT
            # passing the turn on early costs the next writer a short wait in SQLite's busy handler, no more.
            gate.leave(getattr(connection, "dbapi_connection", connection))

    return end_then_leave
