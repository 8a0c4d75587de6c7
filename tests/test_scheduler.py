"""Scheduled jobs run in exactly one process: the holder of the lease."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from marketplace import scheduler as scheduler_module
from marketplace.config import ConfigError, load_config
from marketplace.database import db, utcnow
from marketplace.scheduler import (
    TAKEOVER_MARGIN,
    Job,
    LeasedScheduler,
    SchedulerLease,
    lease_status,
    register_job,
)


@pytest.fixture
def clean_lease(app):
    with app.app_context():
        db.session.query(SchedulerLease).delete()
        db.session.commit()
    yield
    with app.app_context():
        db.session.query(SchedulerLease).delete()
        db.session.commit()


def test_only_one_of_two_schedulers_runs_jobs(app, clean_lease):
    runs: list[str] = []
    first, second = LeasedScheduler(app), LeasedScheduler(app)
    job_of = {s: s.guarded(lambda s=s: runs.append(s.holder)) for s in (first, second)}

    assert first.renew() is True
    assert second.renew() is False
    job_of[first]()
    job_of[second]()
    assert runs == [first.holder]


def test_a_standby_takes_over_when_the_holder_stops(app, clean_lease):
    first, second = LeasedScheduler(app), LeasedScheduler(app)
    assert first.renew()
    first.shutdown()  # releases the lease
    assert second.renew()
    assert first.renew() is False


def test_a_standby_takes_over_when_the_holder_dies(app, clean_lease):
    first, second = LeasedScheduler(app), LeasedScheduler(app)
    assert first.renew()
    later = utcnow() + dt.timedelta(seconds=app.config["SCHEDULER_LEASE_SECONDS"] + 1)
    assert second.renew(now=later) is True
    assert first.renew(now=later) is False  # the old holder learns it lost the lease and stops running jobs


def test_registered_jobs_run_inside_an_app_context(app, clean_lease):
    seen = []
    register_job(app, Job("probe", lambda: seen.append(db.engine.url.drivername), "interval", {"hours": 1}))
    try:
        scheduler = LeasedScheduler(app)
        ids = [job.id for job in scheduler.scheduler.get_jobs()]
        assert ids[0] == "lease" and ids[-1] == "probe"  # the lease first, then every registered job
        scheduler.renew()
        scheduler.scheduler.get_job("probe").func()
        with app.app_context():
            assert seen == [db.engine.url.drivername]
    finally:
        app.extensions["scheduled_jobs"].pop()


def test_health_reports_the_lease(app, clean_lease, client):
    assert client.get("/healthz").json["checks"]["scheduler"] == "not running"
    scheduler = LeasedScheduler(app)
    scheduler.renew()
    with app.app_context():
        assert lease_status() == "ok"
    scheduler.shutdown()


def holder_of_lease(app) -> str | None:
    with app.app_context():
        return db.session.scalar(sa.select(SchedulerLease.holder))


def test_the_lease_is_short_and_renewed_every_third_of_it(app, tmp_path: Path):
    assert load_config(tmp_path, {})["SCHEDULER_LEASE_SECONDS"] == 6
    assert LeasedScheduler(app).renew_every == app.config["SCHEDULER_LEASE_SECONDS"] / 3
    assert load_config(tmp_path, {"SCHEDULER_LEASE_SECONDS": "3"})["SCHEDULER_LEASE_SECONDS"] == 3
    with pytest.raises(ConfigError, match="SCHEDULER_LEASE_SECONDS must be at least 3, not 2"):
        load_config(tmp_path, {"SCHEDULER_LEASE_SECONDS": "2"})


def test_a_holder_whose_lease_lapsed_runs_no_jobs(app, clean_lease):
    runs: list[str] = []
    first = LeasedScheduler(app)
    job = first.guarded(lambda: runs.append("ran"))
    past = utcnow() - dt.timedelta(seconds=first.ttl + 1)
    assert first.renew(now=past) is False  # it wrote the lease, but that expiry is already behind
    job()
    assert runs == []
    assert first.renew() is True
    job()
    assert runs == ["ran"]


def test_a_holder_frozen_past_its_lease_runs_no_jobs_when_it_resumes(app, clean_lease, monkeypatch):
    runs: list[str] = []
    first = LeasedScheduler(app)
    job = first.guarded(lambda: runs.append("ran"))
    assert first.renew() is True
    written = first.expires_at
    # Resumed after a freeze longer than the lease, before any renewal: the expiry it wrote is behind it now.
    monkeypatch.setattr(scheduler_module, "utcnow", lambda: written + dt.timedelta(seconds=1))
    job()
    assert runs == []
    assert first.expires_at == written  # no renewal ran: it is the clock, not a flag, that stops the job


def test_a_holder_frozen_past_its_lease_by_the_monotonic_clock_runs_no_jobs(app, clean_lease, monkeypatch):
    runs: list[str] = []
    first = LeasedScheduler(app)
    job = first.guarded(lambda: runs.append("ran"))
    assert first.renew() is True
    resumed = time.monotonic() + first.ttl + 1  # the wall clock was set back meanwhile: it alone would not see it
    monkeypatch.setattr(scheduler_module, "time", SimpleNamespace(monotonic=lambda: resumed))
    job()
    assert runs == []


def test_a_second_scheduler_takes_the_lease_within_ttl_after_the_first_stops_renewing(app, clean_lease):
    first, second = LeasedScheduler(app), LeasedScheduler(app)
    start = utcnow()
    assert first.renew(now=start) is True
    # The first stops renewing (killed): the lease is its own for exactly ttl, then the second's.
    assert second.renew(now=start + dt.timedelta(seconds=first.ttl - 0.5)) is False
    assert holder_of_lease(app) == first.holder
    assert second.renew(now=start + dt.timedelta(seconds=first.ttl + 0.1)) is True
    assert holder_of_lease(app) == second.holder
    assert first.renew(now=start + dt.timedelta(seconds=first.ttl + 0.2)) is False


def test_a_standby_tries_again_right_when_the_lease_runs_out(app, clean_lease):
    first, second = LeasedScheduler(app), LeasedScheduler(app)
    assert first.renew() is True
    assert second.renew() is False
    assert second.scheduler.get_job("lease-takeover") is None  # the expiry is further off than the next renewal
    almost = first.expires_at - dt.timedelta(seconds=1)
    assert second.renew(now=almost) is False
    retry = second.scheduler.get_job("lease-takeover")
    assert retry.trigger.run_date == first.expires_at + TAKEOVER_MARGIN
    assert retry.func == second.renew


def test_a_renewal_that_cannot_reach_the_database_keeps_the_lease_until_it_expires(app, clean_lease, monkeypatch):
    runs: list[str] = []
    first = LeasedScheduler(app)
    job = first.guarded(lambda: runs.append("ran"))
    assert first.renew() is True
    written = first.expires_at

    def unreachable(*args, **kwargs):
        raise sa.exc.OperationalError("UPDATE scheduler_leases", {}, ConnectionRefusedError("database is down"))

    monkeypatch.setattr(scheduler_module, "try_acquire", unreachable)
    assert first.renew() is True  # no crash; nobody else can take the lease before its expiry
    job()
    assert runs == ["ran"]
    monkeypatch.setattr(scheduler_module, "utcnow", lambda: written + dt.timedelta(seconds=1))
    assert first.renew() is False  # still unreachable, and now past the expiry it last wrote
    job()
    assert runs == ["ran"]


def test_jobs_skipped_while_standing_by_run_at_once_on_takeover(app, clean_lease):
    ran = threading.Event()
    register_job(app, Job("probe", ran.set, "interval", {"hours": 1}))
    first, second = LeasedScheduler(app), LeasedScheduler(app)
    try:
        assert first.renew() is True
        second.start()
        assert not second.holds_lease()
        second.scheduler.get_job("probe").func()  # it fires while the first holds the lease: skipped
        assert not ran.is_set()
        first.shutdown()  # releases the lease
        assert second.renew() is True
        assert ran.wait(timeout=10)  # not an hour later
    finally:
        app.extensions["scheduled_jobs"].pop()
        second.shutdown()
        first.shutdown()
