"""A shared unit of work: the jobs handed in at the same instant commit together, each caller answered only once that
commit is done, with real commits on SQLite and PostgreSQL (each caller a thread with its own session)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from marketplace.accounts.models import AuditEvent
from marketplace.database import after_commit, db, unit_of_work
from marketplace.errors import Conflict
from marketplace.group_commit import NothingWritten, grouped_unit_of_work, init_grouped_units
from tests.conftest import BACKENDS, committed_database_app, gathering_shared_units


@pytest.fixture(scope="module", params=BACKENDS)
def committed_app(request, tmp_path_factory) -> Iterator[Flask]:
    with committed_database_app(request.param, tmp_path_factory.mktemp("grouped"), "grouped") as app:
        yield app


@pytest.fixture
def commits(committed_app) -> Iterator[list[int]]:
    """One entry per transaction the database committed during the test."""
    seen: list[int] = []
    with committed_app.app_context():
        engine = db.engine

    def note(connection: sa.Connection) -> None:
        seen.append(1)

    sa.event.listen(engine, "commit", note)
    yield seen
    sa.event.remove(engine, "commit", note)


def _writing(kind: str, told: list[str], *, fail: BaseException | None = None) -> Callable[[], str]:
    """A job that stores an audit row of `kind`, tells `told` once committed, and raises `fail` (if any) after."""
    def job() -> str:
        db.session.add(AuditEvent(kind=kind))
        db.session.flush()
        after_commit(lambda: told.append(kind))
        if fail is not None:
            raise fail
        return kind
    return job


def _refusing(kind: str) -> Callable[[], str]:
    def job() -> str:
        raise NothingWritten(kind)
    return job


def at_once(app: Flask, jobs: list[Callable[[], str]]) -> list[object]:
    """Hand each job in from a thread of its own (its own app context and session), all gathered into one group; what
    each caller got back, or the exception it got."""
    outcomes: list[object] = [None] * len(jobs)

    def run(index: int) -> None:
        with app.app_context():
            try:
                outcomes[index] = grouped_unit_of_work(jobs[index])
            except BaseException as error:  # noqa: BLE001 - compared below
                outcomes[index] = error

    with gathering_shared_units(app, len(jobs)):
        threads = [threading.Thread(target=run, args=(index,)) for index in range(len(jobs))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a caller is stuck"
    return outcomes


def stored(app: Flask, *kinds: str) -> list[str]:
    with app.app_context():
        found = db.session.scalars(sa.select(AuditEvent.kind).where(AuditEvent.kind.in_(kinds))).all()
        db.session.rollback()
    return sorted(found)


def test_jobs_handed_in_at_once_commit_together_and_each_caller_gets_its_own_result(committed_app, commits):
    told: list[str] = []
    outcomes = at_once(committed_app, [_writing(f"group.{n}", told) for n in range(3)])
    assert outcomes == ["group.0", "group.1", "group.2"]
    assert len(commits) == 1
    assert sorted(told) == ["group.0", "group.1", "group.2"]
    assert stored(committed_app, "group.0", "group.1", "group.2") == ["group.0", "group.1", "group.2"]


def test_a_failed_commit_fails_every_caller_of_the_group_and_stores_none_of_it(committed_app, commits):
    told: list[str] = []
    refused = RuntimeError("the disk is full")

    def failing_commit(session) -> None:
        if session.info.get("fail_this_commit"):
            raise refused

    def marked(job: Callable[[], str]) -> Callable[[], str]:
        def run() -> str:
            db.session.info["fail_this_commit"] = True
            return job()
        return run

    sa.event.listen(db.session.session_factory.class_, "before_commit", failing_commit)
    try:
        outcomes = at_once(committed_app, [marked(_writing(f"lost.{n}", told)) for n in range(2)])
    finally:
        sa.event.remove(db.session.session_factory.class_, "before_commit", failing_commit)
    assert outcomes == [refused, refused]
    assert told == []  # nobody was told of a write that did not commit
    assert commits == []
    assert stored(committed_app, "lost.0", "lost.1") == []


def test_a_job_that_fails_rolls_its_group_back_and_the_others_commit_each_alone(committed_app, commits):
    told: list[str] = []
    conflict = Conflict("refused")
    outcomes = at_once(committed_app, [_writing("alone.0", told), _writing("alone.1", told, fail=conflict),
                                       _writing("alone.2", told)])
    assert outcomes[0] == "alone.0" and outcomes[2] == "alone.2"
    assert outcomes[1] is conflict
    assert sorted(told) == ["alone.0", "alone.2"]
    assert stored(committed_app, "alone.0", "alone.1", "alone.2") == ["alone.0", "alone.2"]
    assert len(commits) == 2  # the shared transaction rolled back; each job that succeeds alone commits once


def test_a_refusal_that_wrote_nothing_fails_alone_inside_the_shared_commit(committed_app, commits):
    told: list[str] = []
    outcomes = at_once(committed_app, [_writing("kept.0", told), _refusing("refused"), _writing("kept.1", told)])
    assert outcomes[0] == "kept.0" and outcomes[2] == "kept.1"
    assert isinstance(outcomes[1], NothingWritten) and str(outcomes[1]) == "refused"
    assert len(commits) == 1
    assert stored(committed_app, "kept.0", "kept.1") == ["kept.0", "kept.1"]


def test_a_caller_alone_commits_at_once_without_waiting_for_company(committed_app, commits):
    pauses: list[float] = []

    def pause(seconds: float) -> None:
        pauses.append(seconds)

    previous = committed_app.extensions["marketplace_grouped_units"]
    init_grouped_units(committed_app, create_event=threading.Event, pause=pause)
    try:
        with committed_app.app_context():
            assert grouped_unit_of_work(_writing("solo", [])) == "solo"
    finally:
        committed_app.extensions["marketplace_grouped_units"] = previous
    assert pauses == [0]  # one yield to whoever is ready to run, never a wait
    assert len(commits) == 1
    assert stored(committed_app, "solo") == ["solo"]


def test_a_caller_already_in_a_transaction_runs_its_job_there(committed_app, commits):
    told: list[str] = []
    with committed_app.app_context():
        with unit_of_work():
            db.session.add(AuditEvent(kind="outer"))
            assert grouped_unit_of_work(_writing("inner", told)) == "inner"
            assert told == [] and commits == []  # it commits with the caller's unit, not before
        assert told == ["inner"] and len(commits) == 1
    assert stored(committed_app, "outer", "inner") == ["inner", "outer"]
