"""The database layer keeps its promises under concurrent writers."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from marketplace.accounts import services
from marketplace.accounts.models import AuditEvent, Role
from marketplace.database import db
from tests.factories import PASSWORD


def test_concurrent_log_ins_all_succeed_and_are_all_audited(app):
    """Read-then-write transactions from many threads: none fails with 'database is locked'."""
    with app.app_context():
        user = services.create_user("busy@example.com", PASSWORD, "Busy Bee", Role.OPS, actor=None)
        user_id = user.id
    results: list[object] = []
    errors: list[BaseException] = []

    def log_in() -> None:
        try:
            with app.app_context():
                for _ in range(5):
                    results.append(services.authenticate("busy@example.com", PASSWORD, ip="127.0.0.1"))
        except BaseException as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=log_in) for _ in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        assert len(results) == 40 and all(result is not None for result in results)
        with app.app_context():
            logins = db.session.scalar(sa.select(sa.func.count()).where(
                AuditEvent.kind == "login", AuditEvent.subject_id == user_id))
            assert logins == 40
    finally:
        with app.app_context():
            db.session.execute(sa.delete(AuditEvent).where(AuditEvent.subject_id == user_id))
            db.session.execute(sa.text("DELETE FROM users WHERE id = :id"), {"id": user_id})
            db.session.commit()


def test_side_effects_run_after_commit_and_never_after_rollback(app, session):
    ran: list[str] = []
    from marketplace.database import after_commit

    after_commit(lambda: ran.append("kept"))
    assert ran == []  # nothing happens before the commit
    session.commit()
    assert ran == ["kept"]

    after_commit(lambda: ran.append("dropped"))
    session.rollback()
    session.commit()
    assert ran == ["kept"]
