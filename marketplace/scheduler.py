"""Scheduled jobs that run in exactly one process, guarded by a lease in the database.

In the single-process default the scheduler runs inside `marketplace serve`; deployed with several
web processes, `SCHEDULER_MODE=external` keeps it out of them and `marketplace scheduler` runs it.
Should two schedulers start anyway, only the lease holder runs jobs; the other stands by to take over.

The lease is short (SCHEDULER_LEASE_SECONDS, 6 s by default) and renewed every third of it, so a standby
or a restarted scheduler takes over within seconds of the holder's death (`kill -9`, a lost machine). A
process runs a job only while the expiry it last wrote is still ahead, by its wall clock and its monotonic
clock: a holder frozen past its lease and then resumed does not run jobs another process may now run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from marketplace.database import db, utcnow

log = logging.getLogger("marketplace.scheduler")
LEASE_NAME = "scheduler"
# A standby tries again this long after the holder's lease runs out (the lease is free only once past it).
TAKEOVER_MARGIN = dt.timedelta(milliseconds=50)
# A job that runs this long is logged: on SQLite it may have held the one write lock all that time.
SLOW_JOB_SECONDS = 2.0


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


def try_acquire(holder: str, ttl_seconds: float, now: dt.datetime | None = None) -> dt.datetime | None:
    """Take or renew the lease if it is free, expired or already ours; one compare-and-set.

    Returns the expiry written (the lease is ours until then), or None when another process holds it.
    """
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
        return expires
    exists = db.session.scalar(sa.select(SchedulerLease.name).where(SchedulerLease.name == LEASE_NAME))
    if exists is not None:
        db.session.rollback()
        return None
    try:
        db.session.add(SchedulerLease(name=LEASE_NAME, holder=holder, expires_at=expires, renewed_at=now))
        db.session.commit()
        return expires
    except sa.exc.IntegrityError:  # another process inserted it first
        db.session.rollback()
        return None


def lease_expiry() -> dt.datetime | None:
    """When the current holder's lease runs out (None without a lease); ends the transaction."""
    expires = db.session.scalar(sa.select(SchedulerLease.expires_at).where(SchedulerLease.name == LEASE_NAME))
    db.session.rollback()
    return expires


def release(holder: str) -> None:
    db.session.execute(sa.delete(SchedulerLease).where(
        SchedulerLease.name == LEASE_NAME, SchedulerLease.holder == holder))
    db.session.commit()


def lease_status() -> str:
    lease = db.session.get(SchedulerLease, LEASE_NAME)
    if lease is None:
        return "not running"
    return "ok" if lease.expires_at > utcnow() else "stale"


@dataclass(frozen=True)
class _Held:
    """The lease as this process last wrote it: its expiry, and the same moment on the monotonic clock."""

    expires_at: dt.datetime
    deadline: float


class LeasedScheduler:
    """APScheduler whose jobs run only while this process holds the lease.

    Every job fires on its schedule in every scheduler; one that fires while this process does not hold the
    lease does nothing but is remembered, and runs at once when this process takes the lease over (what the
    dead holder may have left undone, such as offers past their time, is not left for another interval).
    """

    def __init__(self, app: Flask, *, blocking: bool = False):
        self.app = app
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.ttl: int = app.config["SCHEDULER_LEASE_SECONDS"]
        self.renew_every = self.ttl / 3
        self._held: _Held | None = None  # replaced whole, never changed in place: jobs read it from other threads
        self._renewing = threading.Lock()  # one renewal at a time, so the expiry kept is the one last written
        self._missed: set[str] = set()
        self.scheduler: BaseScheduler = (BlockingScheduler if blocking else BackgroundScheduler)(timezone=dt.UTC)
        self.scheduler.add_job(self.renew, "interval", seconds=self.renew_every, id="lease",
                               max_instances=1, coalesce=True)
        for job in app.extensions.get("scheduled_jobs", []):
            self.scheduler.add_job(self.guarded(job.func, job.id), job.trigger, id=job.id, max_instances=1,
                                   coalesce=True, **job.trigger_args)

    @property
    def expires_at(self) -> dt.datetime | None:
        """The expiry of the lease this process last wrote, if it holds or held it since its last loss."""
        held = self._held
        return held.expires_at if held else None

    def holds_lease(self) -> bool:
        """Whether the lease this process last wrote is still running, by the wall clock and the monotonic one."""
        held = self._held
        return held is not None and utcnow() < held.expires_at and time.monotonic() < held.deadline

    def renew(self, now: dt.datetime | None = None) -> bool:
        """Take or renew the lease; True when this process holds it afterwards.

        A failed renewal (the database out of reach) changes nothing: the lease last written still runs
        until its expiry, and nobody else can take it before; after that, jobs stop here.
        """
        with self._renewing:
            had = self.holds_lease()
            now = now or utcnow()
            started = time.monotonic()
            try:
                with self.app.app_context():  # its end closes the session, which may fail too
                    expires = try_acquire(self.holder, self.ttl, now)
                    theirs = None if expires is not None else lease_expiry()
            except sa.exc.SQLAlchemyError as error:
                log.warning("scheduler %s could not renew its lease (trying again in %.1f s): %s",
                            self.holder, self.renew_every, error)
                return self.holds_lease()
            if expires is None:
                self._held = None
                self._retry_when_free(theirs, now)
            else:
                self._held = _Held(expires, started + (expires - now).total_seconds())
            holds = self.holds_lease()
            if holds != had:
                log.info("scheduler %s %s the lease", self.holder, "holds" if holds else "does not hold")
            if holds and not had:
                self._catch_up()
            return holds

    def _retry_when_free(self, expires: dt.datetime | None, now: dt.datetime) -> None:
        """Try again just after the holder's lease runs out, when that comes before the next renewal."""
        if expires is None or not dt.timedelta(0) < expires - now < dt.timedelta(seconds=self.renew_every):
            return
        self.scheduler.add_job(self.renew, "date", run_date=expires + TAKEOVER_MARGIN, id="lease-takeover",
                               replace_existing=True, misfire_grace_time=None)

    def _catch_up(self) -> None:
        """Run at once the jobs that fired while another process held the lease."""
        missed, self._missed = self._missed, set()
        for job_id in sorted(missed):
            with contextlib.suppress(JobLookupError):  # the scheduler is shutting down
                self.scheduler.modify_job(job_id, next_run_time=utcnow())

    def guarded(self, func: Callable[[], Any], job_id: str | None = None) -> Callable[[], Any]:
        @functools.wraps(func)
        def run() -> Any:
            if not self.holds_lease():
                if job_id is not None:
                    self._missed.add(job_id)
                return None
            started = time.monotonic()
            try:
                with self.app.app_context():
                    return func()
            finally:
                took = time.monotonic() - started
                if took >= SLOW_JOB_SECONDS:
                    log.warning("job %s took %.1f s", job_id or func.__name__, took)

        return run

    def start(self) -> None:
        self.renew()
        if not self.holds_lease():
            log.warning("another scheduler holds the lease; this one stands by to take over")
        self.scheduler.start()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        if self._held is not None:
            self._held = None
            try:
                with self.app.app_context():
                    release(self.holder)
            except sa.exc.SQLAlchemyError as error:  # it runs out by itself
                log.warning("scheduler %s could not release its lease: %s", self.holder, error)


def init_app(app: Flask) -> None:
    app.extensions.setdefault("scheduled_jobs", [])
    app.extensions.setdefault("health_checks", {})["scheduler"] = lease_status
