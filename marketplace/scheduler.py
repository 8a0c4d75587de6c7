"""Scheduled jobs that run in exactly one process, guarded by a lease in the database.

In the single-process default the scheduler runs inside `marketplace serve`; deployed with several
web processes, `SCHEDULER_MODE=external` keeps it out of them and `marketplace scheduler` runs it.
Should two schedulers start anyway, only the lease holder runs jobs; the other waits to take over.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from marketplace.database import db, utcnow

log = logging.getLogger("marketplace.scheduler")
LEASE_NAME = "scheduler"


class SchedulerLease(db.Model):
    __tablename__ = "scheduler_leases"

    name: so.Mapped[str] = so.mapped_column(sa.String(40), primary_key=True)
    holder: so.Mapped[str] = so.mapped_column(sa.String(120))
    expires_at: so.Mapped[dt.datetime]
    renewed_at: so.Mapped[dt.datetime]


@dataclass(frozen=True)
class Job:
    """A job a domain asks to run: `func` takes no arguments and runs inside an app context."""

    id: str
    func: Callable[[], Any]
    trigger: str
    trigger_args: dict[str, Any] = field(default_factory=dict)


def register_job(app: Flask, job: Job) -> None:
    app.extensions.setdefault("scheduled_jobs", []).append(job)


def try_acquire(holder: str, ttl_seconds: int, now: dt.datetime | None = None) -> bool:
    """Take or renew the lease if it is free, expired or already ours; one compare-and-set."""
    now = now or utcnow()
    expires = now + dt.timedelta(seconds=ttl_seconds)
    result = db.session.execute(
        sa.update(SchedulerLease)
        .where(SchedulerLease.name == LEASE_NAME)
        .where(sa.or_(SchedulerLease.holder == holder, SchedulerLease.expires_at < now))
        .values(holder=holder, expires_at=expires, renewed_at=now)
    )
    if result.rowcount == 1:
        db.session.commit()
        return True
    exists = db.session.scalar(sa.select(SchedulerLease.name).where(SchedulerLease.name == LEASE_NAME))
    if exists is not None:
        db.session.rollback()
        return False
    try:
        db.session.add(SchedulerLease(name=LEASE_NAME, holder=holder, expires_at=expires, renewed_at=now))
        db.session.commit()
        return True
    except sa.exc.IntegrityError:  # another process inserted it first
        db.session.rollback()
        return False


def release(holder: str) -> None:
    db.session.execute(sa.delete(SchedulerLease).where(
        SchedulerLease.name == LEASE_NAME, SchedulerLease.holder == holder))
    db.session.commit()


def lease_status() -> str:
    lease = db.session.get(SchedulerLease, LEASE_NAME)
    if lease is None:
        return "not running"
    return "ok" if lease.expires_at > utcnow() else "stale"


class LeasedScheduler:
    """APScheduler whose jobs run only while this process holds the lease."""

    def __init__(self, app: Flask, *, blocking: bool = False):
        self.app = app
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.ttl = app.config["SCHEDULER_LEASE_SECONDS"]
        self.held = False
        self.scheduler: BaseScheduler = (BlockingScheduler if blocking else BackgroundScheduler)(timezone=dt.UTC)
        self.scheduler.add_job(self.renew, "interval", seconds=max(1, self.ttl // 3), id="lease",
                               max_instances=1, coalesce=True)
        for job in app.extensions.get("scheduled_jobs", []):
            self.scheduler.add_job(self.guarded(job.func), job.trigger, id=job.id, max_instances=1,
                                   coalesce=True, **job.trigger_args)

    def renew(self, now: dt.datetime | None = None) -> bool:
        with self.app.app_context():
            try:
                held = try_acquire(self.holder, self.ttl, now)
            except sa.exc.SQLAlchemyError:
                log.exception("could not renew the scheduler lease")
                held = False
        if held != self.held:
            log.info("scheduler %s %s the lease", self.holder, "holds" if held else "does not hold")
        self.held = held
        return held

    def guarded(self, func: Callable[[], Any]) -> Callable[[], Any]:
        @functools.wraps(func)
        def run() -> Any:
            if not self.held:
                return None
            with self.app.app_context():
                return func()

        return run

    def start(self) -> None:
        self.renew()
        if not self.held:
            log.warning("another scheduler holds the lease; this one stands by to take over")
        self.scheduler.start()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        if self.held:
            with self.app.app_context():
                release(self.holder)
            self.held = False


def init_app(app: Flask) -> None:
    app.extensions.setdefault("scheduled_jobs", [])
    app.extensions.setdefault("health_checks", {})["scheduler"] = lease_status
