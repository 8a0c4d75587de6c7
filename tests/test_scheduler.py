"""Scheduled jobs run in exactly one process: the holder of the lease."""

from __future__ import annotations

import datetime as dt

import pytest

from marketplace.database import db, utcnow
from marketplace.scheduler import Job, LeasedScheduler, SchedulerLease, lease_status, register_job


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
