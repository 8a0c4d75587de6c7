#!/usr/bin/env python
"""Routing benchmarks (DESIGN.md section 8): decisions per second and offer latencies.

Run from the project root with the project's virtualenv:

    python benchmarks/routing.py --json          # one JSON object on stdout, progress on stderr
    python benchmarks/routing.py --quick --json  # smaller sizes, for a smoke run

Four measurements, each against a fresh database it builds itself (nothing shared with a dev database):

1. SQLite, one router: `router._decide(brand_id)` over N waiting conversations, and in the same run
   bare-SQL routers (sqlite3 directly, BEGIN IMMEDIATE) making the same decisions on the same data: on the
   migrated schema (the expert pick ordered by expressions, so it sorts), and with two extra indexes that let
   both picks walk an index. The app's router walks the migrated schema's own indexes (`schema_revision`).
2. PostgreSQL, 4 router processes (own app and connection each): several brands (each expert approved for one;
   `--pg-shared` adds every expert approved for every brand) and one brand; bare-SQL baselines with psycopg
   (FOR UPDATE on the brand's load row, FOR UPDATE SKIP LOCKED on the expert's). The app's routers run the closed
   loop twice: with their own passes (up to DECISIONS_PER_PASS decisions, for throughput) and with passes of
   `--small-pass-size` (2; a decision's latency is its pass's, so small passes are the latency's measure).
   A database `mk_bench_*` is created on the server and dropped at the end; null with a reason when the
   server cannot be reached.
3. Created -> offer on the expert's socket: `marketplace serve` (threading, SQLite file) in a subprocess,
   200 experts logged in through the login form with a Socket.IO client each; visitors arrive through
   the widget API and the time until the `offer` event reaches the expert is taken.
4. Capacity freed -> next offer: every expert at capacity and visitors waiting; an expert closes a chat
   (socket `chat_close`) and the time until the next `offer` reaches them is taken.

Figures are medians / percentiles and ratios, never pass or fail.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import multiprocessing
import os
import platform
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import benchlib
from benchlib import PASSWORD, SECRET, environ, free_port, launch, log, log_in, ms, percentile, ratio, stop

from marketplace import settle_heap

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# Figures.

def latency_figures(latencies: list[float]) -> dict:
    return {"p50_ms": ms(percentile(latencies, 50)), "p90_ms": ms(percentile(latencies, 90)),
            "p99_ms": ms(percentile(latencies, 99)), "max_ms": ms(max(latencies) if latencies else None)}


def rate_figures(latencies: list[float], seconds: float, errors: int = 0) -> dict:
    return {"decisions": len(latencies), "seconds": round(seconds, 3),
            "decisions_per_second": round(len(latencies) / seconds, 1) if seconds > 0 else None,
            **latency_figures(latencies), "errors": errors}


# The app, built on a database URL the way tests/conftest.py's make_app does.

def make_app(database_url: str):
    from marketplace import create_app

    environ = {"MARKETPLACE_ENV": "test", "SECRET_KEY": SECRET, "DATABASE_URL": database_url,
               "RATELIMIT_STORAGE_URI": "memory://", "RATELIMIT_ENABLED": "false", "SCHEDULER_MODE": "off"}
    return create_app({}, environ=environ)


def seed(n_brands: int, n_experts: int, n_conversations: int, *, enrol: str = "disjoint", concurrency: int = 3,
         password_hash: str = "!", email_tag: str = "bench") -> dict:  # noqa: S107 - "!" matches no password
    """Brands, approved experts (available, empty load) and waiting conversations; bulk inserts, committed.

    enrol: "disjoint" (expert i approved for brand i % n_brands) or "shared" (every expert for every brand).
    Conversations go round-robin to the brands, oldest first in id order. Call inside an app context.
    """
    import sqlalchemy as sa

    from marketplace.accounts.models import Role, User
    from marketplace.brands.models import Brand
    from marketplace.database import db, utcnow
    from marketplace.experts.models import (
        Enrolment,
        EnrolmentStatus,
        ExpertPresence,
        ExpertProfile,
        ExpertStatus,
        PresenceStatus,
    )
    from marketplace.routing.models import BrandLoad, Conversation, ConversationStatus, ExpertLoad

    now = utcnow()
    tag = uuid.uuid4().hex[:6]
    brand_ids = list(db.session.scalars(
        sa.insert(Brand).returning(Brand.id, sort_by_parameter_order=True),
        [{"name": f"Bench brand {i}", "slug": f"bench-{tag}-{i}", "timezone": "Europe/Paris", "currency": "EUR",
          "expert_concurrency": concurrency, "widget_origins": [], "topics": []} for i in range(n_brands)],
    ))
    emails = [f"{email_tag}{i}-{tag}@bench.example.com" for i in range(n_experts)]
    user_ids = list(db.session.scalars(
        sa.insert(User).returning(User.id, sort_by_parameter_order=True),
        [{"email": email, "full_name": f"Bench Expert {i}", "role": Role.EXPERT, "password_hash": password_hash,
          "locale": "en"} for i, email in enumerate(emails)],
    )) if n_experts else []
    expert_ids = list(db.session.scalars(
        sa.insert(ExpertProfile).returning(ExpertProfile.id, sort_by_parameter_order=True),
        [{"user_id": user_id, "display_name": f"Expert{i}", "status": ExpertStatus.APPROVED,
          "languages": ["fr", "en"], "status_changed_at": now} for i, user_id in enumerate(user_ids)],
    )) if n_experts else []
    if enrol == "shared":
        pairs = [(e, b) for e in expert_ids for b in brand_ids]
    else:
        pairs = [(e, brand_ids[i % n_brands]) for i, e in enumerate(expert_ids)]
    if pairs:
        db.session.execute(sa.insert(Enrolment), [
            {"expert_id": e, "brand_id": b, "status": EnrolmentStatus.APPROVED, "status_changed_at": now}
            for e, b in pairs])
        db.session.execute(sa.insert(ExpertPresence), [
            {"expert_id": e, "status": PresenceStatus.AVAILABLE, "changed_at": now, "last_heartbeat_at": now,
             "missed_offers_in_row": 0} for e in expert_ids])
        db.session.execute(sa.insert(ExpertLoad), [
            {"expert_id": e, "open_chats": 0, "pending_offers": 0} for e in expert_ids])
    if n_conversations:
        start = now - dt.timedelta(seconds=n_conversations)
        db.session.execute(sa.insert(Conversation), [
            {"brand_id": brand_ids[i % n_brands], "status": ConversationStatus.WAITING, "priority": 0,
             "visitor_token_hash": hashlib.sha256(secrets.token_bytes(16)).hexdigest(),
             "created_at": start + dt.timedelta(milliseconds=i), "queued_at": start + dt.timedelta(milliseconds=i),
             "visitor_seen_at": now, "last_activity_at": now} for i in range(n_conversations)])
    today = now.date()  # lock_brand rolls it over to the brand's own day when that differs
    db.session.execute(sa.insert(BrandLoad), [
        {"brand_id": b, "open_conversations": sum(1 for i in range(n_conversations) if i % n_brands == k),
         "pending_offers": 0, "day": today, "day_accepted": 0, "month": today.strftime("%Y-%m"),
         "month_committed_cents": 0, "refusals": 0} for k, b in enumerate(brand_ids)])
    db.session.commit()
    return {"brand_ids": brand_ids, "expert_ids": expert_ids, "user_ids": user_ids, "emails": emails}


RESET_STATEMENTS = [
    "DELETE FROM offers",
    "UPDATE conversations SET status = 'waiting' WHERE status = 'offered'",
    "UPDATE expert_loads SET pending_offers = 0, last_offered_at = NULL",
    "UPDATE brand_loads SET pending_offers = 0",
]


def reset_routing(app) -> None:
    """Put the data back as seeded (no offers), so the baseline decides on the same queue."""
    from marketplace.database import db

    with app.app_context():
        for statement in RESET_STATEMENTS:
            db.session.execute(db.text(statement))
        db.session.commit()
        db.session.remove()


def counters_ok(app) -> bool:
    from marketplace.database import db
    from marketplace.routing.router import loads

    with app.app_context():
        problems = loads.counters_match()
        db.session.commit()
        db.session.remove()
    if problems:
        log("  counters differ from the rows:", problems[:3])
    return not problems


# (1) SQLite, one router.

def app_router_single(app, brand_id: int, limit: int, max_seconds: float) -> tuple[list[float], float, int]:
    from marketplace.database import db
    from marketplace.routing.router import decisions as router

    latencies: list[float] = []
    with app.app_context():
        started = time.perf_counter()
        deadline = started + max_seconds
        more = True
        while more and len(latencies) < limit and time.perf_counter() < deadline:
            t0 = time.perf_counter()
            made, more = router._decide(brand_id, min(router.DECISIONS_PER_PASS, limit - len(latencies)))
            t1 = time.perf_counter()
            latencies += [t1 - t0] * len(made)  # each offer goes out when its pass commits
        elapsed = time.perf_counter() - started
        db.session.remove()
    return latencies, elapsed, 0


SQLITE_EXPERT = """
SELECT el.expert_id FROM expert_loads el
JOIN expert_presence p ON p.expert_id = el.expert_id
JOIN expert_profiles ep ON ep.id = el.expert_id
JOIN enrolments e ON e.expert_id = el.expert_id AND e.brand_id = ?
WHERE p.status = 'available' AND ep.status = 'approved' AND e.status = 'approved'
  AND el.open_chats + el.pending_offers < ?
  AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.conversation_id = ? AND o.expert_id = el.expert_id)
ORDER BY el.open_chats + el.pending_offers, el.last_offered_at IS NOT NULL, el.last_offered_at, el.expert_id
LIMIT 1
"""
# The price on the brand's rate card in effect today (the router reads it the same way for every decision).
PRICE_SQL = ("(SELECT rc.price_cents FROM rate_cards rc WHERE rc.brand_id = b.id AND rc.cancelled_at IS NULL "
             "AND rc.effective_from <= CURRENT_DATE ORDER BY rc.effective_from DESC, rc.id DESC LIMIT 1)")
SQLITE_QUEUE = """
SELECT id FROM conversations WHERE brand_id = ? AND status = 'waiting'
ORDER BY priority DESC, queued_at, id LIMIT 1
"""
# The same decision written so that both picks walk an index in order and stop at the first row that fits
# (needs BENCH_INDEXES; SQLite sorts NULL first, so never-offered experts still come first).
SQLITE_EXPERT_INDEXED = """
SELECT el.expert_id FROM expert_loads el
WHERE el.open_chats + el.pending_offers < ?2
  AND EXISTS (SELECT 1 FROM enrolments e WHERE e.expert_id = el.expert_id AND e.brand_id = ?1 AND e.status = 'approved')
  AND EXISTS (SELECT 1 FROM expert_presence p WHERE p.expert_id = el.expert_id AND p.status = 'available')
  AND EXISTS (SELECT 1 FROM expert_profiles ep WHERE ep.id = el.expert_id AND ep.status = 'approved')
  AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.conversation_id = ?3 AND o.expert_id = el.expert_id)
ORDER BY el.open_chats + el.pending_offers, el.last_offered_at, el.expert_id
LIMIT 1
"""
SQLITE_BENCH_INDEXES = [
    "CREATE INDEX bench_queue ON conversations (brand_id, status, priority DESC, queued_at, id)",
    "CREATE INDEX bench_pick ON expert_loads ((open_chats + pending_offers), last_offered_at, expert_id)",
]


def _may_offer(pending: int, day_accepted: int, month_cents: int, daily_cap, budget, rate: int) -> bool:
    if daily_cap is not None and day_accepted + pending + 1 > daily_cap:
        return False
    return budget is None or month_cents + (pending + 1) * rate <= budget


def _sqlite_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def bare_sqlite_router(path: str, brand_id: int, limit: int, expert_sql: str = SQLITE_EXPERT
                       ) -> tuple[list[float], float, int]:
    """The same decision in plain SQL: lock, oldest waiting, least-loaded eligible expert, offer, counters."""
    connection = sqlite3.connect(path, isolation_level=None)
    for pragma in ("foreign_keys=ON", "busy_timeout=10000", "journal_mode=WAL", "synchronous=NORMAL"):
        connection.execute(f"PRAGMA {pragma}")
    latencies: list[float] = []
    started = time.perf_counter()
    while len(latencies) < limit:
        t0 = time.perf_counter()
        now = dt.datetime.now(dt.UTC)
        connection.execute("BEGIN IMMEDIATE")
        load = connection.execute(
            "SELECT bl.pending_offers, bl.day_accepted, bl.month_committed_cents, b.daily_cap, "
            "b.monthly_budget_cents, " + PRICE_SQL + ", b.expert_concurrency, b.offer_timeout_seconds "
            "FROM brand_loads bl JOIN brands b ON b.id = bl.brand_id WHERE bl.brand_id = ?", (brand_id,)).fetchone()
        decided = False
        if _may_offer(*load[:6]):
            row = connection.execute(SQLITE_QUEUE, (brand_id,)).fetchone()
            if row is not None:
                conversation_id = row[0]
                expert = connection.execute(expert_sql, (brand_id, load[6], conversation_id)).fetchone()
                if expert is not None:
                    stamp = _sqlite_time(now)
                    connection.execute(
                        "INSERT INTO offers (conversation_id, brand_id, expert_id, status, created_at, expires_at) "
                        "VALUES (?, ?, ?, 'pending', ?, ?)",
                        (conversation_id, brand_id, expert[0], stamp,
                         _sqlite_time(now + dt.timedelta(seconds=load[7]))))
                    connection.execute("UPDATE conversations SET status = 'offered' WHERE id = ?", (conversation_id,))
                    connection.execute("UPDATE expert_loads SET pending_offers = pending_offers + 1, "
                                       "last_offered_at = ? WHERE expert_id = ?", (stamp, expert[0]))
                    connection.execute("UPDATE brand_loads SET pending_offers = pending_offers + 1 "
                                       "WHERE brand_id = ?", (brand_id,))
                    decided = True
        connection.execute("COMMIT")
        t1 = time.perf_counter()
        if not decided:
            break
        latencies.append(t1 - t0)
    elapsed = time.perf_counter() - started
    connection.close()
    return latencies, elapsed, 0


def _report(label: str, figures: dict) -> None:
    cpu = (f"; CPU a decision {figures['router_cpu_ms_per_decision']} ms here + "
           f"{figures['postgres_cpu_ms_per_decision']} ms in PostgreSQL" if "router_cpu_ms_per_decision" in figures
           else "")
    log(f"    {label:<34} {figures['decisions_per_second']:>8}/s  p50 {figures['p50_ms']} ms  "
        f"p99 {figures['p99_ms']} ms  ({figures['decisions']} decisions, errors {figures['errors']}{cpu})")


def bench_sqlite(args, workdir: Path) -> dict:
    path = workdir / "routing-sqlite.db"
    url = f"sqlite:///{path}"
    log(f"[1] SQLite, one router: {args.conversations} waiting conversations, {args.experts} experts "
        f"x concurrency {args.concurrency} (each run at most {args.max_run_seconds:g} s)")
    app = make_app(url)
    revision = benchlib.migrate(app)
    from marketplace.database import db

    with app.app_context():
        seeded = seed(1, args.experts, args.conversations, concurrency=args.concurrency)
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
        db.session.remove()
    brand_id = seeded["brand_ids"][0]
    latencies, elapsed, errors = app_router_single(app, brand_id, args.conversations, args.max_run_seconds)
    app_figures = rate_figures(latencies, elapsed, errors)
    app_figures["counters_match_rows"] = counters_ok(app)
    _report("app router._decide", app_figures)
    limit = len(latencies)  # every router makes the same decisions over the same stretch of the queue
    reset_routing(app)
    with app.app_context():
        db.engine.dispose()
    bare = rate_figures(*bare_sqlite_router(str(path), brand_id, limit))
    _report("bare SQL, same schema", bare)
    reset_routing(app)
    with app.app_context():
        db.engine.dispose()
    connection = sqlite3.connect(str(path))
    for statement in [*SQLITE_BENCH_INDEXES, "ANALYZE"]:
        connection.execute(statement)
    connection.commit()
    connection.close()
    indexed = rate_figures(*bare_sqlite_router(str(path), brand_id, limit, SQLITE_EXPERT_INDEXED))
    _report("bare SQL, index-ordered picks", indexed)
    reset_routing(app)
    latencies, elapsed, errors = app_router_single(app, brand_id, limit, args.max_run_seconds)
    what_if = rate_figures(latencies, elapsed, errors)
    _report("app router._decide + those indexes", what_if)
    with app.app_context():
        db.engine.dispose()
    return {
        "conversations": args.conversations, "experts": args.experts, "concurrency": args.concurrency,
        "schema_revision": revision,
        "app_router": app_figures,
        "bare_sql_same_schema": bare,
        "bare_sql_index_ordered": {**indexed, "extra_indexes": SQLITE_BENCH_INDEXES},
        "app_router_with_extra_indexes": what_if,
        "ratio_app_to_bare_same_schema": ratio(app_figures["decisions_per_second"], bare["decisions_per_second"]),
        "ratio_app_to_bare_index_ordered": ratio(app_figures["decisions_per_second"],
                                                 indexed["decisions_per_second"]),
        "target_decisions_per_second": 2000,
    }


# (2) PostgreSQL, 4 routers.

PG_EXPERT = """
SELECT el.expert_id FROM expert_loads el
JOIN expert_presence p ON p.expert_id = el.expert_id
JOIN expert_profiles ep ON ep.id = el.expert_id
JOIN enrolments e ON e.expert_id = el.expert_id AND e.brand_id = %(brand)s
WHERE p.status = 'available' AND ep.status = 'approved' AND e.status = 'approved'
  AND el.open_chats + el.pending_offers < %(concurrency)s
  AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.conversation_id = %(conversation)s AND o.expert_id = el.expert_id)
ORDER BY el.open_chats + el.pending_offers, el.last_offered_at IS NOT NULL, el.last_offered_at, el.expert_id
LIMIT 1
FOR UPDATE OF el SKIP LOCKED
"""
PG_EXPERT_INDEXED = """
SELECT el.expert_id FROM expert_loads el
WHERE el.open_chats + el.pending_offers < %(concurrency)s
  AND EXISTS (SELECT 1 FROM enrolments e WHERE e.expert_id = el.expert_id AND e.brand_id = %(brand)s
              AND e.status = 'approved')
  AND EXISTS (SELECT 1 FROM expert_presence p WHERE p.expert_id = el.expert_id AND p.status = 'available')
  AND EXISTS (SELECT 1 FROM expert_profiles ep WHERE ep.id = el.expert_id AND ep.status = 'approved')
  AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.conversation_id = %(conversation)s AND o.expert_id = el.expert_id)
ORDER BY el.open_chats + el.pending_offers, el.last_offered_at NULLS FIRST, el.expert_id
LIMIT 1
FOR UPDATE OF el SKIP LOCKED
"""
PG_BENCH_INDEXES = [
    "CREATE INDEX bench_queue ON conversations (brand_id, status, priority DESC, queued_at, id)",
    "CREATE INDEX bench_pick ON expert_loads ((open_chats + pending_offers), last_offered_at NULLS FIRST, expert_id)",
]


def _split(brand_ids: list[int], routers: int) -> list[list[int]]:
    if len(brand_ids) == 1:
        return [list(brand_ids) for _ in range(routers)]
    return [brand_ids[i::routers] for i in range(routers)]


class CpuClock:
    """The CPU a router spends: its own process's, and its PostgreSQL backend's (the server runs on this machine:
    its backend's /proc/<pid>/stat). What a decision costs the machine's cores, which bounds how many of them the
    cores make in a second and how long each waits for a core."""

    def __init__(self, backend_pid: int) -> None:
        self.stat = Path(f"/proc/{backend_pid}/stat")
        self.started = self._now()

    def _now(self) -> tuple[float, float]:
        fields = self.stat.read_text().rpartition(")")[2].split()  # utime and stime: the 14th and 15th fields
        return time.process_time(), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def spent(self) -> tuple[float, float]:
        """(this process's CPU seconds, its backend's) since the clock was made."""
        now = self._now()
        return now[0] - self.started[0], now[1] - self.started[1]


def figures_with_cpu(latencies: list[float], seconds: float, errors: int, cpu: dict) -> dict:
    return {**rate_figures(latencies, seconds, errors), **cpu}


def cpu_figures(cpu: list[tuple[float, float]], decisions: int) -> dict:
    """The routers' CPU per decision, in their own processes and in PostgreSQL's."""
    def per_decision(seconds: float) -> float | None:
        return round(seconds * 1000 / decisions, 3) if decisions else None

    return {"router_cpu_ms_per_decision": per_decision(sum(own for own, _ in cpu)),
            "postgres_cpu_ms_per_decision": per_decision(sum(backend for _, backend in cpu))}


def _run_routers(routers: int, work) -> tuple[list[float], float, int, dict]:
    """Start `routers` processes running work(index, barrier) -> (latencies, errors, cpu spent); time from the
    barrier. Returns the latencies, the seconds, the errors and the CPU per decision (`cpu_figures`).

    Processes, as a deployment runs its routers (one in each web process and the scheduler's): threads of one
    interpreter queue for its lock, each waiting up to its switch interval (5 ms) after every statement.
    """
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(routers + 1)
    results = context.Queue()

    def run(index: int) -> None:
        results.put((index, *work(index, barrier)))

    processes = [context.Process(target=run, args=(i,), daemon=True) for i in range(routers)]
    for process in processes:
        process.start()
    barrier.wait()
    started = time.perf_counter()
    collected = [results.get() for _ in processes]
    elapsed = time.perf_counter() - started
    for process in processes:
        process.join()
    latencies = [value for _, lat, _, _ in collected for value in lat]
    return (latencies, elapsed, sum(errors for _, _, errors, _ in collected),
            cpu_figures([cpu for _, _, _, cpu in collected], len(latencies)))


# Decisions (one a pass) each closed-loop router makes before the clock starts, not counted: a router measured is one
# that has served a while, its statements prepared (psycopg prepares one on its sixth run) and its caches warm. The
# first passes of a process cold made the p99 of the small passes (1 % of them): 11.0 ms with them, 9.1 without.
WARM_UP_DECISIONS = 8


def _shared_count(limit: int):
    """A count the router processes share, and the event set once it reaches `limit`."""
    context = multiprocessing.get_context("fork")
    count, done = context.Value("i", 0), context.Event()

    def add(n: int) -> None:
        with count.get_lock():
            count.value += n
            if count.value >= limit:
                done.set()

    return add, done


def app_routers_parallel(app, assignments: list[list[int]], limit: int, max_seconds: float,
                         pass_size: int | None = None) -> tuple[list[float], float, int, dict]:
    from marketplace.database import db
    from marketplace.routing.router import decisions as router

    add, done = _shared_count(limit)

    def work(index: int, barrier) -> tuple[list[float], int, tuple[float, float]]:
        latencies: list[float] = []
        errors = 0
        with app.app_context():
            db.engine.dispose(close=False)  # the parent's pooled connections are not this process's
            # A connection checked out before the clock starts: one thread, so the pool hands back this one.
            backend = db.session.execute(db.text("SELECT pg_backend_pid()")).scalar_one()
            db.session.commit()
            settle_heap()  # as `marketplace serve` and `marketplace scheduler` do before they serve
            for _ in range(WARM_UP_DECISIONS):
                router._decide(assignments[index][0], 1)
            barrier.wait()
            clock = CpuClock(backend)
            deadline = time.perf_counter() + max_seconds
            active = list(assignments[index])
            while active and not done.is_set() and time.perf_counter() < deadline:
                for brand_id in list(active):
                    t0 = time.perf_counter()
                    try:
                        made, more = router._decide(brand_id, pass_size or router.DECISIONS_PER_PASS)
                    except Exception as error:  # noqa: BLE001 - counted and reported, the run goes on
                        db.session.rollback()
                        errors += 1
                        if errors <= 3:
                            log(f"    router {index}: {type(error).__name__}: {error}")
                        if errors > 50:
                            active.clear()
                        continue
                    t1 = time.perf_counter()
                    latencies += [t1 - t0] * len(made)  # each offer goes out when its pass commits
                    if not more:
                        active.remove(brand_id)
                    add(len(made))
            spent = clock.spent()
            db.session.remove()
        return latencies, errors, spent

    return _run_routers(len(assignments), work)


def bare_pg_decide(connection, brand_id: int, expert_sql: str = PG_EXPERT) -> int | None:
    """One decision in bare SQL, a transaction of its own: the conversation offered, or None."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with connection.transaction():
        load = connection.execute(
            "SELECT bl.pending_offers, bl.day_accepted, bl.month_committed_cents, b.daily_cap, "
            "b.monthly_budget_cents, " + PRICE_SQL + ", b.expert_concurrency, b.offer_timeout_seconds "
            "FROM brand_loads bl JOIN brands b ON b.id = bl.brand_id WHERE bl.brand_id = %s FOR UPDATE OF bl",
            (brand_id,)).fetchone()
        if not _may_offer(*load[:6]):
            return None
        row = connection.execute(
            "SELECT id FROM conversations WHERE brand_id = %s AND status = 'waiting' "
            "ORDER BY priority DESC, queued_at, id LIMIT 1", (brand_id,)).fetchone()
        if row is None:
            return None
        expert = connection.execute(expert_sql, {"brand": brand_id, "concurrency": load[6],
                                                "conversation": row[0]}).fetchone()
        if expert is None:
            return None
        connection.execute(
            "INSERT INTO offers (conversation_id, brand_id, expert_id, status, created_at, expires_at) "
            "VALUES (%s, %s, %s, 'pending', %s, %s)",
            (row[0], brand_id, expert[0], now, now + dt.timedelta(seconds=load[7])))
        connection.execute("UPDATE conversations SET status = 'offered' WHERE id = %s", (row[0],))
        connection.execute("UPDATE expert_loads SET pending_offers = pending_offers + 1, last_offered_at = %s "
                           "WHERE expert_id = %s", (now, expert[0]))
        connection.execute("UPDATE brand_loads SET pending_offers = pending_offers + 1 WHERE brand_id = %s",
                           (brand_id,))
        return row[0]


def bare_pg_routers(url: str, assignments: list[list[int]], limit: int, expert_sql: str = PG_EXPERT
                    ) -> tuple[list[float], float, int, dict]:
    import psycopg

    add, done = _shared_count(limit)

    def work(index: int, barrier) -> tuple[list[float], int, tuple[float, float]]:
        latencies: list[float] = []
        errors = 0
        with psycopg.connect(url) as connection:
            for _ in range(WARM_UP_DECISIONS):
                bare_pg_decide(connection, assignments[index][0], expert_sql)
            barrier.wait()
            clock = CpuClock(connection.info.backend_pid)
            active = list(assignments[index])
            while active and not done.is_set():
                for brand_id in list(active):
                    t0 = time.perf_counter()
                    try:
                        decided = bare_pg_decide(connection, brand_id, expert_sql)
                    except psycopg.Error as error:
                        errors += 1
                        if errors <= 3:
                            log(f"    bare router {index}: {error}")
                        if errors > 50:
                            active.clear()
                        continue
                    t1 = time.perf_counter()
                    if decided is None:
                        active.remove(brand_id)
                        continue
                    latencies.append(t1 - t0)
                    add(1)
            spent = clock.spent()
        return latencies, errors, spent

    return _run_routers(len(assignments), work)


# Paced: conversations join the queue at a steady rate, as visitors do, and are routed as the app routes them.

PARK_STATEMENTS = [
    "DELETE FROM offers",
    "UPDATE conversations SET status = 'bot' WHERE status IN ('waiting', 'offered')",
    "UPDATE expert_loads SET pending_offers = 0, last_offered_at = NULL",
    "UPDATE brand_loads SET pending_offers = 0, open_conversations = 0",
]
UNPARK_STATEMENTS = [
    "DELETE FROM offers",
    "UPDATE conversations SET status = 'waiting' WHERE status IN ('bot', 'offered')",
    "UPDATE expert_loads SET pending_offers = 0, last_offered_at = NULL",
    "UPDATE brand_loads bl SET pending_offers = 0, open_conversations = "
    "(SELECT count(*) FROM conversations c WHERE c.brand_id = bl.brand_id AND c.status = 'waiting')",
]


def _run_statements(url: str, statements: list[str]) -> None:
    import psycopg

    with psycopg.connect(url) as connection:
        for statement in statements:
            connection.execute(statement)


def _parked(url: str, count: int) -> list[tuple[int, int]]:
    """The first `count` parked conversations (with the FAQ bot: open, not in the queue) and their brands, in turn."""
    import psycopg

    with psycopg.connect(url) as connection:
        return connection.execute("SELECT id, brand_id FROM conversations WHERE status = 'bot' ORDER BY id LIMIT %s",
                                  (count,)).fetchall()


def paced_routers(url: str, assignments: list[list[int]], rate: float, seconds: float, make_router) -> dict:
    """Conversations join their brand's queue at `rate` a second, as the FAQ bot's hand-over lets them in (the
    brand's count, then the conversation, in one transaction), from a process of their own with a thread and a
    connection for each brand (concurrent requests: one brand's arrival waits for that brand's routing pass to let
    go of its lock, not for the other brands'; a single feeding thread made every arrival wait for all of them,
    half the measured latency at 250/s); each router process is
    told when one of its brands has new arrivals and routes it then (`make_router()` builds its function, in that
    process), as the app routes after an arrival commits. Arrivals that come while a router is busy are routed
    together by its next call, as concurrent requests' calls are. A decision's latency runs from the moment its
    conversation was due to join the queue (a late feeder is counted) to the commit of the pass that offered it;
    the figures also say how late arrivals joined and how long they then waited in the queue.
    """
    import psycopg

    arrivals = _parked(url, int(rate * seconds))
    context = multiprocessing.get_context("fork")
    routers = len(assignments)
    barrier = context.Barrier(routers + 2)
    results = context.Queue()
    start_at, fed = context.Value("d", 0.0), context.Event()
    brand_ids = sorted({brand_id for brands in assignments for brand_id in brands})
    slot = {brand_id: index for index, brand_id in enumerate(brand_ids)}
    dirty = [context.Value("b", 0, lock=False) for _ in brand_ids]
    wake = [context.Event() for _ in range(routers)]
    owners = {brand_id: [i for i, brands in enumerate(assignments) if brand_id in brands] for brand_id in brand_ids}

    def feed_brand(brand_id: int, mine: list[tuple[int, float]], due: dict[int, float],
                   joined: dict[int, float]) -> None:
        """One brand's arrivals, each let in when due (those already due together), on a connection of its own: an
        arrival waits for the brand's lock as the app's does, but not for other brands' passes."""
        with psycopg.connect(url) as connection:
            k = 0
            while k < len(mine):
                now = time.perf_counter()
                if mine[k][1] > now:
                    time.sleep(mine[k][1] - now)
                    continue
                ready = k
                while ready < len(mine) and mine[ready][1] <= now:
                    ready += 1
                ids = [conversation_id for conversation_id, _ in mine[k:ready]]
                with connection.transaction():
                    connection.execute("UPDATE brand_loads SET open_conversations = open_conversations + %s "
                                       "WHERE brand_id = %s", (len(ids), brand_id))
                    connection.execute("UPDATE conversations SET status = 'waiting', queued_at = "
                                       "(now() AT TIME ZONE 'UTC') WHERE id = ANY(%s)", (ids,))
                committed = time.perf_counter()
                for conversation_id, at in mine[k:ready]:
                    due[conversation_id], joined[conversation_id] = at, committed
                k = ready
                dirty[slot[brand_id]].value = 1
                for owner in owners[brand_id]:
                    wake[owner].set()

    def feed() -> None:
        due: dict[int, float] = {}
        joined: dict[int, float] = {}
        barrier.wait()
        barrier.wait()  # the parent has set the start
        begin = start_at.value
        per_brand: dict[int, list[tuple[int, float]]] = {brand_id: [] for brand_id in brand_ids}
        for index, (conversation_id, brand_id) in enumerate(arrivals):
            per_brand[brand_id].append((conversation_id, begin + index / rate))
        with ThreadPoolExecutor(len(per_brand)) as pool:
            for done in [pool.submit(feed_brand, brand_id, mine, due, joined) for brand_id, mine in per_brand.items()]:
                done.result()
        fed.set()
        for event in wake:
            event.set()
        results.put(("due", (due, joined)))

    def run(index: int) -> None:
        decided: dict[int, float] = {}
        calls: list[float] = []
        errors = 0
        route = make_router()  # its set-up (a connection checked out) before the clock starts
        barrier.wait()
        barrier.wait()
        mine = assignments[index]
        while True:
            last = fed.is_set()
            wake[index].wait(0.5)
            wake[index].clear()
            for brand_id in mine:
                if not dirty[slot[brand_id]].value and not last:
                    continue
                dirty[slot[brand_id]].value = 0
                t0 = time.perf_counter()
                try:
                    offered = route(brand_id)
                except Exception as error:  # noqa: BLE001 - counted and reported, the run goes on
                    errors += 1
                    if errors <= 3:
                        log(f"    paced router {index}: {type(error).__name__}: {error}")
                    continue
                t1 = time.perf_counter()
                calls.append(t1 - t0)
                for conversation_id in offered:
                    decided[conversation_id] = t1
            if last:
                break  # one more call for every brand after the last arrival, then done
        results.put(("decided", (decided, calls, errors)))

    processes = [context.Process(target=feed, daemon=True)]
    processes += [context.Process(target=run, args=(i,), daemon=True) for i in range(routers)]
    for process in processes:
        process.start()
    barrier.wait()
    start_at.value = time.perf_counter() + 0.05
    barrier.wait()
    collected = [results.get() for _ in processes]
    for process in processes:
        process.join()
    due, joined = next(value for kind, value in collected if kind == "due")
    outcomes = [value for kind, value in collected if kind == "decided"]
    decided = {k: v for d, _, _ in outcomes for k, v in d.items()}
    latencies = [decided[k] - at for k, at in due.items() if k in decided]
    elapsed = max(decided.values(), default=start_at.value) - start_at.value
    figures = rate_figures(latencies, elapsed, sum(e for _, _, e in outcomes))
    calls = [value for _, c, _ in outcomes for value in c]
    late = [joined[k] - at for k, at in due.items()]
    in_queue = [decided[k] - at for k, at in joined.items() if k in decided]
    return {"rate_asked": rate, "arrivals": len(due), "not_offered": len(due) - len(latencies), **figures,
            "joined_queue_late_p50_ms": ms(percentile(late, 50)), "joined_queue_late_p99_ms": ms(percentile(late, 99)),
            "from_joining_p50_ms": ms(percentile(in_queue, 50)), "from_joining_p99_ms": ms(percentile(in_queue, 99)),
            "route_calls": len(calls), "route_call_p50_ms": ms(percentile(calls, 50)),
            "route_call_p99_ms": ms(percentile(calls, 99))}


def app_route(app):
    """For paced_routers: the app's `route_brand`, in the forked process; the conversations it offered."""
    from marketplace.database import db
    from marketplace.routing.router import decisions as router

    def make():
        context = app.app_context()
        context.push()
        db.engine.dispose(close=False)  # the parent's pooled connections are not this process's
        db.session.connection()
        db.session.commit()
        settle_heap()  # as `marketplace serve` and `marketplace scheduler` do before they serve

        def decide(brand_id: int) -> list[int]:
            return [decision.conversation_id for decision in router.route_brand(brand_id)]

        return decide

    return make


def bare_route(url: str, expert_sql: str = PG_EXPERT):
    """For paced_routers: bare-SQL decisions, one transaction each, until none goes."""

    def make():
        import psycopg

        connection = psycopg.connect(url)

        def decide(brand_id: int) -> list[int]:
            offered = []
            while (conversation_id := bare_pg_decide(connection, brand_id, expert_sql)) is not None:
                offered.append(conversation_id)
            return offered

        return decide

    return make


def pg_vacuum(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")


def _report_paced(label: str, figures: dict) -> None:
    log(f"    {label:<36} {figures['decisions_per_second']:>7}/s  p50 {figures['p50_ms']} ms  "
        f"p99 {figures['p99_ms']} ms  ({figures['decisions']} of {figures['arrivals']} offered; in the queue "
        f"p99 {figures['from_joining_p99_ms']} ms after joining it, {figures['joined_queue_late_p99_ms']} ms late; "
        f"route calls p99 {figures['route_call_p99_ms']} ms, errors {figures['errors']})")


def paced_case(args, app, url: str, assignments: list[list[int]]) -> dict:
    """The app's routers and the bare ones, with conversations joining the queues at each --paced-rate a second."""
    runs = {}
    for rate in args.paced_rate:
        figures = {}
        for label, make_router in (("app_router", app_route(app)), ("bare_sql_same_schema", bare_route(url))):
            _run_statements(url, PARK_STATEMENTS)
            pg_vacuum(url)
            figures[label] = paced_routers(url, assignments, rate, args.paced_seconds, make_router)
            if label == "app_router":
                figures[label]["counters_match_rows"] = counters_ok(app)
            _report_paced(f"{'app route_brand' if label == 'app_router' else 'bare SQL'} at {rate:g}/s",
                          figures[label])
        figures["ratio_p99_app_to_bare"] = ratio(figures["app_router"]["p99_ms"],
                                                 figures["bare_sql_same_schema"]["p99_ms"])
        runs[f"{rate:g}_per_second"] = figures
    if runs:
        _run_statements(url, UNPARK_STATEMENTS)
    return runs


def bench_pg_case(args, admin, name: str, n_brands: int, enrol: str) -> dict:
    import psycopg

    database = f"mk_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin.execute(f'CREATE DATABASE "{database}"')
    plain_url = f"postgresql://postgres@127.0.0.1:5432/{database}"
    app = None
    log(f"  case: {name}")
    try:
        app = make_app(plain_url.replace("postgresql://", "postgresql+psycopg://"))
        revision = benchlib.migrate(app)
        from marketplace.database import db

        with app.app_context():
            seeded = seed(n_brands, args.experts, args.conversations, enrol=enrol, concurrency=args.concurrency)
            db.session.remove()
        pg_vacuum(plain_url)
        assignments = _split(seeded["brand_ids"], args.routers)
        latencies, elapsed, errors, cpu = app_routers_parallel(app, assignments, args.conversations,
                                                               args.max_run_seconds, args.pass_size)
        app_figures = {**rate_figures(latencies, elapsed, errors), **cpu}
        app_figures["counters_match_rows"] = counters_ok(app)
        _report("app router._decide", app_figures)
        limit = len(latencies)
        reset_routing(app)
        pg_vacuum(plain_url)
        # The same closed loop with small passes: each offer goes out when its pass commits, so a pass's length is
        # its decisions' latency; small passes trade the throughput above for it.
        small = {**figures_with_cpu(*app_routers_parallel(app, assignments, args.conversations, args.max_run_seconds,
                                                          args.small_pass_size)),
                 "pass_size": args.small_pass_size, "counters_match_rows": counters_ok(app)}
        _report(f"app router._decide, passes of {args.small_pass_size}", small)
        reset_routing(app)
        pg_vacuum(plain_url)
        bare = figures_with_cpu(*bare_pg_routers(plain_url, assignments, limit))
        _report("bare SQL, same schema", bare)
        paced = paced_case(args, app, plain_url, assignments)
        reset_routing(app)
        with psycopg.connect(plain_url, autocommit=True) as connection:
            for statement in PG_BENCH_INDEXES:
                connection.execute(statement)
        pg_vacuum(plain_url)
        indexed = figures_with_cpu(*bare_pg_routers(plain_url, assignments, limit, PG_EXPERT_INDEXED))
        _report("bare SQL, index-ordered picks", indexed)
        return {"brands": n_brands, "experts_approved_for": "one brand each" if enrol == "disjoint" else "every brand",
                "schema_revision": revision, "app_router": app_figures, "app_router_small_passes": small,
                "bare_sql_same_schema": bare, "paced": paced,
                "bare_sql_index_ordered": {**indexed, "extra_indexes": PG_BENCH_INDEXES},
                "ratio_app_to_bare_same_schema": ratio(app_figures["decisions_per_second"],
                                                       bare["decisions_per_second"]),
                "ratio_app_to_bare_index_ordered": ratio(app_figures["decisions_per_second"],
                                                         indexed["decisions_per_second"]),
                "ratio_small_passes_to_bare_same_schema": ratio(small["decisions_per_second"],
                                                                bare["decisions_per_second"]),
                "ratio_small_passes_p99_to_bare_same_schema": ratio(small["p99_ms"], bare["p99_ms"])}
    finally:
        if app is not None:
            from marketplace.database import db

            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        try:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        except psycopg.Error as error:
            log(f"    could not drop {database}: {error}")


def bench_pg(args) -> tuple[dict | None, str | None]:
    try:
        import psycopg

        admin = psycopg.connect(args.pg_admin_url, autocommit=True, connect_timeout=3)
    except Exception as error:  # noqa: BLE001 - any failure to reach the server is the reason reported
        return None, f"PostgreSQL not reachable at {args.pg_admin_url}: {type(error).__name__}: {error}"
    log(f"[2] PostgreSQL, {args.routers} routers: {args.conversations} conversations, {args.experts} experts")
    cases = {}
    try:
        cases[f"{args.pg_brands}_brands_disjoint_experts"] = bench_pg_case(
            args, admin, f"{args.pg_brands} brands, disjoint experts", args.pg_brands, "disjoint")
        if args.pg_shared:
            cases[f"{args.pg_brands}_brands_shared_experts"] = bench_pg_case(
                args, admin, f"{args.pg_brands} brands, shared experts", args.pg_brands, "shared")
        cases["1_brand"] = bench_pg_case(args, admin, "1 brand", 1, "disjoint")
    finally:
        admin.close()
    return {"routers": args.routers, "conversations": args.conversations, "experts": args.experts,
            "concurrency": args.concurrency, "cases": cases,
            "target": {"decisions_per_second": 1000, "p99_ms": 10}}, None


# (3) and (4): the real server, 200 experts on sockets.

def start_server(database_url: str, workdir: Path) -> tuple[subprocess.Popen, str, Path]:
    import requests

    url = f"http://127.0.0.1:{free_port()}"
    env = environ(DATABASE_URL=database_url, SECRET_KEY=SECRET, MARKETPLACE_ENV="development",
                  SCHEDULER_MODE="off", RATELIMIT_ENABLED="false")
    command = [str(Path(sys.executable).parent / "marketplace"), "serve", "--port", url.rsplit(":", 1)[1]]

    def healthy() -> bool:
        try:
            return requests.get(f"{url}/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    log_path = workdir / "server.log"
    return launch("server", command, env, log_path, healthy), url, log_path


class ExpertClients:
    """One python-socketio AsyncClient per expert, recording when each `offer` event arrives."""

    def __init__(self, url: str, cookies: list[str]):
        self.url = url
        self.cookies = cookies
        self.clients: list = []
        self.offers: dict[int, tuple[float, int, int]] = {}  # conversation_id -> (time, expert index, offer id)
        self.waiters: dict[int, asyncio.Future] = {}  # conversation_id -> future of the offer
        self.any_offer: dict[int, asyncio.Future] = {}  # expert index -> future of their next offer
        self.welcomed = 0

    def _handlers(self, client, index: int) -> None:
        def on_offer(data):
            now = time.perf_counter()
            conversation_id = data["conversation_id"]
            self.offers[conversation_id] = (now, index, data["offer_id"])
            waiter = self.waiters.pop(conversation_id, None)
            if waiter is not None and not waiter.done():
                waiter.set_result((now, index, data["offer_id"]))
            waiter = self.any_offer.pop(index, None)
            if waiter is not None and not waiter.done():
                waiter.set_result((now, conversation_id, data["offer_id"]))

        def on_welcome(data):
            self.welcomed += 1

        client.on("offer", on_offer)
        client.on("welcome", on_welcome)

    async def connect(self, parallel: int = 20) -> None:
        import socketio

        gate = asyncio.Semaphore(parallel)

        async def one(index: int, cookie: str):
            client = socketio.AsyncClient(reconnection=False)
            self._handlers(client, index)
            async with gate:
                await client.connect(self.url, headers={"Cookie": cookie}, transports=["websocket"],
                                     wait_timeout=30)
            return client

        self.clients = list(await asyncio.gather(*(one(i, c) for i, c in enumerate(self.cookies))))
        deadline = time.monotonic() + 30
        while self.welcomed < len(self.clients) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    async def disconnect(self) -> None:
        await asyncio.gather(*(client.disconnect() for client in self.clients), return_exceptions=True)


async def _arrive(http, url: str, key: str) -> tuple[float, dict]:
    token = secrets.token_hex(20)
    t0 = time.perf_counter()
    async with http.post(f"{url}/api/widget/{key}/conversations", json={"page_url": "https://shop.example.com/"},
                         headers={"X-Visitor-Token": token}) as answer:
        body = await answer.json()
        if answer.status != 201:
            raise RuntimeError(f"arrival answered {answer.status}: {body}")
    return t0, body


async def socket_phases(args, url: str, key: str, cookies: list[str], n_experts: int) -> dict:
    import aiohttp

    experts = ExpertClients(url, cookies)
    t_connect = time.perf_counter()
    await experts.connect()
    log(f"    {len(experts.clients)} expert sockets connected ({experts.welcomed} welcomed) in "
        f"{time.perf_counter() - t_connect:.1f} s")
    loop = asyncio.get_running_loop()
    result: dict = {}
    try:
        async with aiohttp.ClientSession() as http:
            # (3) created -> offer, arrivals paced at a steady rate (open loop).
            latencies: list[float] = []
            http_latencies: list[float] = []
            missing = 0
            not_offered = 0

            async def one_arrival() -> None:
                nonlocal missing, not_offered
                token = secrets.token_hex(20)
                t0 = time.perf_counter()
                async with http.post(f"{url}/api/widget/{key}/conversations",
                                     json={"page_url": "https://shop.example.com/"},
                                     headers={"X-Visitor-Token": token}) as answer:
                    body = await answer.json()
                    t_http = time.perf_counter()
                if answer.status != 201:
                    raise RuntimeError(f"arrival answered {answer.status}: {body}")
                http_latencies.append(t_http - t0)
                if body["status"] != "offered":
                    not_offered += 1
                conversation_id = body["id"]
                if conversation_id in experts.offers:
                    arrived = experts.offers[conversation_id]
                else:
                    waiter = loop.create_future()
                    experts.waiters[conversation_id] = waiter
                    try:
                        arrived = await asyncio.wait_for(waiter, timeout=5)
                    except TimeoutError:
                        missing += 1
                        return
                latencies.append(arrived[0] - t0)

            log(f"[3] created -> offer: {args.arrivals} arrivals at {args.arrival_rate}/s, "
                f"{n_experts} experts online")
            tasks = []
            start = time.perf_counter()
            for k in range(args.arrivals):
                delay = start + k / args.arrival_rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one_arrival()))
            await asyncio.gather(*tasks)
            result["created_to_offer"] = {
                "experts_online": n_experts, "arrivals": args.arrivals, "arrival_rate_per_second": args.arrival_rate,
                "offers_received": len(latencies), "missing_offers": missing, "not_offered_at_once": not_offered,
                **latency_figures(latencies),
                "http_create_p50_ms": ms(percentile(http_latencies, 50)),
                "http_create_p99_ms": ms(percentile(http_latencies, 99)),
                "target_p99_ms": 250,
            }
            log(f"    offer on socket p50 {result['created_to_offer']['p50_ms']} ms  "
                f"p99 {result['created_to_offer']['p99_ms']} ms  missing {missing}")

            # (4) capacity freed -> next offer. First fill every seat: accept every pending offer.
            log(f"[4] capacity freed -> next offer: filling {n_experts} x {args.concurrency} seats")
            chats: dict[int, list[int]] = {i: [] for i in range(n_experts)}
            gate = asyncio.Semaphore(10)

            async def accept(index: int, offer_id: int) -> None:
                async with gate:
                    answer = await experts.clients[index].call("offer_accept", {"offer_id": offer_id}, timeout=30)
                if not answer.get("ok"):
                    raise RuntimeError(f"offer_accept refused: {answer}")
                chats[index].append(answer["chat"]["conversation_id"])

            pending = [(index, offer_id) for (_, index, offer_id) in experts.offers.values()]
            await asyncio.gather(*(accept(i, o) for i, o in pending))
            seats = n_experts * args.concurrency - sum(len(c) for c in chats.values())

            async def fill_one() -> None:
                async with gate:
                    _, body = await _arrive(http, url, key)
                waiter = loop.create_future()
                if body["id"] in experts.offers:
                    waiter.set_result(experts.offers[body["id"]])
                else:
                    experts.waiters[body["id"]] = waiter
                _, index, offer_id = await asyncio.wait_for(waiter, timeout=10)
                await accept(index, offer_id)

            await asyncio.gather(*(fill_one() for _ in range(max(seats, 0))))
            full = sum(len(c) for c in chats.values())
            waiting_ids = []
            for _ in range(args.freed_samples + 5):
                _, body = await _arrive(http, url, key)
                waiting_ids.append(body["id"])
                if body["status"] != "waiting":
                    log(f"    expected a waiting conversation, got {body['status']}")
            await asyncio.sleep(0.5)
            log(f"    {full} chats open, {len(waiting_ids)} visitors waiting; closing chats one by one")
            freed: list[float] = []
            close_acks: list[float] = []
            timeouts = 0
            for sample in range(args.freed_samples):
                index = sample % n_experts
                if not chats[index]:
                    continue
                conversation_id = chats[index].pop(0)
                waiter = loop.create_future()
                experts.any_offer[index] = waiter
                t0 = time.perf_counter()
                answer = await experts.clients[index].call("chat_close", {"conversation_id": conversation_id},
                                                           timeout=30)
                close_acks.append(time.perf_counter() - t0)
                if not answer.get("ok"):
                    raise RuntimeError(f"chat_close refused: {answer}")
                try:
                    t_offer, _, offer_id = await asyncio.wait_for(waiter, timeout=5)
                except TimeoutError:
                    experts.any_offer.pop(index, None)
                    timeouts += 1
                    continue
                freed.append(t_offer - t0)
                await accept(index, offer_id)
            result["freed_to_next_offer"] = {
                "experts_online": n_experts, "seats_filled": full, "visitors_waiting": len(waiting_ids),
                "samples": len(freed), "timeouts": timeouts, **latency_figures(freed),
                "chat_close_ack_p50_ms": ms(percentile(close_acks, 50)),
                "chat_close_ack_p99_ms": ms(percentile(close_acks, 99)),
                "target_p99_ms": 1000,
            }
            log(f"    next offer p50 {result['freed_to_next_offer']['p50_ms']} ms  "
                f"p99 {result['freed_to_next_offer']['p99_ms']} ms  timeouts {timeouts}")
    finally:
        await experts.disconnect()
    result["_offers"] = {cid: index for cid, (_, index, _) in experts.offers.items()}
    return result


def bench_sockets(args, workdir: Path) -> dict:
    from marketplace.accounts.passwords import hash_password
    from marketplace.database import db

    path = workdir / "sockets.db"
    url = f"sqlite:///{path}"
    n = args.socket_experts
    log(f"[3/4] real server (`marketplace serve`, threading, SQLite): seeding {n} experts")
    app = make_app(url)
    benchlib.migrate(app)
    with app.app_context():
        seeded = seed(1, n, 0, concurrency=args.concurrency, password_hash=hash_password(PASSWORD), email_tag="sock")
        from marketplace.brands.models import Brand

        key = db.session.get(Brand, seeded["brand_ids"][0]).widget_key
        db.session.remove()
        db.engine.dispose()
    process, server_url, log_path = start_server(url, workdir)
    try:
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=8) as pool:
            cookies = list(pool.map(lambda email: log_in(server_url, email, PASSWORD), seeded["emails"]))
        log(f"    {n} experts logged in through the form in {time.perf_counter() - t0:.1f} s")
        result = asyncio.run(socket_phases(args, server_url, key, cookies, n))
    except Exception:
        log("    the server's log ends:\n" + log_path.read_text()[-4000:])
        raise
    finally:
        stop(process)
        server_log = log_path.read_text()
    offers_seen = result.pop("_offers")
    # The offer went to the socket of the expert the database says it went to.
    with app.app_context():
        rows = db.session.execute(db.text(
            "SELECT o.conversation_id, u.email FROM offers o JOIN expert_profiles p ON p.id = o.expert_id "
            "JOIN users u ON u.id = p.user_id")).all()
        db.session.remove()
        db.engine.dispose()
    index_of = {email: i for i, email in enumerate(seeded["emails"])}
    first_offer = {}
    for conversation_id, email in rows:
        first_offer.setdefault(conversation_id, set()).add(index_of[email])
    wrong = sum(1 for cid, index in offers_seen.items() if index not in first_offer.get(cid, set()))
    result["created_to_offer"]["offers_on_another_experts_socket"] = wrong
    result["server"] = {"command": "marketplace serve", "async_mode": "threading", "database": "sqlite",
                        "tracebacks_in_log": server_log.count("Traceback")}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout, progress on stderr")
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run (about a minute)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    parser.add_argument("--conversations", type=int, help="waiting conversations for (1) and (2) [5000]")
    parser.add_argument("--experts", type=int, help="online experts for (1) and (2) [2000]")
    parser.add_argument("--concurrency", type=int, default=3, help="chats per expert [3]")
    parser.add_argument("--pass-size", type=int, help="the most decisions a routing pass makes on PostgreSQL "
                        "[the router's own, DECISIONS_PER_PASS]")
    parser.add_argument("--small-pass-size", type=int, default=2,
                        help="on PostgreSQL, the pass size of the second closed loop, for latency [2]")
    parser.add_argument("--routers", type=int, default=4, help="router processes on PostgreSQL [4]")
    parser.add_argument("--paced-rate", type=float, action="append",
                        help="on PostgreSQL, conversations a second joining the queues in a paced run (repeatable) "
                        "[250, 500 and 1000]")
    parser.add_argument("--no-paced", action="store_true", help="no paced runs on PostgreSQL")
    parser.add_argument("--paced-seconds", type=float, help="length of a paced run [5, quick 1]")
    parser.add_argument("--pg-brands", type=int, default=8, help="brands in PostgreSQL's several-brand cases [8]")
    parser.add_argument("--pg-shared", action="store_true",
                        help="also the case where every expert is approved for every brand")
    parser.add_argument("--max-run-seconds", type=float, help="cap on one router run; baselines then make as many "
                        "decisions as the app did [12, quick 5]")
    parser.add_argument("--pg-admin-url", default=PG_ADMIN_URL, help="server to create a scratch database on")
    parser.add_argument("--socket-experts", type=int, help="experts logged in on sockets for (3) and (4) [200]")
    parser.add_argument("--arrivals", type=int, help="arrivals timed in (3) [300]")
    parser.add_argument("--arrival-rate", type=float, default=20.0, help="arrivals per second in (3) [20]")
    parser.add_argument("--freed-samples", type=int, help="chats closed in (4) [200]")
    parser.add_argument("--skip", action="append", default=[], choices=["sqlite", "postgresql", "sockets"],
                        help="leave a part out (repeatable)")
    args = parser.parse_args()
    benchlib.VERBOSE = not args.quiet
    quick = args.quick
    args.conversations = args.conversations or (1000 if quick else 5000)
    args.max_run_seconds = args.max_run_seconds or (5.0 if quick else 12.0)
    args.paced_seconds = args.paced_seconds or (1.0 if quick else 5.0)
    args.paced_rate = [] if args.no_paced else (args.paced_rate or [250.0, 500.0, 1000.0])
    if max(args.paced_rate, default=0) * args.paced_seconds > args.conversations:
        parser.error("--conversations must cover a paced run's arrivals (rate x seconds)")
    args.experts = args.experts or (400 if quick else 2000)
    args.socket_experts = args.socket_experts or (50 if quick else 200)
    args.arrivals = args.arrivals or (60 if quick else 300)
    args.freed_samples = args.freed_samples or (40 if quick else 200)
    if args.arrivals > args.socket_experts * args.concurrency:
        parser.error("--arrivals must fit in the experts' seats (socket experts x concurrency)")

    started = time.perf_counter()
    report: dict = {
        "benchmark": "routing",
        "quick": quick,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "sqlite_one_router": None,
        "postgresql_routers": None,
        "postgresql_reason": None,
        "created_to_offer": None,
        "freed_to_next_offer": None,
    }
    with tempfile.TemporaryDirectory(prefix="mk-bench-routing-") as folder:
        workdir = Path(folder)
        if "sqlite" not in args.skip:
            report["sqlite_one_router"] = bench_sqlite(args, workdir)
        if "postgresql" not in args.skip:
            report["postgresql_routers"], report["postgresql_reason"] = bench_pg(args)
            if report["postgresql_reason"]:
                log(f"[2] skipped: {report['postgresql_reason']}")
        else:
            report["postgresql_reason"] = "skipped (--skip postgresql)"
        if "sockets" not in args.skip:
            sockets = bench_sockets(args, workdir)
            report["created_to_offer"] = sockets["created_to_offer"]
            report["freed_to_next_offer"] = sockets["freed_to_next_offer"]
            report["server"] = sockets["server"]
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(json.dumps(report, indent=2), file=sys.stderr)


if __name__ == "__main__":
    main()
