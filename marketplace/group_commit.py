"""Group commit: the writes that callers hand in at the same instant share one transaction, each caller answered
only once it has committed (one commit for many writers: a relayed message cost a transaction of its own)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app

from marketplace.database import db, discard_after_rollback, in_unit_of_work, unit_of_work

R = TypeVar("R")


class NothingWritten(Exception):  # noqa: N818 - a refusal, not a failure of the unit
    """A job of a shared unit of work (`grouped_unit_of_work`) refused before it wrote anything: it fails alone, and the
    jobs beside it still commit. Raise it only when nothing was written: the shared transaction goes on."""


class _Ticket:
    """One caller's job in a shared unit of work, and what became of it."""

    __slots__ = ("alone", "done", "error", "job", "lead", "result")

    def __init__(self, job: Callable[[], Any], done: Any) -> None:
        self.job = job
        self.done = done  # an event: set once the job's fate is known, or when this caller is to lead the next group
        self.result: Any = None
        self.error: BaseException | None = None
        self.lead = False  # this caller commits the next group
        self.alone = False  # another job of its group failed: this one runs again in a unit of its own


class _Groups:
    """The jobs waiting for the next shared unit of work of one app, and whether a caller is leading one."""

    def __init__(self, create_event: Callable[[], Any], pause: Callable[[float], None]) -> None:
        self.create_event = create_event
        self.pause = pause
        self.lock = threading.Lock()  # never held across a switch, so a plain lock under gevent too
        self.waiting: list[_Ticket] = []
        self.leading = False


_GROUPS = "marketplace_grouped_units"
_MOST_YIELDS = 4


def init_grouped_units(app: Flask, *, create_event: Callable[[], Any], pause: Callable[[float], None]) -> None:
    """Give the app's shared units of work the waiting primitives of its server's async mode (gevent or threads)."""
    app.extensions[_GROUPS] = _Groups(create_event, pause)


def grouped_unit_of_work(job: Callable[[], R]) -> R:
    """Run `job` (its writes, and their after-commit steps) in a unit of work it may share with the jobs other callers
    hand in at the same instant, and return its result once that unit has committed: one commit for many writers.

    The first caller to arrive leads: it yields so that the callers ready to run hand theirs in (again while more come,
    a few times at most; once, and straight back, when nobody else is ready: no waiting), runs every job in order in
    one transaction of its own session, commits, then tells each caller. Nothing is returned before the commit. A
    job that raises `NothingWritten` fails alone; one that raises anything else rolls the group back, and each job
    of it runs again in a unit of its own (the failure, if it is its own, comes back to its caller from there). A
    commit that fails fails every job of the group. Callers that arrive while a group commits wait for the next
    one, led by the first of them. A job runs in the leader's session and thread: it takes its values as
    arguments, never from its caller's request or context. A caller already inside a transaction (a unit of work,
    or a read not ended) runs its job there, alone: it holds locks the leader would wait for.
    """
    groups: _Groups | None = current_app.extensions.get(_GROUPS)
    if groups is None or _session_busy():
        with unit_of_work():
            return job()
    ticket = _Ticket(job, groups.create_event())
    with groups.lock:
        groups.waiting.append(ticket)
        lead = not groups.leading
        groups.leading = True
    if not lead:
        ticket.done.wait()
        lead = ticket.lead
    if lead:
        _lead(groups, ticket)
    if ticket.alone:
        with unit_of_work():
            return job()
    if ticket.error is not None:
        raise ticket.error
    return ticket.result


def _session_busy() -> bool:
    """Whether the caller's session is in a transaction (a caller that has none yet is not given one: most callers
    of a shared unit never use their own)."""
    if not db.session.registry.has():
        return False
    return in_unit_of_work() or db.session().in_transaction()


def _lead(groups: _Groups, own: _Ticket) -> None:
    """Commit the waiting jobs (`own` among them) as one group, tell their callers, and hand the lead on."""
    # The callers ready to run hand their jobs in now (under gevent nobody else runs while the group commits): yield
    # while the group grows, a few times at most. With nobody else ready, the first yield comes straight back.
    handed_in = len(groups.waiting)
    for _ in range(_MOST_YIELDS):
        groups.pause(0)
        if len(groups.waiting) == handed_in:
            break
        handed_in = len(groups.waiting)
    with groups.lock:
        group, groups.waiting = groups.waiting, []
    try:
        _commit_group(group)
    finally:
        with groups.lock:
            successor = groups.waiting[0] if groups.waiting else None
            if successor is not None:
                successor.lead = True
            else:
                groups.leading = False
        for ticket in group:
            if ticket is not own:
                ticket.done.set()
        if successor is not None:
            successor.done.set()


def _commit_group(group: list[_Ticket]) -> None:
    shared = len(group) > 1
    job_failed = False
    try:
        with unit_of_work():
            for ticket in group:
                try:
                    ticket.result = ticket.job()
                except NothingWritten as refusal:
                    ticket.error = refusal
                except BaseException:
                    job_failed = True
                    if shared:
                        # Each job runs again alone and notes its own steps after a rollback then; not twice.
                        discard_after_rollback()
                    raise
    except Exception as error:
        for ticket in group:
            if job_failed and shared:
                ticket.alone, ticket.result, ticket.error = True, None, None
            elif ticket.error is None:
                ticket.result, ticket.error = None, error
    except BaseException:
        # The leader itself is stopped (its greenlet killed): the group rolled back, and each job runs again alone.
        for ticket in group:
            ticket.alone, ticket.result, ticket.error = True, None, None
        raise
