#!/usr/bin/env python
"""Whole-system load test (DESIGN.md section 8, issue 22): the knee of each deployment.

Run from the project root with the project's virtualenv (the bench extras: gevent, aiohttp, requests):

    python benchmarks/load.py --json          # one JSON object on stdout, progress on stderr (8 to 15 minutes)
    python benchmarks/load.py --quick --json  # fewer experts, shorter steps (about 5 minutes)

Visitors arrive through the widget (`POST /api/widget/<key>/conversations`, then the `/visitor` socket with its
`status` and `sync`) at a rising rate, in steps; a share of them are WhatsApp customers whose messages are signed
webhooks (`/webhooks/whatsapp`). Experts, logged in through the form, hold one socket each (heartbeat every 25 s);
an expert gets the `offer` event, accepts it over the socket after a human delay, opens the chat (`chat_sync`),
and expert and visitor write in turns (`typing`, then `send` / `chat_send`; the expert marks what they read with
`chat_read`), until the expert closes it (`chat_close`) and most visitors rate it (`POST .../rating`). Chat
lengths, the experts' time to accept, first replies and ratings are drawn from the demo's history
(marketplace/demo.py), played `--time-scale` times faster (60: a seven-minute chat lasts seven seconds).

Each step is held `--hold` seconds after a `--warmup`; arrivals are a Poisson process of the step's rate. A step
passes when created -> offer (POST or webhook sent until the expert's socket has the `offer`) p99 <= 250 ms,
message round trip (send until the other side's socket has the `message`) p99 <= 150 ms, nothing failed (an HTTP
answer other than 2xx, a socket that did not connect, an acknowledgement refused or missing after 10 s, an offer
or message that never came) and the offers reached the experts at 95 % of the arrival rate. The knee is the last
step that passed; stepping stops at the first that did not. On a shared machine a step that missed while other
processes took more than `--noisy` cores is held again once they are quiet (the first attempt is kept, `superseded`).

Deployments, each on a fresh database: `sqlite_1`, one gevent process (pywsgi, monkey-patched, as one
`gunicorn -k gevent -w 1` worker) on a SQLite file with the scheduler embedded; `postgresql_redis_N` (N = 1, 2,
4), N such processes on a scratch PostgreSQL database with `SOCKETIO_MESSAGE_QUEUE` on Redis and
`SCHEDULER_MODE=external`, plus one `marketplace scheduler` process. Each client talks to one process, its HTTP
calls and its WebSocket alike, spread round-robin: what a proxy with sticky sessions does. WhatsApp's side is the
project's fake Graph server (tests/fake_graph) in its own process, sending its status webhooks to process 0.

Resource figures (`resources`): one process (SQLite, scheduler embedded): its memory before and after the experts
connect, then idle visitors (in active chats, `status` every 15 s as the widget sends it) connected in batches
while a small paced load runs, until the targets break or the last of `--socket-steps` is connected.

The clients are the project's own: python-socketio's asyncio client and aiohttp, all in this one process. Locust
is not installed, and its Socket.IO support is a third-party plugin; these clients drive the same real HTTP and
Socket.IO paths the widget and the expert's phone use. A step's `client_bound` says when the client's CPU (near a
core) or its late event loop, not the servers, set the pace.
"""

import sys

if __name__ == "__main__" and "--serve" in sys.argv and "gevent" in sys.argv:
    # A server subprocess in gevent mode: patch before anything imports socket, threading or time.
    from gevent import monkey

    monkey.patch_all()

import argparse  # noqa: E402
import asyncio  # noqa: E402
import collections  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import benchlib  # noqa: E402
from benchlib import (  # noqa: E402
    PASSWORD,
    SECRET,
    connect_socket,
    cpu_seconds,
    environ,
    free_port,
    launch,
    log,
    ms,
    percentile,
    serve_app,
    start_server,
    stop,
)

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/13"  # the tests use database 0; only this one is flushed
TARGETS = {"created_to_offer_p99_ms": 250, "rtt_p99_ms": 150, "failed_requests": 0,
           "offers_per_arrival_rate": 0.95}
ACK_TIMEOUT = 10.0  # seconds for an acknowledgement, an offer or a message before it counts as failed
HEARTBEAT_SECONDS = 25  # the expert's page beats this often (status_bar.heartbeat_seconds at the default grace)
STATUS_SECONDS = 15  # the widget's status poll in a chat (widget.js STATUS_EVERY_MS)

# The demo's history (marketplace/demo.py, _seed_history): the wait until an expert accepts is exponential with a
# 25 s mean, a chat lasts 60 s plus an exponential 360 s, the first reply comes 5 s after the accept, and 60 % of
# answered chats are rated 5, 4, 3 or 2 (weights 60, 25, 10, 5). The demo keeps no messages; a chat here has one
# message every SECONDS_PER_MESSAGE of its length, from each side in turn, the expert first.
ACCEPT_MEAN_S = 25.0
HANDLE_MIN_S = 60.0
HANDLE_EXTRA_MEAN_S = 360.0
FIRST_REPLY_S = 5.0
RATED_SHARE = 0.6
RATINGS = ((5, 4, 3, 2), (60, 25, 10, 5))
SECONDS_PER_MESSAGE = 30.0
VISITOR_LINES = [
    "Bonjour ! Cette lampe existe-t-elle aussi en blanc chaud, vers 2700 K ?",
    "Et pour un salon de 20 m², vous conseillez quelle puissance ?",
    "D'accord. La livraison à Lyon prend combien de temps ?",
    "Parfait, merci beaucoup pour votre aide !",
]
EXPERT_LINES = [
    "Bonjour, je suis experte Maison Lumière : je regarde ça pour vous.",
    "Oui, en 2700 K aussi : je vous mets le lien de la version blanc chaud.",
    "Pour 20 m², comptez environ 2000 lumens, en deux ou trois points lumineux.",
    "Livraison en 3 à 5 jours ouvrés ; bonne soirée !",
]


@dataclass(frozen=True)
class ChatPlan:
    """One chat as the demo's history shapes it, in seconds of the benchmark (already divided by the time scale)."""

    accept_after: float
    gaps: tuple[float, ...]  # before each message; message i is the expert's when i is even
    rating: int | None


def plan_chat(rng: random.Random, scale: float, offer_timeout: float = 30.0) -> ChatPlan:
    handle = HANDLE_MIN_S + rng.expovariate(1 / HANDLE_EXTRA_MEAN_S)
    count = max(2, round(handle / SECONDS_PER_MESSAGE))
    rest = (handle - FIRST_REPLY_S) / (count - 1)
    gaps = [FIRST_REPLY_S] + [rng.expovariate(1 / rest) for _ in range(count - 1)]
    rating = rng.choices(*RATINGS)[0] if rng.random() < RATED_SHARE else None
    # An expert answers an offer before it expires (the brand's 30 s): the rare slower draw is taken at half of it.
    accept = min(rng.expovariate(1 / ACCEPT_MEAN_S), offer_timeout / 2)
    return ChatPlan(accept / scale, tuple(gap / scale for gap in gaps), rating)


# What the machine and its processes spend.

def clock_ticks_busy() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs since boot, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def pids_named(name: str, word: str = "") -> list[int]:
    """Processes called `name` whose command line holds `word` (PostgreSQL's backends name their database)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name and word in (entry / "cmdline").read_text():
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def rss_kb(pid: int) -> int:
    match = re.search(r"^VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.MULTILINE)
    return int(match.group(1)) if match else 0


class CpuMeter:
    """CPU time of the deployment's processes by role, the database's and Redis's, this client's and the machine's."""

    def __init__(self, roles: dict[str, list[int]], named: dict[str, tuple[str, str]]):
        self.roles = roles  # role -> pids we started
        self.named = named  # role -> (process name, a word of its command line): every such process

    def snapshot(self) -> dict:
        def cpu(pid: int) -> float:
            try:
                return cpu_seconds(pid)
            except (OSError, IndexError):
                return 0.0

        pids = {role: {pid: cpu(pid) for pid in pids} for role, pids in self.roles.items()}
        pids.update({role: {pid: cpu(pid) for pid in pids_named(*named)} for role, named in self.named.items()})
        return {"at": time.perf_counter(), "pids": pids, "client": time.process_time(), "machine": clock_ticks_busy()}

    @staticmethod
    def cores(before: dict, after: dict) -> dict:
        seconds = after["at"] - before["at"]
        out: dict = {}
        for role, now in after["pids"].items():
            used = [now[pid] - before["pids"][role].get(pid, 0.0) for pid in now]
            if role == "servers":
                out["servers"] = [round(u / seconds, 2) for u in used]
            else:
                out[role] = round(sum(used) / seconds, 2)
        out["client"] = round((after["client"] - before["client"]) / seconds, 2)
        busy = after["machine"][0] - before["machine"][0]
        total = after["machine"][1] - before["machine"][1]
        out["machine_busy"] = round((os.cpu_count() or 1) * busy / total, 2) if total else None
        if out["machine_busy"] is not None:  # what the rest of the machine took meanwhile (a shared machine)
            ours = sum(out["servers"]) + sum(v for k, v in out.items() if k not in ("servers", "machine_busy"))
            out["others"] = round(max(0.0, out["machine_busy"] - ours), 2)
        return out


class WaitSampler(threading.Thread):
    """What the deployment's PostgreSQL sessions are doing, twice a second (pg_stat_activity): on CPU, waiting for a
    lock, for the client inside a transaction (`idle in transaction`: the process that holds the locks is busy
    elsewhere), for the disk. A thread of this process; it sleeps between samples."""

    def __init__(self, admin_url: str, database_name: str, every: float = 0.5):
        super().__init__(daemon=True)
        self.admin_url = admin_url
        self.database_name = database_name
        self.every = every
        self.samples: list[tuple[float, dict[str, int]]] = []
        self.done = threading.Event()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as connection:
            while not self.done.wait(self.every):
                rows = connection.execute(
                    "SELECT state, wait_event_type, wait_event, count(*) FROM pg_stat_activity "
                    "WHERE datname = %s AND state <> 'idle' AND pid <> pg_backend_pid() GROUP BY 1, 2, 3",
                    (self.database_name,)).fetchall()
                self.samples.append((time.perf_counter(), {
                    f"{state}: {f'{kind}/{event}' if kind else 'on CPU'}": n for state, kind, event, n in rows}))

    def summary(self, start: float, end: float) -> dict:
        """Sessions in each state, on average over the window's samples, busiest first."""
        window = [counts for t, counts in self.samples if start <= t < end]
        total: collections.Counter = collections.Counter()
        for counts in window:
            total.update(counts)
        return {key: round(n / len(window), 2) for key, n in total.most_common(6)} if window else {}


# The servers: the app (`--serve app`, benchlib's serve_app) and WhatsApp's side (`--serve graph`).

CUSTOMERS = 40_000  # WhatsApp customers the fake Graph knows to have written (their 24-hour window is open)


def customer_number(k: int) -> str:
    return f"3362{k:07d}"


def serve_graph(port: int, webhook: str) -> None:
    """The fake Graph with the benchmark's number; its status webhooks go to `webhook`."""
    from tests.fake_graph.server import FakeGraph

    channels = benchlib.load_bench("channels")
    known = channels.the_number()
    fake = FakeGraph(port=port).start()
    number = fake.add_whatsapp_number(known.phone_number_id, access_token=known.access_token,
                                      app_secret=known.app_secret, verify_token=known.verify_token,
                                      display_phone_number=known.display_phone_number, webhook_url=webhook)
    for k in range(CUSTOMERS):
        fake.set_last_inbound(number, customer_number(k))
    print(f"serving the fake Graph on {port}", flush=True)
    threading.Event().wait()


def server_log_problems(paths: list[Path]) -> dict:
    """What the servers wrote that is not normal: tracebacks (with their last line), errors, 5xx answers, and
    Meta's status webhooks for a message whose id the app had not recorded yet (statuses.apply_status keeps them for
    the send to apply)."""
    tracebacks: collections.Counter = collections.Counter()
    errors: collections.Counter = collections.Counter()
    unknown_statuses = 0
    for path in paths:
        lines = path.read_text(errors="replace").splitlines()
        for i, line in enumerate(lines):
            unknown_statuses += "not recorded here (yet): kept" in line
            if line.startswith("Traceback"):
                end = next((j for j in range(i + 1, len(lines)) if lines[j] and not lines[j].startswith(" ")), i)
                tracebacks[f"{path.stem}: {lines[end][:200]}"] += 1
            elif re.search(r"\bERROR\b|\bCRITICAL\b| 50\d ", line):
                errors[f"{path.stem}: {re.sub(r'[0-9]+', 'N', line)[:200]}"] += 1
    return {"tracebacks": sum(tracebacks.values()), "traceback_kinds": dict(tracebacks.most_common(10)),
            "error_lines": sum(errors.values()), "error_kinds": dict(errors.most_common(10)),
            "whatsapp_statuses_for_unknown_messages": unknown_statuses}


# The data: brands with disjoint experts, one brand's WhatsApp number, and for the resource figures a brand whose
# conversations are active already (the idle visitors' chats).

def seed(database_url: str, brands: int, experts: int, concurrency: int) -> dict:
    from marketplace.accounts.models import Role, User
    from marketplace.accounts.passwords import hash_password
    from marketplace.brands.models import Brand, BrandMembership, BrandRole
    from marketplace.database import db
    from marketplace.routing.channels import connections

    routing = benchlib.load_bench("routing")
    number = benchlib.load_bench("channels").the_number()
    app = routing.make_app(database_url)
    revision = benchlib.migrate(app)
    with app.app_context():
        seeded = routing.seed(brands, experts, 0, concurrency=concurrency, password_hash=hash_password(PASSWORD),
                              email_tag="load")
        keys = [db.session.get(Brand, brand_id).widget_key for brand_id in seeded["brand_ids"]]
        admin = User(email=f"admin-{uuid.uuid4().hex[:6]}@bench.example.com", full_name="Bench admin",
                     role=Role.BRAND, password_hash="!")  # noqa: S106 - matches no password
        db.session.add(admin)
        db.session.flush()
        db.session.add(BrandMembership(brand_id=seeded["brand_ids"][0], user_id=admin.id, role=BrandRole.ADMIN))
        db.session.commit()
        connections.connect_channel(admin, seeded["brand_ids"][0], {
            "kind": "whatsapp", "phone_number_id": number.phone_number_id, "access_token": number.access_token,
            "app_secret": number.app_secret, "verify_token": number.verify_token,
            "display_phone_number": number.display_phone_number})
        db.session.remove()
        db.engine.dispose()
    return {"keys": keys, "emails": seeded["emails"], "schema_revision": revision}


class IdleChats:
    """One more brand whose one expert (never logged in) holds the idle visitors' active chats, written directly (that
    brand's counters are not the router's; it never routes for it). They are written just before their visitors
    connect: a chat whose page has not been seen for VISITOR_GRACE_SECONDS is the routing sweep's to mark as left, and
    thousands of them at once would be the sweep's load, not the sockets'."""

    def __init__(self, database_url: str):
        from marketplace.brands.models import Brand
        from marketplace.database import db

        routing = benchlib.load_bench("routing")
        self.app = routing.make_app(database_url)
        with self.app.app_context():
            other = routing.seed(1, 1, 0, email_tag="idle")
            self.brand_id, self.expert_id = other["brand_ids"][0], other["expert_ids"][0]
            self.key = db.session.get(Brand, self.brand_id).widget_key
            db.session.remove()

    def add(self, count: int) -> list[dict]:
        """`count` more active chats, seen now; their visitors' `/visitor` auth."""
        import sqlalchemy as sa

        from marketplace.database import db, utcnow
        from marketplace.routing.models import Channel, Conversation, ConversationStatus

        if count <= 0:  # (an empty list of rows would insert one row of defaults)
            return []
        tokens = [secrets.token_hex(20) for _ in range(count)]
        with self.app.app_context():
            now = utcnow()
            ids = db.session.scalars(sa.insert(Conversation).returning(Conversation.id, sort_by_parameter_order=True), [
                {"brand_id": self.brand_id, "status": ConversationStatus.ACTIVE, "channel": Channel.WEB, "priority": 0,
                 "visitor_token_hash": hashlib.sha256(token.encode()).hexdigest(), "created_at": now, "queued_at": now,
                 "visitor_seen_at": now, "last_activity_at": now, "expert_id": self.expert_id, "accepted_at": now,
                 "last_seq": 0, "expert_read_seq": 0} for token in tokens]).all()
            db.session.commit()
            db.session.remove()
        return [{"key": self.key, "token": token, "conversation_id": cid} for token, cid in zip(tokens, ids,
                                                                                                  strict=True)]

    def close(self) -> None:
        from marketplace.database import db

        with self.app.app_context():
            db.engine.dispose()


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    return {"SECRET_KEY": SECRET, "MARKETPLACE_ENV": "development", "RATELIMIT_ENABLED": "false",
            "DATABASE_URL": database_url, **extra}


class Databases:
    """One seeded database of each kind whose experts logged in once (an argon2 hash at each log-in: 200 take half a
    minute); each deployment runs on a fresh copy of it, where those sessions hold too."""

    def __init__(self, args, workdir: Path):
        self.args = args
        self.workdir = workdir
        self.templates: dict[str, dict] = {}
        self.pg_names: list[str] = []

    def _pg(self, name: str, template: str | None = None) -> str:
        import psycopg

        with psycopg.connect(self.args.pg_admin_url, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        self.pg_names.append(name)
        base = self.args.pg_admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
        return f"{base}/{name}"

    def template(self, kind: str) -> dict:
        if kind in self.templates:
            return self.templates[kind]
        tag = uuid.uuid4().hex[:8]
        name = f"mk_bench_load_{tag}"
        url = f"sqlite:///{self.workdir / 'template.db'}" if kind == "sqlite" else self._pg(name)
        log(f"[{kind}] seeding {self.args.brands} brands, {self.args.experts} experts; logging them in once")
        data = seed(url, self.args.brands, self.args.experts, self.args.concurrency)
        process, server_url, _ = start_server(__file__, "app", "gevent", server_env(url, SCHEDULER_MODE="off"),
                                              self.workdir, name=f"login-{kind}")
        try:
            t0 = time.perf_counter()
            data["cookies"] = benchlib.log_in_all(server_url, data["emails"])
            log(f"    {len(data['cookies'])} experts logged in through the form in {time.perf_counter() - t0:.1f} s")
        finally:
            stop(process)
        self.templates[kind] = {**data, "url": url, "name": name, "tag": tag}
        return self.templates[kind]

    def copy(self, kind: str, label: str) -> tuple[dict, str, str]:
        """A fresh copy of the kind's database: (its data, its URL, its name for PostgreSQL's process titles)."""
        template = self.template(kind)
        name = f"mk_bench_load_{template['tag']}_{label}"
        if kind == "postgresql":
            return template, self._pg(name, template["name"]), name
        import sqlite3

        path = self.workdir / f"{label}.db"
        source, target = sqlite3.connect(template["url"].removeprefix("sqlite:///")), sqlite3.connect(path)
        with target:
            source.backup(target)
        source.close()
        target.close()
        return template, f"sqlite:///{path}", name

    def drop(self) -> None:
        if not self.pg_names:
            return
        import psycopg
        import redis

        redis.Redis.from_url(self.args.redis_url).flushdb()  # the message queue's leftovers (its database only)

        with psycopg.connect(self.args.pg_admin_url, autocommit=True, connect_timeout=5) as admin:
            for name in reversed(self.pg_names):
                try:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                except psycopg.Error as error:
                    log(f"    could not drop {name}: {error}")


# The clients.

@dataclass
class Arrival:
    kind: str  # web | whatsapp
    t0: float
    t_offer: float | None = None
    failed: bool = False


@dataclass
class Sent:
    kind: str  # visitor | expert (web: round trip to the other socket) | whatsapp_in (webhook to socket) | whatsapp_out
    t0: float
    t1: float | None = None


class Records:
    def __init__(self):
        self.arrivals: list[Arrival] = []
        self.messages: list[Sent] = []
        self.failures: list[tuple[float, str]] = []
        self.waiting_at_once: list[float] = []  # arrivals answered `waiting`: no expert had room at that moment
        # WhatsApp offers whose chat held no message yet when the expert accepted and opened it: the webhook's
        # request routes the new conversation (and the offer goes out) before it stores the customer's message.
        self.whatsapp_offered_before_message: list[float] = []
        self.acks: dict[str, list[tuple[float, float]]] = collections.defaultdict(list)
        self.launch_lag: list[tuple[float, float]] = []
        self.loop_lag: list[tuple[float, float]] = []

    def fail(self, t0: float, what: str) -> None:
        self.failures.append((t0, what))


class Load:
    """The experts' phones, the visitors' browsers and WhatsApp's webhooks, against one or several processes."""

    def __init__(self, urls: list[str], data: dict, args, *, whatsapp_share: float, seed: int):
        self.urls = urls
        self.keys = data["keys"]
        self.cookies = data["cookies"]
        self.args = args
        self.whatsapp_share = whatsapp_share
        self.rng = random.Random(seed)  # noqa: S311 - a reproducible load, not a secret
        self.rec = Records()
        self.experts: list = []
        self.offers: dict[int, tuple[float, int, int]] = {}  # conversation id -> (time, expert index, offer id)
        self.offer_waiters: dict[int, asyncio.Future] = {}
        self.receipts: dict[str, asyncio.Future] = {}  # client id -> future of the time its `message` arrived
        self.whatsapp_waiters: dict[str, asyncio.Future] = {}  # first message's client id -> (chat, expert, t)
        self.whatsapp_offers: dict[int, tuple[float, int]] = {}  # conversation id -> (offer's time, expert index)
        self.tasks: set[asyncio.Task] = set()
        self.background: list[asyncio.Task] = []
        self.k = 0
        self.open_chats = 0
        self.visitor_sockets = 0
        self.stopping = False
        self.http = None
        self.socket_http = None
        self.welcomed = 0
        self.channels = benchlib.load_bench("channels") if whatsapp_share > 0 else None
        self.number = self.channels.the_number() if self.channels else None

    def spawn(self, coroutine) -> asyncio.Task:
        task = asyncio.create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    # Connections.

    async def start(self, experts: int | None = None) -> None:
        """Open the HTTP pools and connect the experts (the first `experts` of them; `connect_experts` the rest)."""
        import aiohttp

        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                          timeout=aiohttp.ClientTimeout(total=30),
                                          cookie_jar=aiohttp.DummyCookieJar())
        # The visitors' sockets share one connection pool (a browser each would have its own; no cookies either way).
        self.socket_http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                                 cookie_jar=aiohttp.DummyCookieJar())
        self.background.append(asyncio.create_task(self.watch_loop()))
        await self.connect_experts(len(self.cookies) if experts is None else experts)

    async def close(self) -> None:
        for task in self.background:
            task.cancel()
        await asyncio.gather(*self.background, return_exceptions=True)
        await asyncio.gather(*(c.disconnect() for c in self.experts), return_exceptions=True)
        await self.http.close()
        await self.socket_http.close()

    async def connect_experts(self, count: int) -> None:
        """Connect `count` more experts' sockets (round-robin over the processes), wait for their welcome, and start
        their heartbeats."""
        import socketio

        gate = asyncio.Semaphore(20)

        async def one(index: int, cookie: str):
            async def on_message(data: dict) -> None:
                await self.on_expert_message(index, data)

            client = socketio.AsyncClient(reconnection=False)
            client.on("offer", lambda data: self.on_offer(index, data))
            client.on("message", on_message)
            client.on("welcome", self.on_welcome)
            return await connect_socket(client, self.urls[index % len(self.urls)], gate, headers={"Cookie": cookie})

        first = len(self.experts)
        indexes = range(first, min(first + count, len(self.cookies)))
        self.experts += await asyncio.gather(*(one(i, self.cookies[i]) for i in indexes))
        deadline = time.monotonic() + 30
        while self.welcomed < len(self.experts) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        self.background += [asyncio.create_task(self.heartbeats(i)) for i in indexes]

    def on_welcome(self, data=None) -> None:
        self.welcomed += 1

    async def heartbeats(self, index: int) -> None:
        """The expert's page beats at once, then every HEARTBEAT_SECONDS (staggered over the experts)."""
        delay = 0.0
        while True:
            await asyncio.sleep(delay)
            t0 = time.perf_counter()

            def answered(answer, t0=t0) -> None:
                if not isinstance(answer, dict) or answer.get("error"):
                    self.rec.fail(t0, f"heartbeat refused: {answer}")

            await self.experts[index].emit("heartbeat", {}, callback=answered)
            delay = HEARTBEAT_SECONDS if delay else HEARTBEAT_SECONDS * (index + 1) / len(self.cookies)

    async def watch_loop(self) -> None:
        """How late this client's event loop runs (a busy client delays what it measures)."""
        while True:
            t0 = time.perf_counter()
            await asyncio.sleep(0.05)
            self.rec.loop_lag.append((t0, time.perf_counter() - t0 - 0.05))

    # Events on the experts' sockets.

    def on_offer(self, index: int, data: dict) -> None:
        now = time.perf_counter()
        conversation_id = data["conversation_id"]
        if data.get("channel", "web") != "web":
            self.whatsapp_offers[conversation_id] = (now, index)
            self.spawn(self.accept_whatsapp(index, data))
            return
        self.offers[conversation_id] = (now, index, data["offer_id"])
        waiter = self.offer_waiters.pop(conversation_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(self.offers[conversation_id])

    async def on_expert_message(self, index: int, data: dict) -> None:
        self.received(data)
        self.whatsapp_first(data)
        if data.get("sender") == "visitor":  # the open chat shows it: the inbox marks it read
            await self.experts[index].emit("chat_read", {"conversation_id": data["conversation_id"],
                                                         "seq": data["seq"]})

    def received(self, data: dict) -> None:
        now = time.perf_counter()
        waiter = self.receipts.pop(data.get("client_id"), None)
        if waiter is not None and not waiter.done():
            waiter.set_result(now)

    # Requests, each timed and its failure recorded.

    async def ask(self, client, event: str, data: dict, namespace: str = "/") -> dict | None:
        import socketio

        t0 = time.perf_counter()
        try:
            answer = await client.call(event, data, namespace=namespace, timeout=ACK_TIMEOUT)
        except socketio.exceptions.TimeoutError:
            self.rec.fail(t0, f"{event}: no acknowledgement in {ACK_TIMEOUT:g} s")
            return None
        except socketio.exceptions.SocketIOError as error:
            self.rec.fail(t0, f"{event}: {type(error).__name__}")
            return None
        self.rec.acks[event].append((t0, time.perf_counter()))
        if not (isinstance(answer, dict) and answer.get("ok")):
            error = answer.get("error") if isinstance(answer, dict) else answer
            self.rec.fail(t0, f"{event} refused: {str(error)[:80]}")
            return None
        return answer

    async def request(self, what: str, method: str, url: str, expect: int, **options) -> dict | None:
        t0 = time.perf_counter()
        try:
            async with self.http.request(method, url, **options) as answer:
                body = await answer.read()
        except Exception as error:  # noqa: BLE001 - a refused or cut connection is a failed request, counted
            self.rec.fail(t0, f"{what}: {type(error).__name__}")
            return None
        self.rec.acks[what].append((t0, time.perf_counter()))
        if answer.status != expect:
            self.rec.fail(t0, f"{what} answered {answer.status}: {body[:60].decode(errors='replace')}")
            return None
        return json.loads(body) if body and answer.content_type == "application/json" else {}

    async def visitor_socket(self, url: str, auth: dict):
        import socketio

        client = socketio.AsyncClient(reconnection=False, http_session=self.socket_http)
        client.on("message", self.received, namespace="/visitor")
        t0 = time.perf_counter()
        try:
            await client.connect(url, auth=auth, namespaces=["/visitor"], transports=["websocket"],
                                 wait_timeout=ACK_TIMEOUT)
        except socketio.exceptions.ConnectionError as error:
            self.rec.fail(t0, f"visitor socket did not connect: {str(error)[:80]}")
            return None
        self.rec.acks["visitor_connect"].append((t0, time.perf_counter()))
        self.visitor_sockets += 1
        return client

    async def close_visitor(self, client) -> None:
        self.visitor_sockets -= 1
        await client.disconnect()

    async def wait(self, future: asyncio.Future, t0: float, what: str, timeout: float = ACK_TIMEOUT):
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            self.rec.fail(t0, f"{what} not received in {timeout:g} s")
            return None

    # A visitor from the widget.

    async def web_chat(self, k: int) -> None:
        url = self.urls[k % len(self.urls)]
        key = self.keys[self.rng.randrange(len(self.keys))]
        plan = plan_chat(self.rng, self.args.time_scale)
        token = secrets.token_hex(20)
        loop = asyncio.get_running_loop()
        arrival = Arrival("web", time.perf_counter())
        self.rec.arrivals.append(arrival)
        body = await self.request("POST conversations", "POST", f"{url}/api/widget/{key}/conversations", 201,
                                  json={"page_url": "https://shop.example.com/lampes/arc", "locale": "fr-FR"},
                                  headers={"X-Visitor-Token": token})
        if body is None:
            arrival.failed = True
            return
        conversation_id = body["id"]
        if body["status"] == "waiting":
            self.rec.waiting_at_once.append(arrival.t0)
        offer = self.offers.pop(conversation_id, None)
        if offer is None:
            waiter = self.offer_waiters[conversation_id] = loop.create_future()
        visitor = await self.visitor_socket(url, {"key": key, "token": token, "conversation_id": conversation_id})
        if visitor is not None:  # the widget asks for its status and the messages it missed at each connection
            await asyncio.gather(self.ask(visitor, "status", {}, "/visitor"),
                                 self.ask(visitor, "sync", {"after_seq": 0}, "/visitor"))
        if offer is None:
            offer = await self.wait(waiter, arrival.t0, "offer")
            self.offer_waiters.pop(conversation_id, None)
            offer = offer or self.offers.pop(conversation_id, None)
        if offer is None:
            arrival.failed = True
            if visitor is not None:
                await self.close_visitor(visitor)
            return
        arrival.t_offer, index, offer_id = offer
        self.offers.pop(conversation_id, None)
        expert = self.experts[index]
        await asyncio.sleep(plan.accept_after)
        if await self.ask(expert, "offer_accept", {"offer_id": offer_id}) is None:
            if visitor is not None:
                await self.close_visitor(visitor)
            return
        self.open_chats += 1
        await self.ask(expert, "chat_sync", {"conversation_id": conversation_id, "after_seq": 0})
        for i, gap in enumerate(plan.gaps):
            if self.stopping or visitor is None:
                break
            from_expert = i % 2 == 0
            await asyncio.sleep(gap / 2)
            if from_expert:
                await expert.emit("chat_typing", {"conversation_id": conversation_id})
            else:
                await visitor.emit("typing", {}, namespace="/visitor")
            await asyncio.sleep(gap / 2)
            client_id = f"{'e' if from_expert else 'v'}{k}-{i}"
            receipt = self.receipts[client_id] = loop.create_future()
            sent = Sent("expert" if from_expert else "visitor", time.perf_counter())
            self.rec.messages.append(sent)
            if from_expert:
                answer = await self.ask(expert, "chat_send", {"conversation_id": conversation_id,
                                                              "client_id": client_id,
                                                              "body": EXPERT_LINES[(i // 2) % len(EXPERT_LINES)]})
            else:
                answer = await self.ask(visitor, "send", {"client_id": client_id,
                                                          "body": VISITOR_LINES[(i // 2) % len(VISITOR_LINES)]},
                                        "/visitor")
            if answer is None:
                self.receipts.pop(client_id, None)
                break
            sent.t1 = await self.wait(receipt, sent.t0, "message")
            if sent.t1 is None:
                break
        await self.ask(expert, "chat_close", {"conversation_id": conversation_id})
        self.open_chats -= 1
        if plan.rating is not None:
            await self.request("POST rating", "POST", f"{url}/api/widget/{key}/conversations/{conversation_id}/rating",
                               200, json={"rating": plan.rating}, headers={"X-Visitor-Token": token})
        if visitor is not None:
            await self.close_visitor(visitor)

    # A customer on WhatsApp.

    async def webhook(self, url: str, customer: str, wamid: str, text: str) -> bool:
        raw, headers = self.channels.delivery(self.number, customer, wamid, text)
        return await self.request("POST webhook", "POST", f"{url}/webhooks/whatsapp", 200, data=raw,
                                  headers=headers) is not None

    async def whatsapp_chat(self, k: int) -> None:
        url = self.urls[k % len(self.urls)]
        customer = customer_number(k % CUSTOMERS)
        plan = plan_chat(self.rng, self.args.time_scale)
        loop = asyncio.get_running_loop()
        wamid = f"wamid.load-{k}-0"
        first = self.whatsapp_waiters[self.channels.client_id(wamid)] = loop.create_future()
        arrival = Arrival("whatsapp", time.perf_counter())
        self.rec.arrivals.append(arrival)
        if not await self.webhook(url, customer, wamid, VISITOR_LINES[0]):
            arrival.failed = True
            return
        # The offer carries no customer: the expert's accept and sync tell whose first message the chat holds
        # (the offer's own time is kept from its event).
        accepted = await self.wait(first, arrival.t0, "offer (then its accept and first message)",
                                   3 * ACK_TIMEOUT + 15 / self.args.time_scale)
        if accepted is None:
            arrival.failed = True
            return
        conversation_id, index, arrival.t_offer = accepted
        expert = self.experts[index]
        self.open_chats += 1
        for i, gap in enumerate(plan.gaps[1:], start=1):  # message 0 was the customer's, which opened the chat
            if self.stopping:
                break
            from_expert = i % 2 == 1
            await asyncio.sleep(gap / 2)
            if from_expert:
                await expert.emit("chat_typing", {"conversation_id": conversation_id})
            await asyncio.sleep(gap / 2)
            if from_expert:
                sent = Sent("whatsapp_out", time.perf_counter())
                self.rec.messages.append(sent)
                if await self.ask(expert, "chat_send", {"conversation_id": conversation_id, "client_id": f"w{k}-{i}",
                                                        "body": EXPERT_LINES[(i // 2) % len(EXPERT_LINES)]}) is None:
                    break
                sent.t1 = time.perf_counter()
            else:
                wamid = f"wamid.load-{k}-{i}"
                client_id = self.channels.client_id(wamid)
                receipt = self.receipts[client_id] = loop.create_future()
                sent = Sent("whatsapp_in", time.perf_counter())
                self.rec.messages.append(sent)
                if not await self.webhook(url, customer, wamid, VISITOR_LINES[(i // 2) % len(VISITOR_LINES)]):
                    self.receipts.pop(client_id, None)
                    break
                sent.t1 = await self.wait(receipt, sent.t0, "message")
                if sent.t1 is None:
                    break
        await self.ask(expert, "chat_close", {"conversation_id": conversation_id})
        self.open_chats -= 1

    async def accept_whatsapp(self, index: int, data: dict) -> None:
        """Accept a WhatsApp chat and find its customer by their first message: in the chat's history, or, when the
        offer came before it was stored (`whatsapp_offered_before_message`), as the `message` event that follows."""
        expert = self.experts[index]
        conversation_id = data["conversation_id"]
        await asyncio.sleep(plan_chat(self.rng, self.args.time_scale).accept_after)
        if await self.ask(expert, "offer_accept", {"offer_id": data["offer_id"]}) is None:
            return
        synced = await self.ask(expert, "chat_sync", {"conversation_id": conversation_id, "after_seq": 0})
        if synced is None:
            return
        visitor_messages = [m for m in synced["messages"] if m["sender"] == "visitor"]
        if not visitor_messages:
            self.rec.whatsapp_offered_before_message.append(self.whatsapp_offers[conversation_id][0])
        for message in visitor_messages:
            self.whatsapp_first(message)

    def whatsapp_first(self, message: dict) -> None:
        """A WhatsApp customer's first message seen by the expert who accepted their chat: the chat is theirs."""
        waiter = self.whatsapp_waiters.pop(message.get("client_id"), None)
        offered = self.whatsapp_offers.pop(message.get("conversation_id"), None)
        if waiter is not None and offered is not None and not waiter.done():
            waiter.set_result((message["conversation_id"], offered[1], offered[0]))

    # The steps.

    def arrive(self) -> None:
        k = self.k
        self.k += 1
        whatsapp = self.channels is not None and self.rng.random() < self.whatsapp_share
        self.spawn(self.whatsapp_chat(k) if whatsapp else self.web_chat(k))

    async def pace(self, rate: float, seconds: float) -> None:
        """Arrivals for `seconds` at `rate`: a Poisson process with exactly rate x seconds of them."""
        start = time.perf_counter()
        times = sorted(start + self.rng.uniform(0, seconds) for _ in range(round(rate * seconds)))
        for due in times:
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            self.rec.launch_lag.append((due, time.perf_counter() - due))
            self.arrive()
        await asyncio.sleep(max(0.0, start + seconds - time.perf_counter()))

    async def drain(self, seconds: float) -> int:
        """Let the chats end (each closes after its current message); how many were still running after `seconds`."""
        self.stopping = True
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=seconds)
        left = len(self.tasks)
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        return left


# Figures.

def window_figures(rec: Records, start: float, measured_from: float, end: float, now: float | None = None) -> dict:
    """A window's figures: arrivals and messages started in [measured_from, end), failures of what started in
    [start, end). With `now`, what is still awaited counts with the time it has waited so far (a lower bound)."""
    seconds = end - measured_from
    arrivals = [a for a in rec.arrivals if measured_from <= a.t0 < end]
    to_offer = [a.t_offer - a.t0 for a in arrivals if a.t_offer is not None]
    to_offer += [now - a.t0 for a in arrivals if now and a.t_offer is None and not a.failed]
    web = [m for m in rec.messages if m.kind in ("visitor", "expert") and measured_from <= m.t0 < end]
    rtts = [m.t1 - m.t0 for m in web if m.t1 is not None] + [now - m.t0 for m in web if now and m.t1 is None]
    whatsapp_in = [m.t1 - m.t0 for m in rec.messages
                   if m.kind == "whatsapp_in" and m.t1 is not None and measured_from <= m.t0 < end]
    offers_in_window = sum(1 for a in rec.arrivals if a.t_offer is not None and measured_from <= a.t_offer < end)
    relayed = sum(1 for m in rec.messages if m.t1 is not None and measured_from <= m.t1 < end)
    failures = collections.Counter(what for t0, what in rec.failures if start <= t0 < end)
    acks = {what: ms(percentile([t1 - t0 for t0, t1 in pairs if measured_from <= t0 < end], 99))
            for what, pairs in sorted(rec.acks.items())}
    lag = [lag for t, lag in rec.loop_lag if measured_from <= t < end]
    launch = [lag for t, lag in rec.launch_lag if measured_from <= t < end]
    return {
        "seconds": round(seconds, 2),
        "arrivals": len(arrivals), "whatsapp_arrivals": sum(1 for a in arrivals if a.kind == "whatsapp"),
        "arrivals_per_second": round(len(arrivals) / seconds, 2),
        "offers_per_second": round(offers_in_window / seconds, 2),
        "created_to_offer_p50_ms": ms(percentile(to_offer, 50)),
        "created_to_offer_p99_ms": ms(percentile(to_offer, 99)),
        "created_to_offer_max_ms": ms(max(to_offer, default=None)),
        "messages_per_second": round(relayed / seconds, 1),
        "rtt_p50_ms": ms(percentile(rtts, 50)), "rtt_p99_ms": ms(percentile(rtts, 99)),
        "rtt_max_ms": ms(max(rtts, default=None)), "rtt_samples": len(rtts),
        "whatsapp_in_p99_ms": ms(percentile(whatsapp_in, 99)),
        "answered_waiting": sum(1 for t in rec.waiting_at_once if measured_from <= t < end),
        "whatsapp_offered_before_message": sum(1 for t in rec.whatsapp_offered_before_message
                                               if measured_from <= t < end),
        "failures": sum(failures.values()), "failure_kinds": dict(failures.most_common(6)),
        "ack_p99_ms": acks,
        "client_loop_lag_p99_ms": ms(percentile(lag, 99)), "client_launch_lag_p99_ms": ms(percentile(launch, 99)),
    }


def verdict(figures: dict) -> list[str]:
    """Why a window misses the targets (empty: it meets them)."""
    why = []
    if figures["created_to_offer_p99_ms"] is None or figures["created_to_offer_p99_ms"] > TARGETS[
            "created_to_offer_p99_ms"]:
        why.append(f"created->offer p99 {figures['created_to_offer_p99_ms']} ms")
    if figures["rtt_p99_ms"] is not None and figures["rtt_p99_ms"] > TARGETS["rtt_p99_ms"]:
        why.append(f"round trip p99 {figures['rtt_p99_ms']} ms")
    if figures["failures"] > TARGETS["failed_requests"]:
        why.append(f"{figures['failures']} failed")
    # Offers that reached the experts in the window against arrivals sent in it (less one for the window's edges).
    offers, arrivals = figures["offers_per_second"] * figures["seconds"], figures["arrivals"]
    if offers < TARGETS["offers_per_arrival_rate"] * arrivals - 1:
        why.append(f"offers {figures['offers_per_second']}/s for {figures['arrivals_per_second']} arrivals/s")
    return why


def bottleneck(step: dict, cpus: int) -> str:
    """What ran out in a step that missed the targets, from who was busy."""
    cpu = step["cpu_cores"]
    found = []
    servers = cpu.get("servers", [])
    hot = [f"server process {i} at {c} cores" for i, c in enumerate(servers) if c >= 0.85]
    if hot:
        found.append("server CPU (" + ", ".join(hot) + ": a gevent process uses one core)")
    if cpu.get("scheduler", 0) >= 0.85:
        found.append(f"the scheduler process's CPU ({cpu['scheduler']} cores)")
    if cpu.get("postgres", 0) >= 0.6:
        found.append(f"database CPU (PostgreSQL at {cpu['postgres']} cores)")
    sessions = step.get("postgresql_sessions") or {}
    locked = sum(n for key, n in sessions.items() if "Lock/" in key)
    if locked >= 0.5:
        holding = sum(n for key, n in sessions.items() if key.startswith("idle in transaction"))
        found.append(f"row locks in PostgreSQL ({locked:.1f} sessions waiting for a lock on average, {holding:.1f} "
                     f"idle in a transaction: their process had other greenlets to run before the next statement)")
    if cpu["client"] >= 0.85:
        found.append(f"the load generator's CPU ({cpu['client']} cores: client-bound)")
    if cpu.get("machine_busy") is not None and cpu["machine_busy"] >= 0.85 * cpus:
        found.append(f"the machine's {cpus} cores ({cpu['machine_busy']} busy: servers, database, Redis and clients "
                     f"share them, and other processes took {cpu.get('others')})")
    if step["answered_waiting"]:
        found.append(f"experts' seats ({step['answered_waiting']} arrivals found no expert with room)")
    if not found:
        found.append("no CPU saturated: waits (locks, the connection pool, Redis fan-out), see the ack times")
    return "; ".join(found)


# One deployment: seed, start, log in, step up, stop.

class Deployment:
    """The processes of one deployment on one database: servers, the scheduler's (PostgreSQL), the fake Graph."""

    def __init__(self, name: str, processes: int, database: str, database_url: str, database_name: str, args,
                 workdir: Path):
        self.name = name
        self.processes = processes
        self.database = database  # sqlite | postgresql
        self.database_url = database_url
        self.database_name = database_name
        self.args = args
        self.workdir = workdir
        self.started: list[subprocess.Popen] = []
        self.servers: list[subprocess.Popen] = []
        self.logs: list[Path] = []
        self.scheduler: subprocess.Popen | None = None
        self.graph: subprocess.Popen | None = None

    def start(self, *, whatsapp: bool, embedded_scheduler: bool = True) -> list[str]:
        """Start the processes; the servers' URLs."""
        graph_port = free_port()
        env = server_env(self.database_url, WHATSAPP_GRAPH_BASE=f"http://127.0.0.1:{graph_port}/v26.0",
                         SCHEDULER_MODE="embedded" if self.database == "sqlite" else "external")
        if self.database == "postgresql":
            env["SOCKETIO_MESSAGE_QUEUE"] = self.args.redis_url
            import redis

            redis.Redis.from_url(self.args.redis_url).flushdb()
        embedded = embedded_scheduler and self.database == "sqlite"

        def one(i: int):
            return start_server(__file__, "app", "gevent", env, self.workdir, name=f"{self.name}-{i}",
                                args=["--every-job"] if embedded else [])

        with ThreadPoolExecutor(max_workers=self.processes) as pool:
            started = list(pool.map(one, range(self.processes)))
        for process, _, log_path in started:
            self.servers.append(process)
            self.logs.append(log_path)
        urls = [url for _, url, _ in started]
        self.started += self.servers
        if self.database == "postgresql":
            log_path = self.workdir / f"scheduler-{self.name}.log"
            self.scheduler = launch("scheduler", [str(Path(sys.executable).parent / "marketplace"), "scheduler"],
                                    environ(**env), log_path, lambda: "starting" in log_path.read_text())
            self.started.append(self.scheduler)
            self.logs.append(log_path)
        if whatsapp:
            log_path = self.workdir / f"graph-{self.name}.log"
            self.graph = launch("fake Graph", [sys.executable, str(Path(__file__).resolve()), "--serve", "graph",
                                               "--port", str(graph_port), "--webhook", f"{urls[0]}/webhooks/whatsapp"],
                                environ(), log_path, lambda: "serving" in log_path.read_text())
            self.started.append(self.graph)
            self.logs.append(log_path)
        return urls

    def meter(self) -> CpuMeter:
        roles = {"servers": [p.pid for p in self.servers]}
        if self.scheduler:
            roles["scheduler"] = [self.scheduler.pid]
        if self.graph:
            roles["fake_graph"] = [self.graph.pid]
        named = ({"postgres": ("postgres", self.database_name), "redis": ("redis-server", "")}
                 if self.database == "postgresql" else {})
        return CpuMeter(roles, named)

    def stop(self) -> dict:
        for process in reversed(self.started):
            stop(process)
        if self.args.logs:  # kept for reading: the work folder goes at the end
            folder = Path(self.args.logs)
            folder.mkdir(parents=True, exist_ok=True)
            for path in self.logs:
                shutil.copy(path, folder / path.name)
        return server_log_problems(self.logs)


async def quiet(meter: CpuMeter, most_seconds: float, below: float) -> tuple[float, float]:
    """Wait until the rest of the machine (not this deployment, its database or this client) takes fewer than
    `below` cores over 2 s, for at most `most_seconds`; (the cores it took last, the seconds waited)."""
    started = time.perf_counter()
    while True:
        before = meter.snapshot()
        await asyncio.sleep(2)
        others = CpuMeter.cores(before, meter.snapshot()).get("others", 0.0)
        if others < below or time.perf_counter() - started >= most_seconds:
            return others, round(time.perf_counter() - started, 1)


async def hold_step(load: Load, meter: CpuMeter, rate: float, seconds: float, args, name: str,
                    waits: WaitSampler | None, step: dict | None = None) -> tuple[dict, list[str]]:
    """Arrivals at `rate` for `seconds`: a new step (warm-up included in `seconds`), or more of `step`, whose window
    then spans both holds; the step and why it misses the targets so far (what is still awaited counts)."""
    if step is None:
        start = time.perf_counter()
        step = {"offered_arrivals_per_second": rate, "_window": (start, start + args.warmup, start),
                "_before": meter.snapshot()}
    await load.pace(rate, seconds)
    after = meter.snapshot()
    start, measured_from, _ = step["_window"]
    step.update({"_window": (start, measured_from, after["at"]), "cpu_cores": CpuMeter.cores(step["_before"], after),
                 "open_chats_at_end": load.open_chats, "visitor_sockets_at_end": load.visitor_sockets})
    if waits is not None:
        step["postgresql_sessions"] = waits.summary(measured_from, after["at"])
    await asyncio.sleep(min(1.0, ACK_TIMEOUT))  # what started last has had the time to pass the 250 ms target
    provisional = window_figures(load.rec, *step["_window"], now=time.perf_counter())
    why = verdict(provisional)
    log(f"    [{name}] {rate:>6g}/s{' (held twice)' if step.get('held_twice') else ''}: offer p99 "
        f"{provisional['created_to_offer_p99_ms']} ms, rtt p99 {provisional['rtt_p99_ms']} ms, "
        f"{provisional['messages_per_second']} msg/s, failures {provisional['failures']}, cpu {step['cpu_cores']}"
        + (f"  -> misses: {', '.join(why)}" if why else "")
        + (f"\n        PostgreSQL sessions: {step['postgresql_sessions']}" if waits is not None else ""))
    return step, why


async def step_up(load: Load, meter: CpuMeter, args, name: str, waits: WaitSampler | None) -> list[dict]:
    """Steps of rising arrival rate until one misses the targets (figures then read again once all ended).

    At the knee's rates a step holds few arrivals, so its p99 is nearly its slowest one: a step that misses is held
    for `--hold` more and judged on both holds together (`held_twice`). The machine may be shared: a step that
    misses while other processes took more than `--noisy` cores is held again from the start (once per deployment)
    when they are quiet; the first attempt stays in the list, marked `superseded`."""
    steps: list[dict] = []
    retries = 1
    rates = list(args.rates)
    while rates:
        step, why = await hold_step(load, meter, rates[0], args.warmup + args.hold, args, name, waits)
        others = step["cpu_cores"].get("others", 0.0)
        if why and others <= args.noisy:
            step["held_twice"] = True
            step, why = await hold_step(load, meter, rates[0], args.hold, args, name, waits, step)
            others = step["cpu_cores"].get("others", 0.0)
        del step["_before"]
        steps.append(step)
        if why and others > args.noisy and retries:
            retries -= 1
            step["superseded"] = f"other processes took {others} cores: held again once they were quiet"
            others, waited = await quiet(meter, args.quiet_wait, args.noisy)
            log(f"    [{name}] other processes took {step['cpu_cores']['others']} cores: the step is held again "
                f"(waited {waited} s for a quiet machine; others now at {others} cores)")
            continue
        if why:
            break
        rates.pop(0)
    return steps


def run_deployment(name: str, processes: int, database: str, databases: Databases, args, workdir: Path) -> dict:
    data, database_url, database_name = databases.copy(database, name)
    log(f"[{name}] {processes} gevent process(es), {database}"
        + (", scheduler embedded" if database == "sqlite" else ", Redis message queue, `marketplace scheduler`"))
    t0 = time.perf_counter()
    deployment = Deployment(name, processes, database, database_url, database_name, args, workdir)
    report: dict = {"processes": processes, "database": database,
                    "scheduler": "embedded in the server process" if database == "sqlite" else
                    "`marketplace scheduler`, its own process",
                    "socketio_message_queue": "redis" if database == "postgresql" else None,
                    "schema_revision": data["schema_revision"]}
    waits = WaitSampler(args.pg_admin_url, database_name) if database == "postgresql" else None
    try:
        urls = deployment.start(whatsapp=args.whatsapp_share > 0)
        meter = deployment.meter()
        if waits is not None:
            waits.start()

        async def run() -> tuple[Load, list[dict], int]:
            load = Load(urls, data, args, whatsapp_share=args.whatsapp_share, seed=args.seed)
            await load.start()
            log(f"    {len(load.experts)} expert sockets ({load.welcomed} welcomed)")
            others, waited = await quiet(meter, args.quiet_wait, args.noisy)
            report["others_cores_at_start"], report["waited_for_quiet_seconds"] = others, waited
            if waited > 2:
                log(f"    waited {waited} s for other processes to quieten (now {others} cores)")
            try:
                steps = await step_up(load, meter, args, name, waits)
                left = await load.drain(args.drain)
            finally:
                await load.close()
            return load, steps, left

        load, steps, left = asyncio.run(run())
    finally:
        if waits is not None:
            waits.done.set()
        problems = deployment.stop()
    for step in steps:
        window = step.pop("_window")
        figures = window_figures(load.rec, *window)
        step.update(figures)
        # What a chat costs the deployment's processes, whoever else ran on the machine.
        cpu = step["cpu_cores"]
        step["server_cpu_ms_per_chat"] = round(1000 * (sum(cpu["servers"]) + cpu.get("scheduler", 0.0))
                                               / step["offered_arrivals_per_second"], 1)
        # The clients share this one process: near a core, or its loop late, they set the pace, not the servers.
        step["client_bound"] = cpu["client"] >= 0.75 or (figures["client_loop_lag_p99_ms"] or 0) > 50
        step["misses"] = verdict(figures)
        step["passed"] = not step["misses"]
    knee = None
    counted = [step for step in steps if "superseded" not in step]
    for step in counted:
        if not step["passed"]:
            break
        knee = step
    failing = next((step for step in counted if not step["passed"]), None)
    report.update({
        "knee": None if knee is None else {
            "arrivals_per_second": knee["offered_arrivals_per_second"],
            "messages_per_second": knee["messages_per_second"],
            "created_to_offer_p99_ms": knee["created_to_offer_p99_ms"], "rtt_p99_ms": knee["rtt_p99_ms"],
            "open_chats": knee["open_chats_at_end"], "server_cpu_cores": knee["cpu_cores"].get("servers"),
            "server_cpu_ms_per_chat": knee["server_cpu_ms_per_chat"]},
        "first_step_missed": None if failing is None else {
            "arrivals_per_second": failing["offered_arrivals_per_second"], "misses": failing["misses"]},
        "bottleneck": bottleneck(failing, os.cpu_count() or 1) if failing else
        f"none within the steps (up to {args.rates[-1]:g} arrivals/s)",
        "steps": steps, "chats_cut_at_the_end": left, "server_logs": problems,
        "seconds": round(time.perf_counter() - t0, 1),
    })
    log(f"    knee {report['knee']}; bottleneck: {report['bottleneck']}; server logs: {problems['tracebacks']} "
        f"tracebacks, {problems['error_lines']} error lines")
    return report


# Resource figures: memory per connected expert and visitor, and the most sockets one process holds.

async def idle_visitor(load: Load, url: str, auth: dict, connected: asyncio.Future, clients: list) -> None:
    """A visitor in a quiet chat: connected, asking `status` every STATUS_SECONDS as the widget does."""
    client = await load.visitor_socket(url, auth)
    connected.set_result(client)
    if client is None:
        return
    clients.append(client)
    await asyncio.sleep(load.rng.uniform(0, STATUS_SECONDS))
    while True:
        await load.ask(client, "status", {}, "/visitor")
        await asyncio.sleep(STATUS_SECONDS)


async def measure_resources(load: Load, pid: int, meter: CpuMeter, idle: IdleChats, args) -> dict:
    """Memory before and after the experts connect; then idle visitors in batches, with a small paced load, until
    a batch's window misses the targets or the last of `--socket-steps` is connected."""
    loop = asyncio.get_running_loop()
    url = load.urls[0]
    # A fifth of the experts first, so the first connections' one-off costs (imports, caches) are not counted.
    await load.start(experts=len(load.cookies) // 5)
    await asyncio.sleep(2)
    first_experts, rss_start = len(load.experts), rss_kb(pid)
    await load.connect_experts(len(load.cookies))
    await asyncio.sleep(2)
    rss_experts = rss_kb(pid)
    experts = len(load.experts)
    log(f"    {first_experts} then {experts} experts connected: RSS {rss_start / 1024:.0f} -> "
        f"{rss_experts / 1024:.0f} MB")
    others, waited = await quiet(meter, args.quiet_wait, args.noisy)
    if waited > 2:
        log(f"    waited {waited} s for other processes to quieten (now {others} cores)")
    pacing = asyncio.create_task(load.pace(args.resource_rate, 10_000))
    await asyncio.sleep(3)
    rss_before_visitors = rss_kb(pid)
    batches: list[dict] = []
    clients: list = []
    tasks: list[asyncio.Task] = []
    gate = asyncio.Semaphore(50)

    async def connect(auth: dict) -> None:
        async with gate:
            connected = loop.create_future()
            tasks.append(asyncio.create_task(idle_visitor(load, url, auth, connected, clients)))
            await connected

    held = None
    retries = 1
    totals = list(args.socket_steps)
    try:
        while totals:
            t0 = time.perf_counter()
            await asyncio.gather(*(connect(auth) for auth in idle.add(max(0, totals[0] - len(tasks)))))
            connect_seconds = time.perf_counter() - t0
            await asyncio.sleep(2)
            before = meter.snapshot()
            await asyncio.sleep(args.batch_seconds)
            after = meter.snapshot()
            a, b = before["at"], after["at"]
            cpu = CpuMeter.cores(before, after)
            figures = window_figures(load.rec, a, a, b, now=b)
            entry = {"idle_visitors": len(clients), "sockets": experts + load.visitor_sockets,
                     "rss_mb": round(rss_kb(pid) / 1024, 1), "connect_seconds": round(connect_seconds, 1),
                     "created_to_offer_p99_ms": figures["created_to_offer_p99_ms"],
                     "rtt_p99_ms": figures["rtt_p99_ms"], "failures": figures["failures"],
                     "failure_kinds": figures["failure_kinds"], "ack_p99_ms": figures["ack_p99_ms"],
                     "server_cpu_cores": cpu["servers"][0], "client_cpu_cores": cpu["client"],
                     "other_processes_cores": cpu.get("others"), "misses": verdict(figures)}
            batches.append(entry)
            others = entry["other_processes_cores"] or 0.0
            if entry["misses"] and others > args.noisy and retries:
                retries -= 1
                entry["superseded"] = f"other processes took {others} cores: held again once they were quiet"
                others, waited = await quiet(meter, args.quiet_wait, args.noisy)
                log(f"    {entry['idle_visitors']} idle visitors missed while other processes took "
                    f"{entry['other_processes_cores']} cores: held again (waited {waited} s; others now {others})")
                continue
            log(f"    {entry['idle_visitors']} idle visitors ({entry['sockets']} sockets): RSS {entry['rss_mb']} MB, "
                f"offer p99 {entry['created_to_offer_p99_ms']} ms, rtt p99 {entry['rtt_p99_ms']} ms, failures "
                f"{entry['failures']}, server CPU {entry['server_cpu_cores']}, client CPU {entry['client_cpu_cores']}, "
                f"others {entry['other_processes_cores']}"
                + (f" -> misses: {', '.join(entry['misses'])}" if entry["misses"] else ""))
            if entry["misses"]:
                break
            held = entry
            totals.pop(0)
    finally:
        pacing.cancel()
        await asyncio.gather(pacing, return_exceptions=True)
        await load.drain(5)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*(client.disconnect() for client in clients), return_exceptions=True)
        await load.close()
    counted = [entry for entry in batches if "superseded" not in entry]
    last = counted[-1] if counted else None
    return {
        "experts": experts, "paced_arrivals_per_second": args.resource_rate,
        "rss_mb": {f"with_{first_experts}_experts": round(rss_start / 1024, 1),
                   f"with_{experts}_experts": round(rss_experts / 1024, 1),
                   "paced_load_running": round(rss_before_visitors / 1024, 1),
                   "after_idle_visitors": last["rss_mb"] if last else None},
        "kb_per_expert": round((rss_experts - rss_start) / (experts - first_experts), 1)
        if experts > first_experts else None,
        "kb_per_visitor": round((last["rss_mb"] * 1024 - rss_before_visitors) / last["idle_visitors"], 1)
        if last and last["idle_visitors"] else None,
        "most_sockets_with_targets": held["sockets"] if held else None,
        "stopped_by": "the last of --socket-steps" if held is not None and held is last else
        ("the targets" if last else "nothing measured"),
        "batches": batches,
    }


def run_resources(databases: Databases, args, workdir: Path) -> dict:
    """One process as `sqlite_1` serves it, for the memory and socket figures."""
    data, database_url, database_name = databases.copy("sqlite", "resources")
    log(f"[resources] one gevent process, SQLite, scheduler embedded; idle visitors up to "
        f"{', '.join(map(str, args.socket_steps))}, with {args.resource_rate:g} arrivals/s")
    t0 = time.perf_counter()
    idle = IdleChats(database_url)
    deployment = Deployment("resources", 1, "sqlite", database_url, database_name, args, workdir)
    try:
        urls = deployment.start(whatsapp=False)
        load = Load(urls, data, args, whatsapp_share=0.0, seed=args.seed + 1)
        report = asyncio.run(measure_resources(load, deployment.servers[0].pid, deployment.meter(), idle, args))
    finally:
        idle.close()
        report_logs = deployment.stop()
    report["server_logs"] = report_logs
    report["file_descriptor_limit"] = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    report["seconds"] = round(time.perf_counter() - t0, 1)
    log(f"    {report['kb_per_expert']} KB per expert, {report['kb_per_visitor']} KB per visitor, most sockets with "
        f"the targets {report['most_sockets_with_targets']} (stopped by {report['stopped_by']})")
    return report


DEPLOYMENTS = {"sqlite_1": (1, "sqlite"), "postgresql_redis_1": (1, "postgresql"),
               "postgresql_redis_2": (2, "postgresql"), "postgresql_redis_4": (4, "postgresql")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout, progress on stderr")
    parser.add_argument("--quick", action="store_true", help="fewer experts, shorter steps (about 5 minutes)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    parser.add_argument("--deployments", default=",".join(DEPLOYMENTS),
                        help=f"which, comma-separated, of {', '.join(DEPLOYMENTS)} [all]")
    parser.add_argument("--no-resources", action="store_true", help="leave out the memory and socket figures")
    parser.add_argument("--experts", type=int, help="experts online, each with a socket [200, quick 100]")
    parser.add_argument("--brands", type=int, default=4, help="brands, each expert approved for one [4]")
    parser.add_argument("--concurrency", type=int, default=4, help="chats at once per expert [4]")
    parser.add_argument("--rates", help="arrivals per second of the steps, comma-separated "
                        "[2,4,6,8,12,16,24,32,48,64; quick 2,4,8,16,32]")
    parser.add_argument("--warmup", type=float, help="unmeasured seconds at the start of each step [3, quick 2]")
    parser.add_argument("--hold", type=float, help="measured seconds of each step [15, quick 6]")
    parser.add_argument("--drain", type=float, default=20.0,
                        help="seconds the chats have to end after the last step (each closes after its current "
                             "message) [20]")
    parser.add_argument("--time-scale", type=float, default=60.0,
                        help="the demo's chat times are divided by this (60: a 7-minute chat lasts 7 s) [60]")
    parser.add_argument("--whatsapp-share", type=float, default=0.1,
                        help="share of arrivals that are WhatsApp customers (signed webhooks; 0: none) [0.1]")
    parser.add_argument("--seed", type=int, default=22, help="random seed of the load [22]")
    parser.add_argument("--noisy", type=float, default=0.5,
                        help="cores other processes may take before a deployment starts, and during a step that "
                             "missed before it is held again (once) [0.5]")
    parser.add_argument("--quiet-wait", type=float,
                        help="most seconds to wait for the machine's other processes to go under --noisy [20, "
                             "quick 5]")
    parser.add_argument("--socket-steps", help="idle visitors connected to one process, in total, at each step, "
                        "comma-separated [250,500,1000,1500,2000,3000,4000,5000; quick up to 2000]")
    parser.add_argument("--batch-seconds", type=float, help="measured seconds after each batch [8, quick 4]")
    parser.add_argument("--resource-rate", type=float, default=2.0,
                        help="arrivals per second of the paced load while idle visitors connect [2]")
    parser.add_argument("--logs", help="a folder to copy the servers', the scheduler's and the fake Graph's logs to")
    parser.add_argument("--pg-admin-url", default=PG_ADMIN_URL, help="server to create scratch databases on")
    parser.add_argument("--redis-url", default=REDIS_URL, help="Socket.IO message queue; flushed before each run "
                        f"[{REDIS_URL}]")
    parser.add_argument("--serve", choices=["app", "graph"], help=argparse.SUPPRESS)
    parser.add_argument("--async-mode", default="gevent", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--every-job", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--webhook", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.serve == "app":
        serve_app(args.async_mode, args.port, every_job=args.every_job)
        return
    if args.serve == "graph":
        serve_graph(args.port, args.webhook)
        return

    benchlib.VERBOSE = not args.quiet
    quick = args.quick
    args.experts = args.experts or (100 if quick else 200)
    args.rates = [float(r) for r in (args.rates or ("2,4,8,16,32" if quick else "2,4,6,8,12,16,24,32,48,64"))
                  .split(",")]
    args.warmup = args.warmup if args.warmup is not None else (2.0 if quick else 3.0)
    args.hold = args.hold or (6.0 if quick else 15.0)
    args.socket_steps = [int(n) for n in (args.socket_steps or ("250,500,1000,1500,2000" if quick else
                                                                 "250,500,1000,1500,2000,3000,4000,5000")).split(",")]
    args.quiet_wait = args.quiet_wait if args.quiet_wait is not None else (5.0 if quick else 20.0)
    args.batch_seconds = args.batch_seconds or (4.0 if quick else 8.0)
    chosen = [name for name in args.deployments.split(",") if name]
    if not set(chosen) <= set(DEPLOYMENTS):
        parser.error(f"--deployments takes {', '.join(DEPLOYMENTS)}")
    # Every socket is a file descriptor, here and in the servers (which inherit the limit).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, 4 * max(args.socket_steps) + 2048))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))

    started = time.perf_counter()
    report: dict = {
        "benchmark": "load", "quick": quick,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "memory_mb": os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2**20,
                    "load_average_at_start": [round(x, 2) for x in os.getloadavg()]},
        "targets": {**TARGETS, "note": "a step passes when p99s are at most these, nothing failed, and offers reached "
                                       "the experts at 95 % of the arrival rate; the knee is the last step passed"},
        "load": {"experts": args.experts, "brands": args.brands, "concurrency": args.concurrency,
                 "seats": args.experts * args.concurrency, "rates": args.rates, "warmup_seconds": args.warmup,
                 "hold_seconds": args.hold, "time_scale": args.time_scale, "whatsapp_share": args.whatsapp_share,
                 "chat_shape": {"accept_mean_s": ACCEPT_MEAN_S, "handle_s": f"{HANDLE_MIN_S:g} + exp(mean "
                                f"{HANDLE_EXTRA_MEAN_S:g})", "first_reply_s": FIRST_REPLY_S,
                                "seconds_per_message": SECONDS_PER_MESSAGE, "rated_share": RATED_SHARE,
                                "source": "marketplace/demo.py _seed_history, divided by time_scale"},
                 "clients": "one process: python-socketio AsyncClient and aiohttp, round-robin over the processes"},
        "deployments": {},
    }
    with tempfile.TemporaryDirectory(prefix="mk-bench-load-") as folder:
        workdir = Path(folder)
        databases = Databases(args, workdir)
        try:
            for name in chosen:
                processes, database = DEPLOYMENTS[name]
                try:
                    report["deployments"][name] = run_deployment(name, processes, database, databases, args, workdir)
                except Exception as error:  # noqa: BLE001 - a deployment that cannot run is reported, the rest go on
                    log(f"    {name} did not run: {type(error).__name__}: {error}")
                    report["deployments"][name] = {"error": f"{type(error).__name__}: {str(error)[:500]}"}
            if not args.no_resources:
                report["resources"] = run_resources(databases, args, workdir)
        finally:
            databases.drop()
    report["knees"] = {name: result.get("knee") for name, result in report["deployments"].items()}
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, indent=2), file=sys.stdout if args.json else sys.stderr)


if __name__ == "__main__":
    main()
