"""A service's transaction: committed once at the end of the outermost unit, rolled back whole on error."""

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import AuditEvent
from marketplace.database import after_commit, db, unit_of_work, use_case
from marketplace.errors import Conflict


def _audit_kinds() -> list[str]:
    return db.session.scalars(sa.select(AuditEvent.kind).order_by(AuditEvent.id)).all()


@use_case
def _record(kind: str, *, fail: bool = False) -> None:
    db.session.add(AuditEvent(kind=kind))
    db.session.flush()
    if fail:
        raise Conflict("refused")


def test_a_use_case_commits_what_it_wrote(session):
    _record("uow.one")
    session.expunge_all()
    assert "uow.one" in _audit_kinds()


def test_a_use_case_that_raises_leaves_nothing_behind(session):
    with pytest.raises(Conflict):
        _record("uow.refused", fail=True)
    assert "uow.refused" not in _audit_kinds()


def test_units_inside_a_unit_commit_once_with_the_outermost(session):
    told = []
    with pytest.raises(Conflict), unit_of_work():
        _record("uow.inner")  # joins: not committed on its own
        after_commit(lambda: told.append("sent"))
        _record("uow.outer", fail=True)
    assert told == []
    assert not {"uow.inner", "uow.outer"} & set(_audit_kinds())

    with unit_of_work():
        _record("uow.inner")
        after_commit(lambda: told.append("sent"))
        assert told == []  # nothing is told before the outermost unit commits
    assert told == ["sent"]
    assert "uow.inner" in _audit_kinds()


def test_a_unit_that_commits_alone_refuses_to_run_inside_another(session):
    with pytest.raises(RuntimeError, match="commits on its own"), unit_of_work():
        _record("uow.outer")
        with unit_of_work(alone=True):
            _record("uow.alone")
    assert not {"uow.outer", "uow.alone"} & set(_audit_kinds())
    with unit_of_work(alone=True):
        _record("uow.alone")
    assert "uow.alone" in _audit_kinds()
