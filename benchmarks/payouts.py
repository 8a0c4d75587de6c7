#!/usr/bin/env python
"""Payout benchmarks (DESIGN.md section 8): a batch over 1,000,000 answered chats, the ledger check, and
crash-injected payout runs.

Run from the project root with the project's virtualenv:

    python benchmarks/payouts.py --json                         # batch mode: 1,000,000 chats, about 2 minutes
    python benchmarks/payouts.py --soak --json                  # soak mode: 10,000 runs, about 10 minutes
    python benchmarks/payouts.py --chats 2000 --soak 20 --json  # both, tiny (what the smoke test runs)

Batch mode (targets: the draft <= 10 s, the ledger check <= 2 s). A fresh migrated SQLite file gets
5,000 experts (most with a Stripe account that can receive transfers, the others an IBAN, one in 50 with
neither) and the ledger of N answered chats as the app writes it: per chat an `earning` transaction
(brand receivable, expert held, platform commission), then, the hold being over, its own `release`
transaction (held -> payable), one per earning as `earnings.release_due` posts them; every 200th chat is
disputed and reversed instead (a `reversal` of its earning, as `disputes.reverse` posts it). The entries
are made with `INSERT ... SELECT` from templates that `core.ledger` built, so every amount is the app's
own (the commission's rounding included); experts are more or less busy (log-normal), so some are
carried forward under the minimum. Seeding is timed, not measured. Earning rows are not made: drafting
reads only the ledger (and they would need a conversation each). No ANALYZE is run: the app never runs
one. Timed `--repeat` times (medians, wall and CPU): `batches.create_draft` by a finance user (another
cancels the draft between runs) and `ledger.check_invariants()`. Baselines in the same run, with sqlite3
directly: the bare payable query (`SELECT owner_id, SUM(amount_cents) ... GROUP BY owner_id`) and a bare
scan (`SELECT SUM(amount_cents) FROM ledger_entries`); ratios app / baseline. `app_ledger_queries` lists
the app's SELECTs on the entries with SQLite's plan for each.

Soak mode (target: 0 double payments). The runs are spread over `--soak-workers` processes, each with
its own SQLite file, experts and Stripe-compatible fake (`tests.stripe_fake`, in that process; the app
talks to it with the real SDK). A run owes 1-4 experts a chat each (an earning and its release), drafts a
batch (one finance user) that pays them and whatever an earlier run failed to pay, approves it (another),
marks it submitting as `submission.submit` does, and runs `submission.run` with crashes (its `fault` hook
raising after an item's step "marked", "called" or "settled") and provider faults armed on the fake
(answers lost after acting, timeouts acting before, after or never, 5xx and 429 answers, a platform balance
too low for some transfers). Then it restarts (roll back, a fresh session, then `submission.resume()`,
`run` again, or both at once in two threads) until the batch is no longer submitting. After each run the
transfers the fake made are counted against the items paid; at the end every item is held against the
fake's transfers: more than one transfer naming an item is a double payment; a paid item without its one
transfer (or with another amount, id or destination), or a transfer for an item not paid, is a mismatch;
each expert's ledger must hold what they were owed less what the fake sent them; the ledger's invariants
must hold. A run that breaks a rule is listed with its seed (`--seed`, run number) and its faults; the same
`--seed` and `--soak-workers` plan the same runs and faults again (their timing may differ).

With `--json` the only thing on stdout is one JSON object; progress goes to stderr (`--quiet` silences
it). Figures are medians and ratios, never pass or fail.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import benchlib
from benchlib import SECRET, log, ratio

DRAFT_TARGET_S = 10.0
CHECK_TARGET_S = 2.0
CURRENCY = "EUR"
BARE_PAYABLE = ("SELECT owner_id, SUM(amount_cents) FROM ledger_entries "
                "WHERE account_kind = 'expert_payable' AND currency = 'EUR' GROUP BY owner_id")
BARE_SCAN = "SELECT SUM(amount_cents) FROM ledger_entries"


# The app, built on a database URL the way tests/conftest.py's make_app does.

def make_app(database_url: str):
    from marketplace import create_app

    environ = {"MARKETPLACE_ENV": "test", "SECRET_KEY": SECRET, "DATABASE_URL": database_url,
               "RATELIMIT_STORAGE_URI": "memory://", "RATELIMIT_ENABLED": "false", "SCHEDULER_MODE": "off",
               "WEB_PUSH_DELIVERY": "off"}
    return create_app({}, environ=environ)


def timed(work) -> tuple[float, object]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


class Timings:
    """Wall and CPU seconds of repeated runs of one thing; the CPU time says what a busy machine took away."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def time(self, work):
        started, cpu = time.perf_counter(), time.process_time()
        result = work()
        self.wall.append(time.perf_counter() - started)
        self.cpu.append(time.process_time() - cpu)
        return result

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    def figures(self) -> dict:
        return {"median_s": round(self.median, 5), "min_s": round(min(self.wall), 5),
                "max_s": round(max(self.wall), 5), "cpu_median_s": round(statistics.median(self.cpu), 5),
                "runs": len(self.wall)}


# People: finance users, brands and experts, with bulk inserts (call inside an app context).

def seed_people(n_experts: int, n_brands: int, *, stripe_share: float, unready_every: int) -> dict:
    """Two finance users, brands, and approved experts (in Belgium, or in France with a SIRET) who can be
    paid: a Stripe account with transfers enabled, else an IBAN on file; every `unready_every`-th has neither
    (the draft lists them as not ready). Account ids are made up: drafting calls no provider."""
    import sqlalchemy as sa

    from marketplace.accounts.models import Role, User
    from marketplace.brands.models import Brand
    from marketplace.database import db, utcnow
    from marketplace.experts.models import ExpertProfile, ExpertStatus, PayoutDetails
    from marketplace.payouts.models import ConnectedAccount
    from marketplace.sealing import seal

    now, tag = utcnow(), uuid.uuid4().hex[:6]
    finance = list(db.session.scalars(sa.insert(User).returning(User.id, sort_by_parameter_order=True), [
        {"email": f"finance{i}-{tag}@bench.example.com", "full_name": f"Finance {i}", "role": Role.FINANCE,
         "password_hash": "!", "locale": "en"} for i in range(2)]))
    brand_ids = list(db.session.scalars(sa.insert(Brand).returning(Brand.id, sort_by_parameter_order=True), [
        {"name": f"Bench brand {i}", "slug": f"bench-{tag}-{i}", "currency": CURRENCY, "widget_origins": [],
         "topics": []} for i in range(n_brands)]))
    user_ids = list(db.session.scalars(sa.insert(User).returning(User.id, sort_by_parameter_order=True), [
        {"email": f"expert{i}-{tag}@bench.example.com", "full_name": f"Bench Expert {i}", "role": Role.EXPERT,
         "password_hash": "!", "locale": "fr"} for i in range(n_experts)]))
    expert_ids = list(db.session.scalars(
        sa.insert(ExpertProfile).returning(ExpertProfile.id, sort_by_parameter_order=True),
        [{"user_id": user_id, "display_name": f"Expert{i}", "status": ExpertStatus.APPROVED,
          "country": "FR" if i % 3 == 0 else "BE", "business_id": "73282932000074" if i % 3 == 0 else None,
          "languages": ["fr"], "status_changed_at": now} for i, user_id in enumerate(user_ids)]))
    unready = {e for i, e in enumerate(expert_ids) if unready_every and i % unready_every == unready_every - 1}
    ready = [e for e in expert_ids if e not in unready]
    cut = round(len(ready) * stripe_share)
    if ready[:cut]:
        db.session.execute(sa.insert(ConnectedAccount), [
            {"expert_id": e, "account_id": f"acct_bench{e:010d}", "transfers_enabled": True,
             "details_submitted": True} for e in ready[:cut]])
    if ready[cut:]:
        sealed = seal("BE68539007547034", "payout-iban")  # one IBAN for all: sealing is slow on purpose
        db.session.execute(sa.insert(PayoutDetails), [
            {"expert_id": e, "account_holder": f"Expert {e}", "iban_sealed": sealed, "iban_country": "BE",
             "iban_last4": "7034", "updated_at": now} for e in ready[cut:]])
    db.session.commit()
    return {"finance": finance, "brand_ids": brand_ids, "expert_ids": expert_ids, "stripe": cut,
            "sepa": len(ready) - cut, "not_ready": len(unready)}


# The ledger of answered chats, as the app writes it.

PRICES = (150, 200, 250, 300, 350, 400, 500, 650)  # rate cards' prices in cents
COMMISSIONS = (2000, 1500)  # basis points
BONUSES = (0, 0, 50)  # a satisfaction bonus on some chats
BRAND, EXPERT = -1, -2  # placeholders in the templates


def templates() -> dict[str, list[tuple]]:
    """Entry templates of an earning, of its release and of its reversal (a dispute the brand won), per
    variant of price, commission and bonus, made by `core.ledger` itself: (variant, position, account kind,
    whose, cents)."""
    from marketplace.core import ledger
    from marketplace.core import rates as pricing

    rows: dict[str, list[tuple]] = {"earning": [], "release": [], "reversal": []}
    variants = [(p, c, b) for p in PRICES for c in COMMISSIONS for b in BONUSES]
    for variant, (price, bps, bonus) in enumerate(variants):
        commission = pricing.commission_cents(price, bps)
        earned = ledger.earning(BRAND, EXPERT, price, commission, bonus, CURRENCY)
        made = {"earning": earned, "release": ledger.release(EXPERT, price + bonus - commission, CURRENCY),
                "reversal": ledger.reversal(1, earned)}
        for kind, transaction in made.items():
            for position, entry in enumerate(transaction.entries):
                whose = {BRAND: "brand", EXPERT: "expert", None: "platform"}[entry.account.owner_id]
                rows[kind].append((variant, position, entry.account.kind, whose, entry.amount_cents))
    return rows


SEED_CHATS = """
CREATE TEMP TABLE bench_chats AS
SELECT p.i AS i, p.i % :variants AS variant, e.id AS expert_id, b.id AS brand_id
FROM bench_picks p JOIN bench_experts e ON e.idx = p.expert JOIN bench_brands b ON b.idx = p.i % :brands
ORDER BY p.i
"""


def expert_picks(n_chats: int, n_experts: int, seed: int) -> list[tuple[int, int]]:
    """Who answered each chat: experts are more or less busy (a log-normal activity), so the least busy
    have less than the minimum payable and are carried forward."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    activity = [rng.lognormvariate(0, 1) for _ in range(n_experts)]
    return list(enumerate(rng.choices(range(n_experts), weights=activity, k=n_chats), start=1))


DISPUTED_EVERY = 200  # every 200th chat is disputed and reversed instead of released
SEED_TRANSACTIONS = """
INSERT INTO ledger_transactions (id, kind, created_at, reverses_id, memo)
SELECT :first + c.i, :kind, datetime('2026-01-01', '+' || (c.i * 2 + :first) || ' seconds'),
       CASE :kind WHEN 'reversal' THEN c.i END, :memo || c.i
FROM bench_chats c WHERE {which}
"""
SEED_ENTRIES = """
INSERT INTO ledger_entries (transaction_id, account_kind, owner_id, currency, amount_cents)
SELECT :first + c.i, t.kind, CASE t.whose WHEN 'brand' THEN c.brand_id WHEN 'expert' THEN c.expert_id END,
       'EUR', t.cents
FROM bench_chats c JOIN bench_{kind} t ON t.variant = c.variant
WHERE {which}
"""


def seed_ledger(n_chats: int, expert_ids: list[int], brand_ids: list[int], seed: int) -> dict:
    """N earnings (transactions 1..N), then each one's release, or its reversal for a disputed chat
    (transaction N + i for chat i), in a few INSERT ... SELECT statements."""
    from marketplace.database import db

    rows = templates()
    connection = db.session.connection()
    connection.exec_driver_sql("CREATE TEMP TABLE bench_experts (idx INTEGER PRIMARY KEY, id INTEGER)")
    connection.exec_driver_sql("CREATE TEMP TABLE bench_brands (idx INTEGER PRIMARY KEY, id INTEGER)")
    connection.exec_driver_sql("INSERT INTO bench_experts VALUES (?, ?)", list(enumerate(expert_ids)))
    connection.exec_driver_sql("INSERT INTO bench_brands VALUES (?, ?)", list(enumerate(brand_ids)))
    connection.exec_driver_sql("CREATE TEMP TABLE bench_picks (i INTEGER PRIMARY KEY, expert INTEGER)")
    connection.exec_driver_sql("INSERT INTO bench_picks VALUES (?, ?)", expert_picks(n_chats, len(expert_ids), seed))
    for kind, templated in rows.items():
        connection.exec_driver_sql(f"CREATE TEMP TABLE bench_{kind} (variant, position, kind, whose, cents)")
        connection.exec_driver_sql(f"INSERT INTO bench_{kind} VALUES (?, ?, ?, ?, ?)", templated)  # noqa: S608
        connection.exec_driver_sql(f"CREATE INDEX bench_{kind}_variant ON bench_{kind} (variant, position)")
    params = {"variants": 1 + max(row[0] for row in rows["earning"]), "brands": len(brand_ids)}
    connection.execute(db.text(SEED_CHATS), params)
    for first, kind, memo, which in ((0, "earning", "chat ", "1"),
                                     (n_chats, "release", "earning ", f"c.i % {DISPUTED_EVERY} <> 0"),
                                     (n_chats, "reversal", "disputed earning ", f"c.i % {DISPUTED_EVERY} = 0")):
        connection.execute(db.text(SEED_TRANSACTIONS.format(which=which)), {"first": first, "kind": kind,
                                                                            "memo": memo})
        connection.execute(db.text(SEED_ENTRIES.format(kind=kind, which=which)), {"first": first})
    for table in ("chats", "picks", "experts", "brands", *rows):
        connection.exec_driver_sql(f"DROP TABLE bench_{table}")
    db.session.commit()
    transactions = db.session.scalar(db.text("SELECT count(*) FROM ledger_transactions"))
    entries = db.session.scalar(db.text("SELECT count(*) FROM ledger_entries"))
    db.session.commit()
    return {"transactions": transactions, "entries": entries}


def bare_sqlite(path: str, sql: str, runs: int) -> Timings:
    """A baseline: the statement run with sqlite3 directly, on a connection set up as the app's are."""
    connection = sqlite3.connect(path, isolation_level=None)
    for pragma in ("foreign_keys=ON", "busy_timeout=10000", "journal_mode=WAL", "synchronous=NORMAL"):
        connection.execute(f"PRAGMA {pragma}")
    timings = Timings()
    for _ in range(runs):
        timings.time(lambda: connection.execute(sql).fetchall())
    connection.close()
    return timings


class LedgerQueries:
    """The SELECTs on the ledger's entries that the app runs while listening, kept to show their plans."""

    def __init__(self, engine) -> None:
        import sqlalchemy as sa

        self.seen: dict[str, tuple] = {}
        self.listening = False
        sa.event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, connection, cursor, statement, parameters, context, executemany) -> None:
        if self.listening and statement.lstrip().startswith("SELECT") and "ledger_entries" in statement:
            self.seen.setdefault(statement, parameters)

    def plans(self, path: str) -> list[dict]:
        connection = sqlite3.connect(path)
        plans = [{"sql": " ".join(statement.split())[:400],
                  "plan": [row[-1] for row in connection.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)]}
                 for statement, parameters in self.seen.items()]
        connection.close()
        return plans


def bench_batch(args, workdir: Path) -> dict:
    path = workdir / "payouts-batch.db"
    app = make_app(f"sqlite:///{path}")
    revision = benchlib.migrate(app)
    from marketplace.accounts.models import User
    from marketplace.database import db
    from marketplace.payouts.batches import services as batches
    from marketplace.payouts.ledger import checks

    log(f"[batch] seeding {args.experts} experts and the ledger of {args.chats:,} answered chats")
    with app.app_context():
        seed_s, people = timed(lambda: seed_people(args.experts, args.brands, stripe_share=0.7, unready_every=50))
        ledger_s, rows = timed(lambda: seed_ledger(args.chats, people["expert_ids"], people["brand_ids"],
                                                    args.seed))
        log(f"  people in {seed_s:.1f} s; {rows['transactions']:,} transactions and {rows['entries']:,} entries "
            f"in {ledger_s:.1f} s")
        creator, other = (db.session.get(User, user_id) for user_id in people["finance"])
        queries = LedgerQueries(db.engine)
        draft, check, items, found = Timings(), Timings(), {}, None
        for run in range(args.repeat):
            queries.listening = run == 0
            batch = draft.time(lambda: batches.create_draft(creator, CURRENCY, args.minimum_cents))
            found = check.time(checks.check_invariants)
            queries.listening = False
            _, listed = batches.batch_items(creator, batch.id)
            items = {"items": len(listed), "total_cents": sum(item.amount_cents for item in listed),
                     "stripe": sum(item.rail.value == "stripe" for item in listed),
                     "sepa": sum(item.rail.value == "sepa" for item in listed),
                     "carried_forward": len(batch.carried_forward), "not_ready": len(batch.not_ready)}
            batches.cancel(other, batch.id)
            log(f"  run {run + 1}/{args.repeat}: create_draft {draft.wall[-1]:.3f} s ({items['items']} items), "
                f"check_invariants {check.wall[-1]:.3f} s ({len(found.breaches)} breaches)")
        db.session.remove()
        db.engine.dispose()
    payable, scan = bare_sqlite(str(path), BARE_PAYABLE, args.repeat), bare_sqlite(str(path), BARE_SCAN, args.repeat)
    log(f"  baselines: bare payable GROUP BY {payable.median:.3f} s, bare SUM scan {scan.median:.3f} s")
    return {
        "schema_revision": revision,
        "chats": args.chats, "experts": args.experts, "brands": args.brands, "minimum_cents": args.minimum_cents,
        "experts_by_rail": {"stripe": people["stripe"], "sepa": people["sepa"], "not_ready": people["not_ready"]},
        "ledger_rows": rows,
        "seed_seconds": {"people": round(seed_s, 2), "ledger": round(ledger_s, 2)},
        "draft": {**draft.figures(), **items, "target_s": DRAFT_TARGET_S,
                  "meets_target": draft.median <= DRAFT_TARGET_S},
        "check_invariants": {**check.figures(), "transactions": found.transactions, "entries": found.entries,
                             "breaches": found.breaches, "target_s": CHECK_TARGET_S,
                             "meets_target": check.median <= CHECK_TARGET_S},
        "bare_payable_group_by": {**payable.figures(), "sql": BARE_PAYABLE},
        "bare_sum_scan": {**scan.figures(), "sql": BARE_SCAN},
        "ratio_draft_to_bare_payable": ratio(draft.median, payable.median),
        "ratio_check_to_bare_scan": ratio(check.median, scan.median),
        "app_ledger_queries": queries.plans(str(path)),
    }


# Soak: crash-injected submissions against the Stripe-compatible fake.

CRASH_STEPS = ("marked", "called", "settled")  # where `submission.run` calls its `fault` hook
# What the fake can do to the next transfer requests: (what, how to arm it, weight). A timeout costs the
# client's timeout in wall time, so timeouts are rarer than the others.
PROVIDER_FAULTS = (
    ("lost answer, connection closed", lambda fake, n, where: fake.lose_response_next(n, answer="close", **where), 10),
    ("lost answer, 500 after acting", lambda fake, n, where: fake.lose_response_next(n, answer="500", **where), 10),
    ("500, nothing done", lambda fake, n, where: fake.fail_next(n, status=500, **where), 10),
    ("503, nothing done", lambda fake, n, where: fake.fail_next(n, status=503, **where), 4),
    ("429, nothing done", lambda fake, n, where: fake.fail_next(n, status=429, **where), 4),
    ("timeout, acted before", lambda fake, n, where: fake.time_out_next(n, effect="before", **where), 2),
    ("timeout, acts after", lambda fake, n, where: fake.time_out_next(n, effect="after", **where), 2),
    ("timeout, never acts", lambda fake, n, where: fake.time_out_next(n, effect="none", **where), 2),
)
LOW_BALANCE_SHARE = 0.08  # runs where the platform's balance at the fake cannot pay every item
TWO_RUNNERS_SHARE = 0.1  # restarts where the resume job and another runner work on the batch at once
PLENTY = 10**13  # the platform's balance at the fake otherwise
MAX_RESTARTS = 200
COUNTED = ("items", "crashes", "crashes_marked", "crashes_called", "crashes_settled", "provider_faults_armed",
           "low_balance_runs", "restarts", "two_runners_restarts", "batches_paid", "batches_partially_failed")
MISMATCHES = ("paid_without_transfer", "paid_another_amount", "paid_another_transfer", "transferred_but_not_paid")
FOUND = ("items_checked", "transfers", "double_payments", "mismatches", "transfers_naming_no_item",
         "experts_whose_money_does_not_add_up", "answers_replayed_by_key", "answers_key_in_use")


class Crash(Exception):
    """The process dies here."""


class Crashes:
    """The `fault` hook of `submission.run`: the process dies once at each planned (step, item)."""

    def __init__(self, points: list[tuple[str, int]]) -> None:
        self.pending = set(points)
        self.fired: Counter = Counter()

    def __call__(self, step: str, item_id: int) -> None:
        if (step, item_id) in self.pending:
            self.pending.discard((step, item_id))
            self.fired[step] += 1
            raise Crash(f"after {step} of item {item_id}")


def timed_gateway(fake_url: str, timeout: float):
    """The app's Stripe gateway on the fake, adding up the time its transfer calls take."""
    from marketplace.payouts.rails import gateway as gateways
    from tests.stripe_fake import DEFAULT_WEBHOOK_SECRET

    class TimedStripeGateway(gateways.StripeGateway):
        calls = 0
        seconds = 0.0
        lock = threading.Lock()

        def transfer(self, **kwargs):
            started = time.perf_counter()
            try:
                return super().transfer(**kwargs)
            finally:
                with self.lock:
                    self.calls += 1
                    self.seconds += time.perf_counter() - started

    return TimedStripeGateway("sk_test_bench", DEFAULT_WEBHOOK_SECRET, api_base=fake_url, timeout=timeout)


class Soak:
    """One worker's runs: the experts, finance users and fake they share, and what was found so far."""

    def __init__(self, args, app, fake, provider) -> None:
        self.args, self.app, self.fake, self.provider = args, app, fake, provider
        self.finance_ids: list[int] = []
        self.brand_id = 0
        self.accounts: dict[int, str] = {}  # expert id -> connected account at the fake
        self.owed: Counter = Counter()  # expert id -> cents released to them over all runs
        self.counts: Counter = Counter()
        self.anomalies: list[dict] = []
        self.errors: list[dict] = []
        self.paused = 0.0

    def seed(self, n_experts: int) -> None:
        """Finance users, a brand, and experts whose connected accounts the fake made and onboarded."""
        from marketplace.database import db
        from marketplace.payouts.models import ConnectedAccount

        people = seed_people(n_experts, 1, stripe_share=0.0, unready_every=1)  # no payout details yet
        self.finance_ids, self.brand_id = people["finance"], people["brand_ids"][0]
        for expert_id in people["expert_ids"]:
            state = self.provider.create_account(expert_id=expert_id, email=f"e{expert_id}@bench.example.com",
                                                 country="BE")
            self.fake.complete_onboarding(state.account_id)
            db.session.add(ConnectedAccount(expert_id=expert_id, account_id=state.account_id,
                                            transfers_enabled=True, details_submitted=True))
            self.accounts[expert_id] = state.account_id
        db.session.commit()

    def finance(self, which: int):
        """A finance user in the current session (a restart drops the session)."""
        from marketplace.accounts.models import User
        from marketplace.database import db

        return db.session.get(User, self.finance_ids[which])

    def run(self, index: int) -> None:
        """One run: owe, draft, approve, submit with faults, restart until done, then look at what happened."""
        from marketplace.database import db

        rng = random.Random(f"{self.args.seed}:{index}")  # noqa: S311 - reproducible faults, not secrets
        self.owe(rng)
        batch_id, items = self.submitting_batch()
        planned, crashes = self.plan_faults(rng, items)
        transfers_before = self.fake.counts()["transfers"]
        try:
            status = self.submit_until_done(rng, batch_id, crashes)
        except Exception:  # noqa: BLE001 - anything but a planned crash is a finding, kept with its run
            db.session.rollback()
            self.errors.append({"run": index, "batch": batch_id, "faults": planned,
                                "error": traceback.format_exc()[-2000:]})
            status = "error"
        self.fake.clear_faults()  # those the run did not use
        self.fake.set_balance(PLENTY, CURRENCY.lower())
        self.counts.update({"items": len(items), "crashes": crashes.fired.total(),
                            **{f"crashes_{step}": crashes.fired[step] for step in CRASH_STEPS},
                            "provider_faults_armed": sum(not f.startswith(("crash", "balance")) for f in planned),
                            "low_balance_runs": any(f.startswith("balance") for f in planned),
                            f"batches_{status}": 1})
        paid = self.paid_items(batch_id)
        made = self.fake.counts()["transfers"] - transfers_before
        if status not in ("paid", "partially_failed") or made != len(paid):
            self.anomalies.append({"run": index, "seed": f"{self.args.seed}:{index}", "batch": batch_id,
                                   "status": status, "items": items, "paid_items": sorted(paid),
                                   "transfers_made": made, "faults": planned})
        if status == "submitting":
            raise RuntimeError(f"batch {batch_id} of run {index} is still submitting after {MAX_RESTARTS} "
                               f"restarts (faults: {planned}); the soak cannot go on")

    def owe(self, rng: random.Random) -> None:
        """1-4 experts answered a chat each, now past its hold: its earning and its release, as the app posts them."""
        from marketplace.core import ledger
        from marketplace.core import rates as pricing
        from marketplace.database import db
        from marketplace.payouts.ledger import books

        for expert_id in rng.sample(sorted(self.accounts), rng.randint(1, 4)):
            price = rng.randint(50, 30_000)
            commission = pricing.commission_cents(price, 2000)
            books.post(ledger.earning(self.brand_id, expert_id, price, commission, 0, CURRENCY), "soak chat")
            books.post(ledger.release(expert_id, price - commission, CURRENCY), "soak release")
            self.owed[expert_id] += price - commission
        db.session.commit()

    def submitting_batch(self) -> tuple[int, dict[int, int]]:
        """Draft (one finance user), approve (the other) and mark submitting, as `submission.submit` does
        before it calls `run`; the batch and its items (id -> cents). A failed item of an earlier run is in
        it again, as the next batch pays it."""
        import sqlalchemy as sa

        from marketplace.database import db, utcnow
        from marketplace.payouts.batches import services as batches
        from marketplace.payouts.models import BatchStatus, PayoutBatch, PayoutItem

        batch_id = batches.create_draft(self.finance(0), CURRENCY, 0).id
        batches.approve(self.finance(1), batch_id)
        db.session.execute(sa.update(PayoutBatch).where(PayoutBatch.id == batch_id).values(
            status=BatchStatus.SUBMITTING, submitted_by_id=self.finance_ids[0], submitted_at=utcnow()))
        items = dict(db.session.execute(sa.select(PayoutItem.id, PayoutItem.amount_cents)
                                        .where(PayoutItem.batch_id == batch_id).order_by(PayoutItem.id)).all())
        db.session.commit()
        return batch_id, items

    def plan_faults(self, rng: random.Random, items: dict[int, int]) -> tuple[list[str], Crashes]:
        """Arm 0-3 provider faults on the transfers endpoint, maybe a balance too low for every item, and
        plan 0-2 crashes; what was planned, in words, and the crash hook."""
        planned = []
        where: dict = {"method": "POST", "path": "/v1/transfers"}
        for _ in range(rng.choices((0, 1, 2, 3), weights=(35, 40, 20, 5))[0]):
            what, arm, _ = rng.choices(PROVIDER_FAULTS, weights=[weight for *_, weight in PROVIDER_FAULTS])[0]
            n = rng.randint(1, 2)
            arm(self.fake, n, {**where, "seconds": self.args.soak_timeout * 1.5} if "timeout" in what else where)
            planned.append(f"{what} x{n}")
        if rng.random() < LOW_BALANCE_SHARE:
            balance = rng.randint(0, sum(items.values()) - 1)
            self.fake.set_balance(balance, CURRENCY.lower())
            planned.append(f"balance {balance}")
        points = [(rng.choice(CRASH_STEPS), rng.choice(sorted(items)))
                  for _ in range(rng.choices((0, 1, 2), weights=(30, 50, 20))[0])]
        planned += [f"crash after {step} of item {item}" for step, item in points]
        return planned, Crashes(points)

    def submit_until_done(self, rng: random.Random, batch_id: int, crashes: Crashes) -> str:
        """Run the batch with the crash hook; after each crash or unfinished pass, restart (roll back, a fresh
        session, then `resume()`, `run` again, or both at once) until it is no longer submitting; its status."""
        from marketplace.database import db
        from marketplace.payouts.batches import submission
        from marketplace.payouts.models import PayoutBatch

        for restart in range(MAX_RESTARTS):
            crashed = False
            try:
                if restart and rng.random() < TWO_RUNNERS_SHARE:
                    self.counts["two_runners_restarts"] += 1
                    self.two_runners(batch_id)
                elif restart == 0 or rng.random() < 0.5:
                    submission.run(batch_id, fault=crashes)
                else:
                    submission.resume()
            except Crash:
                crashed = True
            db.session.rollback()  # what was not committed dies with the process
            db.session.remove()
            status = db.session.get(PayoutBatch, batch_id).status.value
            db.session.commit()
            if status != "submitting":
                return status
            self.counts["restarts"] += 1
            if not crashed:  # an unknown outcome: give a request the fake still holds time to end
                pause = min(self.args.soak_timeout, 0.002 * 2 ** min(restart, 10))
                time.sleep(pause)
                self.paused += pause
        return "submitting"

    def two_runners(self, batch_id: int) -> None:
        """The resume job and a second runner (a finance user's click) carry the batch at the same time."""
        from marketplace.database import db
        from marketplace.payouts.batches import submission

        failures: list[BaseException] = []

        def runner(work) -> None:
            with self.app.app_context():
                try:
                    work()
                except BaseException as error:  # noqa: BLE001 - handed to the main thread
                    failures.append(error)
                finally:
                    db.session.remove()
                    self.provider.close()  # this thread's HTTP session

        threads = [threading.Thread(target=runner, args=(submission.resume,)),
                   threading.Thread(target=runner, args=(lambda: submission.run(batch_id),))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failures:
            raise failures[0]

    @staticmethod
    def paid_items(batch_id: int) -> set[int]:
        import sqlalchemy as sa

        from marketplace.database import db
        from marketplace.payouts.models import ItemStatus, PayoutItem

        paid = set(db.session.scalars(sa.select(PayoutItem.id).where(PayoutItem.batch_id == batch_id,
                                                                     PayoutItem.status == ItemStatus.PAID)))
        db.session.commit()
        return paid

    def reconcile(self) -> dict:
        """Every payout item against the fake's transfers, each expert's ledger against what they were owed
        and were paid, and the ledger's invariants."""
        import sqlalchemy as sa

        from marketplace.database import db
        from marketplace.payouts.ledger import books, checks
        from marketplace.payouts.models import ItemStatus, LedgerEntry, PayoutItem

        transfers = self.fake.transfers()
        by_item: dict[int, list[dict]] = {}
        for transfer in transfers:
            by_item.setdefault(int(transfer["metadata"].get("payout_item", 0)), []).append(transfer)
        found: Counter = Counter()
        examples: dict[str, list] = {}

        def note(kind: str, item, detail) -> None:
            found[kind] += 1
            if len(examples.setdefault(kind, [])) < 5:
                examples[kind].append({"item": item.id, "batch": item.batch_id, "status": item.status.value,
                                       "amount_cents": item.amount_cents, "detail": detail})

        items = db.session.scalars(sa.select(PayoutItem).order_by(PayoutItem.id)).all()
        for item in items:
            sent = by_item.pop(item.id, [])
            if len(sent) > 1:
                note("double_payments", item, [transfer["id"] for transfer in sent])
            if item.status == ItemStatus.PAID:
                if not sent:
                    note("paid_without_transfer", item, None)
                elif sent[0]["amount"] != item.amount_cents or sent[0]["currency"] != CURRENCY.lower():
                    note("paid_another_amount", item, sent[0]["amount"])
                elif sent[0]["id"] != item.provider_ref or sent[0]["destination"] != self.accounts[item.expert_id]:
                    note("paid_another_transfer", item, sent[0]["id"])
            elif sent:
                note("transferred_but_not_paid", item, [transfer["id"] for transfer in sent])
        sent_to: Counter = Counter()
        for transfer in transfers:
            sent_to[transfer["destination"]] += transfer["amount"]
        unequal = []
        for expert_id, account in self.accounts.items():
            money = books.expert_balances(expert_id).get(CURRENCY, {})
            still_owed = sum(money.values())
            if still_owed + sent_to[account] != self.owed[expert_id] or money.get("expert_in_transit"):
                unequal.append({"expert": expert_id, "owed_over_all_runs": self.owed[expert_id],
                                "transferred": sent_to[account], "still_owed": money})
        cash = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount_cents), 0))
                                 .where(LedgerEntry.account_kind == "cash"))
        db.session.commit()
        requests = [record for record in self.fake.requests() if record.path == "/v1/transfers"]
        return {
            "items_checked": len(items), "transfers": len(transfers),
            "double_payments": found["double_payments"],
            "mismatches": sum(found[kind] for kind in MISMATCHES),
            "mismatch_kinds": {kind: found[kind] for kind in MISMATCHES},
            "transfers_naming_no_item": sum(len(sent) for sent in by_item.values()),
            "experts_whose_money_does_not_add_up": len(unequal),
            "answers_replayed_by_key": sum(record.replayed for record in requests),
            "answers_key_in_use": sum(record.status == 409 for record in requests),
            "cash_out_equals_transfers": -int(cash) == sum(transfer["amount"] for transfer in transfers),
            "ledger_breaches": checks.check_invariants().breaches,
            "examples": {**examples, "experts": unequal[:5]},
        }


def soak_shard(args, workdir: Path, shard: int, shards: int) -> dict:
    """The runs numbered shard, shard + shards, ... on a database and a fake of their own; what they found."""
    import logging

    from marketplace.database import db
    from marketplace.payouts.rails import gateway as gateways
    from tests.stripe_fake import FakeStripe

    # Unknown outcomes are expected here by the thousand: keep the log for errors.
    logging.getLogger("marketplace.payouts.batches.submission").setLevel(logging.ERROR)
    app = make_app(f"sqlite:///{workdir / f'payouts-soak-{shard}.db'}")
    revision = benchlib.migrate(app)
    runs = range(shard, args.soak, shards)
    with FakeStripe(balance={CURRENCY.lower(): PLENTY}) as fake, app.app_context():
        provider = timed_gateway(fake.url, args.soak_timeout)
        gateways.set_gateway(app, provider)
        soak = Soak(args, app, fake, provider)
        soak.seed(args.soak_experts)
        started, cpu = time.perf_counter(), time.process_time()
        for done, index in enumerate(runs, start=1):
            soak.run(index)
            if done % max(1, len(runs) // 10) == 0:
                elapsed = time.perf_counter() - started
                log(f"  [{shard}] {done:,}/{len(runs):,} runs in {elapsed:.1f} s ({done / elapsed:.1f}/s), "
                    f"{soak.counts['crashes']:,} crashes, {len(soak.anomalies)} anomalies")
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        found = soak.reconcile()
        gateways.set_gateway(app, None)
        internal_errors = len(fake.internal_errors)
        db.session.remove()
        db.engine.dispose()
    return {"revision": revision, "runs": len(runs), "wall": wall, "cpu": cpu, "counts": dict(soak.counts),
            "found": found, "calls": provider.calls, "call_seconds": provider.seconds, "paused": soak.paused,
            "anomalies": soak.anomalies, "errors": soak.errors, "internal_errors": internal_errors}


def bench_soak(args, workdir: Path) -> dict:
    shards = max(1, min(args.soak_workers, args.soak))
    log(f"[soak] {args.soak:,} crash-injected payout runs in {shards} process(es) with {args.soak_experts} experts "
        f"each (client timeout {args.soak_timeout:g} s)")
    started = time.perf_counter()
    if shards == 1:
        results = [soak_shard(args, workdir, 0, 1)]
    else:  # forked before the soak has any thread or database connection
        with ProcessPoolExecutor(shards, mp_context=multiprocessing.get_context("fork")) as pool:
            futures = [pool.submit(soak_shard, args, workdir, shard, shards) for shard in range(shards)]
            results = [future.result() for future in futures]
    wall = time.perf_counter() - started
    runs_wall = max(result["wall"] for result in results)  # the workers' runs, without their set-up
    worker_wall = sum(result["wall"] for result in results)
    call_seconds = sum(result["call_seconds"] for result in results)
    http_share = call_seconds / worker_wall if worker_wall else 0.0
    found = {key: sum(result["found"][key] for result in results) for key in FOUND}
    breaches = [f"[worker {shard}] {breach}" for shard, result in enumerate(results)
                for breach in result["found"]["ledger_breaches"]]
    anomalies = [anomaly for result in results for anomaly in result["anomalies"]]
    errors = [error for result in results for error in result["errors"]]
    log(f"  {found['double_payments']} double payments, {found['mismatches']} mismatches, {len(breaches)} ledger "
        f"breaches, {len(anomalies)} runs with anomalies, {len(errors)} errors; {wall:.1f} s")
    return {
        "schema_revision": results[0]["revision"],
        "runs": args.soak, "workers": shards, "experts_per_worker": args.soak_experts, "seed": args.seed,
        "client_timeout_s": args.soak_timeout,
        **{key: sum(result["counts"].get(key, 0) for result in results) for key in COUNTED},
        "transfer_calls": sum(result["calls"] for result in results),
        **found,
        "mismatch_kinds": {kind: sum(result["found"]["mismatch_kinds"][kind] for result in results)
                           for kind in MISMATCHES},
        "cash_out_equals_transfers": all(result["found"]["cash_out_equals_transfers"] for result in results),
        "ledger_breaches": breaches,
        "double_payments_target": 0,
        "meets_target": found["double_payments"] == 0,
        "anomaly_count": len(anomalies), "runs_with_anomalies": anomalies[:20],
        "error_count": len(errors), "errors": errors[:5],
        "fake_internal_errors": sum(result["internal_errors"] for result in results),
        "examples": [result["found"]["examples"] for result in results if any(result["found"]["examples"].values())],
        "wall_s": round(wall, 2),
        "runs_wall_s": round(runs_wall, 2),
        "runs_per_second": round(args.soak / runs_wall, 1) if runs_wall else None,
        "per_run_ms": {
            "wall": round(worker_wall / args.soak * 1000, 1),
            "cpu": round(sum(result["cpu"] for result in results) / args.soak * 1000, 1),
            "transfer_calls": round(call_seconds / args.soak * 1000, 1),
            "paused_for_held_requests": round(sum(result["paused"] for result in results) / args.soak * 1000, 1),
        },
        "http_share_of_wall": round(http_share, 3),
        "note": ("the fake's HTTP round trips (transfer calls, injected timeouts included) take most of the time"
                 if http_share > 0.5 else "the app's own work (its services and their SQL) takes most of the time, "
                 "not the fake's HTTP round trips"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout, progress on stderr")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    parser.add_argument("--chats", type=int, help="answered chats in the ledger for the batch mode [1,000,000]; "
                        "given with --soak, both modes run")
    parser.add_argument("--experts", type=int, default=5000, help="experts the chats are spread over [5000]")
    parser.add_argument("--brands", type=int, default=50, help="brands the chats are spread over [50]")
    parser.add_argument("--minimum-cents", type=int, default=5000, help="the batch's minimum per expert [5000]")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each measurement (median) [5]")
    parser.add_argument("--seed", type=int, default=20261129, help="makes the data and the faults [20261129]")
    parser.add_argument("--keep-db", type=Path, metavar="FOLDER",
                        help="make the databases in FOLDER and keep them (default: a temporary folder)")
    parser.add_argument("--soak", "--soak-runs", dest="soak", type=int, nargs="?", const=10_000, default=None,
                        metavar="RUNS", help="run the soak mode: RUNS crash-injected submissions [10,000]")
    parser.add_argument("--soak-experts", type=int, default=40, help="experts the soak's runs pay [40]")
    parser.add_argument("--soak-workers", type=int, default=os.cpu_count() or 1,
                        help="processes the soak's runs are spread over, each with its own database and fake "
                        "[one per CPU]")
    parser.add_argument("--soak-timeout", type=float, default=0.1,
                        help="the gateway's timeout in the soak; injected timeouts hold answers 1.5 x longer [0.1]")
    args = parser.parse_args()
    for name in ("chats", "experts", "brands", "repeat", "soak", "soak_experts", "soak_workers"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    benchlib.VERBOSE = not args.quiet
    run_batch = args.soak is None or args.chats is not None
    args.chats = args.chats or 1_000_000

    started = time.perf_counter()
    report: dict = {
        "benchmark": "payouts",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
                    "platform": platform.platform(), "load_average_at_start": os.getloadavg()},
        "batch": None,
        "soak": None,
    }
    with tempfile.TemporaryDirectory(prefix="mk-bench-payouts-") as folder:
        workdir = args.keep_db or Path(folder)
        workdir.mkdir(parents=True, exist_ok=True)
        if run_batch:
            report["batch"] = bench_batch(args, workdir)
        if args.soak is not None:
            report["soak"] = bench_soak(args, workdir)
    report["machine"]["load_average_at_end"] = os.getloadavg()
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, indent=2), file=sys.stdout if args.json else sys.stderr)


if __name__ == "__main__":
    main()
