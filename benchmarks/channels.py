#!/usr/bin/env python
"""Messaging-app benchmark (issue 19): inbound WhatsApp messages per second, signed webhook to the expert's socket.

Run from the project root with the project's virtualenv (the bench extras: gevent, aiohttp):

    python benchmarks/channels.py --json          # one JSON object on stdout, progress on stderr
    python benchmarks/channels.py --quick --json  # shorter runs

A brand with a connected WhatsApp number (its app secret known to this script, as Meta knows it) and `--customers`
customers, each in an accepted conversation with their own expert (one per expert, made through the app's own
webhook path and router before the server starts). Each expert's phone is a Socket.IO client logged in through the
login form. A customer's message is a webhook as Meta posts it: one message per delivery, Meta's JSON, signed
`X-Hub-Signature-256` with the app secret. A message's time is from the start of its first POST until the holding
expert's socket receives the `message` event the app emits for it, matched by the client id the app derives from the
`wamid`.

Loads, on the app served by ONE process (gevent pywsgi, monkey-patched, as one `gunicorn -k gevent -w 1` worker
would; else Werkzeug threaded):

- paced: `--rate` messages per second (80: Meta's default per-number throughput) for `--seconds`, whatever the
  answers. Meta retries a delivery it did not see answered: every `--retry-every`-th message is delivered twice,
  alternately at the same moment as the first (a race on the same `wamid`) and `--retry-delay` seconds later. The
  figures: messages per second reached the experts, the slowest whole second of the window, times p50 / p90 / p99,
  messages the experts' sockets received more than once, and after the run the same counted in the database;
- closed loop: every customer writes their next message as soon as the previous one reached the expert: the most
  the one process takes in.

Baseline in the same run: a bare python-socketio server in the same async mode with the same webhook route that
checks the signature, parses the body, drops a `wamid` it has seen and emits to the expert's room, no database.
Figures are medians / percentiles and ratios, never pass or fail; the issue's target is printed beside them.
"""

import sys

if __name__ == "__main__" and "--serve" in sys.argv and "gevent" in sys.argv:
    # The server subprocess in gevent mode: patch before anything imports socket, threading or time.
    from gevent import monkey

    monkey.patch_all()

import argparse  # noqa: E402
import asyncio  # noqa: E402
import collections  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import benchlib  # noqa: E402
from benchlib import (  # noqa: E402
    PASSWORD,
    SECRET,
    connect_socket,
    cpu_seconds,
    log,
    log_in_all,
    ms,
    percentile,
    ratio,
    serve_app,
    serve_wsgi,
    start_server,
    stop,
)

PHONE_NUMBER_ID = "106540352299990"
APP_SECRET = "bench0app0secret0signs0webhooks0"  # noqa: S105 - a scratch account's
BODY = "Bonjour ! La lampe Arc existe-t-elle en noir mat, et livrez-vous à Lyon avant samedi ?"
TARGET = {"messages_per_second": 80, "p99_ms": 1000, "duplicates": 0}


def customer_number(index: int) -> str:
    return f"3361{index:07d}"


def the_number():
    """The brand's number as Meta's webhooks name it (the fake Graph's description of one, tests/fake_graph)."""
    from tests.fake_graph.state import WhatsAppNumber

    return WhatsAppNumber(phone_number_id=PHONE_NUMBER_ID, access_token="bench-access-token",  # noqa: S106
                          app_secret=APP_SECRET, verify_token="bench-verify-token",  # noqa: S106
                          display_phone_number="15550199990", waba_id="102290129340398")


def delivery(number, customer: str, wamid: str, text: str = BODY) -> tuple[bytes, dict[str, str]]:
    """One customer's text message as Meta posts it: the raw body and its headers, signed."""
    from marketplace.routing.channels.signatures import SIGNATURE_HEADER, sign
    from tests.fake_graph import bodies

    message = bodies.whatsapp_message(customer, wamid, int(time.time()), "text", {"body": text})
    raw = json.dumps(bodies.whatsapp_inbound(number, message, f"Client {customer[-4:]}")).encode()
    return raw, {"Content-Type": "application/json", SIGNATURE_HEADER: sign(APP_SECRET, raw)}


def client_id(wamid: str) -> str:
    """The client id the app stores (and emits) a WhatsApp message under."""
    from marketplace.routing.channels.inbound import client_id_for
    from marketplace.routing.models import Channel

    return client_id_for(Channel.WHATSAPP, wamid)


# The servers (subprocesses of this script: `--serve app|bare`).

def serve_bare(mode: str, port: int, routes_path: str) -> None:
    """The baseline: the same webhook route, signature checked, body parsed, a `wamid` seen before dropped, the
    message emitted to the expert's room; nothing stored."""
    import socketio

    from marketplace.routing.channels.signatures import verify_signature

    routes: dict[str, int] = json.loads(Path(routes_path).read_text())  # customer -> expert's user id
    seen: set[str] = set()
    sio = socketio.Server(async_mode=mode)

    @sio.on("connect")
    def expert_connect(sid, environ, auth):
        sio.enter_room(sid, f"user:{int(auth['user_id'])}")
        sio.emit("welcome", {"user_id": auth["user_id"]}, to=sid)

    def webhook(environ, start_response):
        raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        if environ["PATH_INFO"] != "/webhooks/whatsapp" or \
                not verify_signature(APP_SECRET, raw, environ.get("HTTP_X_HUB_SIGNATURE_256")):
            start_response("403 Forbidden", [("Content-Type", "text/plain")])
            return [b""]
        for entry in json.loads(raw)["entry"]:
            for change in entry["changes"]:
                for message in change["value"].get("messages", []):
                    key = client_id(message["id"])
                    if key in seen:
                        continue
                    seen.add(key)
                    sio.emit("message", {"client_id": key, "sender": "visitor", "body": message["text"]["body"]},
                             to=f"user:{routes[message['from']]}")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    print(f"serving the bare webhook relay ({mode}) on {port}", flush=True)
    serve_wsgi(mode, port, socketio.WSGIApp(sio, webhook))


# The app's data: customers in accepted conversations, one expert each, through the app's own services.

def seed(database_url: str, customers: int) -> dict:
    import sqlalchemy as sa

    from marketplace.accounts.models import Role, User
    from marketplace.accounts.passwords import hash_password
    from marketplace.brands.models import BrandMembership, BrandRole
    from marketplace.database import db
    from marketplace.routing.channels import connections, inbound
    from marketplace.routing.models import Channel, Conversation, Offer, OfferStatus
    from marketplace.routing.router import offers as router

    bench = benchlib.load_bench("routing")
    app = bench.make_app(database_url)
    revision = benchlib.migrate(app)
    number = the_number()
    with app.app_context():
        seeded = bench.seed(1, customers, 0, concurrency=1, password_hash=hash_password(PASSWORD), email_tag="wa")
        brand_id = seeded["brand_ids"][0]
        admin = User(email=f"admin-{brand_id}@bench.example.com", full_name="Bench admin", role=Role.BRAND,
                     password_hash="!")  # noqa: S106 - matches no password
        db.session.add(admin)
        db.session.flush()
        db.session.add(BrandMembership(brand_id=brand_id, user_id=admin.id, role=BrandRole.ADMIN))
        db.session.commit()
        connections.connect_channel(admin, brand_id, {
            "kind": "whatsapp", "phone_number_id": number.phone_number_id, "access_token": number.access_token,
            "app_secret": number.app_secret, "verify_token": number.verify_token})
        user_of = dict(zip(seeded["expert_ids"], seeded["user_ids"], strict=True))
        routes = {}
        for index in range(customers):
            customer = customer_number(index)
            raw, headers = delivery(number, customer, f"wamid.seed-{index}", "Bonjour !")
            taken = inbound.receive(Channel.WHATSAPP, raw, headers["X-Hub-Signature-256"])
            if taken.messages != 1:
                raise RuntimeError("a seeding message was not stored: the seeding is wrong")
            offer = db.session.scalar(
                sa.select(Offer).join(Conversation, Conversation.id == Offer.conversation_id)
                .where(Conversation.channel_customer == customer, Offer.status == OfferStatus.PENDING))
            if offer is None:
                raise RuntimeError("a customer's conversation found no expert: the seeding is wrong")
            router.accept_offer(offer.expert_id, offer.id)
            routes[customer] = user_of[offer.expert_id]
        if len(set(routes.values())) != customers:
            raise RuntimeError("two customers share an expert: the seeding is wrong")
        db.session.remove()
        db.engine.dispose()
    return {"emails": seeded["emails"], "user_ids": seeded["user_ids"], "routes": routes,
            "database_url": database_url, "schema_revision": revision}


def stored_figures(database_url: str) -> dict:
    """What the database holds of the run's messages: stored, and stored more than once (must be 0)."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            stored = connection.scalar(sa.text(
                "SELECT count(*) FROM messages WHERE sender = 'visitor' AND client_id LIKE 'wh-%'"))
            twice = connection.scalar(sa.text(
                "SELECT count(*) FROM (SELECT client_id FROM messages WHERE sender = 'visitor' "
                "AND client_id LIKE 'wh-%' GROUP BY conversation_id, client_id HAVING count(*) > 1) AS twice"))
    finally:
        engine.dispose()
    return {"visitor_messages_stored": stored, "stored_more_than_once": twice}


# The clients and the loads.

class Meta:
    """Meta's side (signed webhook deliveries over HTTP) and the experts' phones (one Socket.IO client each)."""

    def __init__(self, url: str, expert_connects: list[dict], customers: list[str]):
        self.url = url
        self.expert_connects = expert_connects
        self.customers = customers
        self.number = the_number()
        self.experts: list = []
        self.http = None
        self.welcomed = 0
        self.first_sent: dict[str, float] = {}  # client id -> the first POST's start
        self.received: dict[str, list[float]] = collections.defaultdict(list)  # client id -> socket event times
        self.waiters: dict[str, asyncio.Future] = {}
        self.answers: collections.Counter = collections.Counter()  # HTTP status (or the error) -> deliveries

    async def connect(self, parallel: int = 20) -> None:
        import aiohttp
        import socketio

        gate = asyncio.Semaphore(parallel)

        def on_message(data):
            now = time.perf_counter()
            key = data.get("client_id")
            self.received[key].append(now)
            waiter = self.waiters.pop(key, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(now)

        def on_welcome(data):
            self.welcomed += 1

        async def expert(options: dict):
            client = socketio.AsyncClient(reconnection=False)
            client.on("message", on_message)
            client.on("welcome", on_welcome)
            return await connect_socket(client, self.url, gate, **options)

        self.experts = list(await asyncio.gather(*(expert(o) for o in self.expert_connects)))
        deadline = time.monotonic() + 30
        while self.welcomed < len(self.experts) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200),
                                          timeout=aiohttp.ClientTimeout(total=30))

    async def disconnect(self) -> None:
        await asyncio.gather(*(c.disconnect() for c in self.experts), return_exceptions=True)
        if self.http is not None:
            await self.http.close()

    async def post(self, raw: bytes, headers: dict[str, str]) -> None:
        try:
            async with self.http.post(f"{self.url}/webhooks/whatsapp", data=raw, headers=headers) as answer:
                await answer.read()
                self.answers[answer.status] += 1
        except Exception as error:  # noqa: BLE001 - counted and shown: a refused connection is a figure here
            self.answers[type(error).__name__] += 1

    def write(self, customer: str, wamid: str) -> tuple[str, bytes, dict[str, str]]:
        raw, headers = delivery(self.number, customer, wamid)
        key = client_id(wamid)
        self.first_sent[key] = time.perf_counter()
        return key, raw, headers

    def _figures(self, keys: list[str], started: float, measured_from: float, ended: float, server_pid: int,
                 cpu_before: tuple[float, float]) -> dict:
        window = ended - measured_from
        firsts = {key: self.received[key][0] for key in keys if self.received.get(key)}
        in_window = [t for t in firsts.values() if measured_from <= t <= ended]
        per_second = collections.Counter(int(t - measured_from) for t in in_window if t - measured_from < int(window))
        latencies = [firsts[key] - self.first_sent[key] for key in keys
                     if key in firsts and measured_from <= self.first_sent[key] <= ended]
        total = time.perf_counter() - started
        server_cpu = cpu_seconds(server_pid) - cpu_before[0]
        return {
            "seconds_measured": round(window, 2), "messages_reached_experts": len(in_window),
            "messages_per_second": round(len(in_window) / window, 1) if window > 0 else None,
            "slowest_second": min((per_second.get(s, 0) for s in range(int(window))), default=None),
            "p50_ms": ms(percentile(latencies, 50)), "p90_ms": ms(percentile(latencies, 90)),
            "p99_ms": ms(percentile(latencies, 99)), "max_ms": ms(max(latencies) if latencies else None),
            "not_reached": sum(1 for key in keys if key not in firsts),
            "received_more_than_once": sum(1 for key in keys if len(self.received.get(key, ())) > 1),
            "webhook_answers": {str(status): n for status, n in sorted(self.answers.items(), key=str)},
            "server_cpu_cores": round(server_cpu / total, 2),
            "client_cpu_cores": round((time.process_time() - cpu_before[1]) / total, 2),
            "server_cpu_ms_per_message": round(1000 * server_cpu / len(firsts), 3) if firsts else None,
        }

    async def paced(self, tag: str, rate: float, warmup: float, seconds: float, retry_every: int,
                    retry_delay: float, server_pid: int) -> dict:
        """`rate` messages a second, customers in turn, whatever the answers; every `retry_every`-th delivered twice."""
        self.answers.clear()
        cpu_before = (cpu_seconds(server_pid), time.process_time())
        started = time.perf_counter()
        measured_from, stop_at = started + warmup, started + warmup + seconds
        tasks: set[asyncio.Task] = set()
        keys: list[str] = []
        retried = {"at_once": 0, "later": 0}

        def launch(coroutine) -> None:
            task = asyncio.create_task(coroutine)
            tasks.add(task)
            task.add_done_callback(tasks.discard)

        async def later(raw: bytes, headers: dict[str, str]) -> None:
            await asyncio.sleep(retry_delay)
            await self.post(raw, headers)

        k = 0
        while (due := started + k / rate) < stop_at:
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            key, raw, headers = self.write(self.customers[k % len(self.customers)], f"wamid.{tag}-{k}")
            keys.append(key)
            launch(self.post(raw, headers))
            if retry_every and k % retry_every == retry_every - 1:
                at_once = (k // retry_every) % 2 == 0
                launch(self.post(raw, headers) if at_once else later(raw, headers))
                retried["at_once" if at_once else "later"] += 1
            k += 1
        deadline = time.perf_counter() + retry_delay + 15
        while (tasks or any(not self.received.get(key) for key in keys)) and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # a duplicate event would come right after the first: leave it the time to
        return {"load": f"paced, {rate:g} messages/s", "offered_rate": rate, "sent": k, "redelivered": retried,
                **self._figures(keys, started, measured_from, stop_at, server_pid, cpu_before)}

    async def closed_loop(self, tag: str, warmup: float, seconds: float, server_pid: int) -> dict:
        """Each customer writes their next message when the previous one reached the expert."""
        loop = asyncio.get_running_loop()
        self.answers.clear()
        cpu_before = (cpu_seconds(server_pid), time.process_time())
        started = time.perf_counter()
        measured_from, stop_at = started + warmup, started + warmup + seconds
        keys: list[str] = []

        async def customer(index: int) -> None:
            k = 0
            while time.perf_counter() < stop_at:
                waiter = loop.create_future()
                key, raw, headers = self.write(self.customers[index], f"wamid.{tag}-{index}-{k}")
                self.waiters[key] = waiter
                keys.append(key)
                k += 1
                await self.post(raw, headers)
                try:
                    await asyncio.wait_for(waiter, timeout=10)
                except TimeoutError:
                    self.waiters.pop(key, None)

        await asyncio.gather(*(customer(i) for i in range(len(self.customers))))
        return {"load": f"closed loop, {len(self.customers)} customers, one message in flight each",
                **self._figures(keys, started, measured_from, stop_at, server_pid, cpu_before)}


async def run_loads(args, meta: Meta, tag: str, server_pid: int) -> dict:
    t0 = time.perf_counter()
    await meta.connect()
    log(f"    {len(meta.experts)} expert sockets connected ({meta.welcomed} welcomed) in "
        f"{time.perf_counter() - t0:.1f} s")
    try:
        paced = await meta.paced(f"{tag}p", args.rate, args.warmup, args.seconds, args.retry_every,
                                 args.retry_delay, server_pid)
        log(f"    paced {args.rate:g}/s: {paced['messages_per_second']} msg/s (slowest second "
            f"{paced['slowest_second']}), p50 {paced['p50_ms']} ms, p99 {paced['p99_ms']} ms, "
            f"not reached {paced['not_reached']}, received twice {paced['received_more_than_once']}, "
            f"answers {paced['webhook_answers']}")
        closed = await meta.closed_loop(f"{tag}c", args.warmup, args.closed_seconds, server_pid)
        log(f"    closed loop: {closed['messages_per_second']} msg/s, p50 {closed['p50_ms']} ms, "
            f"p99 {closed['p99_ms']} ms, server CPU {closed['server_cpu_cores']}, answers {closed['webhook_answers']}")
    finally:
        await meta.disconnect()
    return {"paced": paced, "closed_loop": closed, "load_average_at_end": round(os.getloadavg()[0], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout, progress on stderr")
    parser.add_argument("--quick", action="store_true", help="shorter runs (about a minute and a half)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    parser.add_argument("--customers", type=int, default=100, help="customers, each with their own expert [100]")
    parser.add_argument("--rate", type=float, default=80.0, help="paced load, messages per second [80]")
    parser.add_argument("--seconds", type=float, help="measured seconds of the paced load [30, quick 10]")
    parser.add_argument("--closed-seconds", type=float, help="measured seconds of the closed loop [15, quick 5]")
    parser.add_argument("--warmup", type=float, help="unmeasured seconds before each load [3, quick 1]")
    parser.add_argument("--retry-every", type=int, default=10,
                        help="every Nth message is delivered twice, as Meta retries (0: none) [10]")
    parser.add_argument("--retry-delay", type=float, default=1.0,
                        help="seconds after the first of every other second delivery (the rest race it) [1]")
    parser.add_argument("--async-mode", choices=["auto", "gevent", "threading"], default="auto",
                        help="server async mode; auto = gevent when importable [auto]")
    parser.add_argument("--database-url", help="the app's database (default: a fresh SQLite file); a scratch "
                        "PostgreSQL database given here is filled, not dropped")
    parser.add_argument("--parts", default="app,bare", help="which runs, comma-separated, of app and bare [both]")
    parser.add_argument("--serve", choices=["app", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--routes", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.serve:
        if args.serve == "app":
            serve_app(args.async_mode, args.port)
        else:
            serve_bare(args.async_mode, args.port, args.routes)
        return

    benchlib.VERBOSE = not args.quiet
    args.seconds = args.seconds or (10.0 if args.quick else 30.0)
    args.closed_seconds = args.closed_seconds or (5.0 if args.quick else 15.0)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if args.quick else 3.0)
    parts = set(args.parts.split(","))
    if not parts <= {"app", "bare"} or not parts:
        parser.error("--parts takes app and bare")
    gevent_available = importlib.util.find_spec("gevent") is not None
    mode = args.async_mode if args.async_mode != "auto" else ("gevent" if gevent_available else "threading")
    if mode == "gevent" and not gevent_available:
        parser.error("gevent is not installed (pip install -e '.[bench]')")

    started = time.perf_counter()
    report: dict = {
        "benchmark": "channels", "quick": args.quick, "parts": sorted(parts),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_average_at_start": round(os.getloadavg()[0], 2)},
        "async_mode": mode,
        "server": "one process: " + ("gevent pywsgi, monkey-patched" if mode == "gevent" else "Werkzeug, threaded"),
        "customers": args.customers, "retry_every": args.retry_every, "retry_delay_seconds": args.retry_delay,
    }
    with tempfile.TemporaryDirectory(prefix="mk-bench-channels-") as folder:
        workdir = Path(folder)
        database_url = args.database_url or f"sqlite:///{workdir / 'channels.db'}"
        report["database"] = database_url.split(":", 1)[0]
        log(f"[seed] {args.customers} experts, and as many WhatsApp customers in accepted conversations")
        t0 = time.perf_counter()
        data = seed(database_url, args.customers)
        log(f"    seeded in {time.perf_counter() - t0:.1f} s (schema {data['schema_revision']})")
        report["schema_revision"] = data["schema_revision"]
        customers = list(data["routes"])
        if "app" in parts:
            log(f"[app] {mode}, one process")
            env = {"SECRET_KEY": SECRET, "MARKETPLACE_ENV": "development", "SCHEDULER_MODE": "off",
                   "RATELIMIT_ENABLED": "false", "DATABASE_URL": database_url, "CHANNEL_DELIVERY": "off"}
            process, url, log_path = start_server(__file__, "app", mode, env, workdir)
            try:
                cookies = log_in_all(url, data["emails"])
                log(f"    {len(cookies)} experts logged in through the form")
                meta = Meta(url, [{"headers": {"Cookie": cookie}} for cookie in cookies], customers)
                report["app"] = asyncio.run(run_loads(args, meta, "a", process.pid))
            finally:
                stop(process)
            report["app"]["tracebacks_in_server_log"] = log_path.read_text().count("Traceback")
            report["app"]["database"] = stored_figures(database_url)
            log(f"    in the database: {report['app']['database']}")
        if "bare" in parts:
            log(f"[bare] python-socketio with the same webhook route, {mode}, one process")
            routes_path = workdir / "routes.json"
            routes_path.write_text(json.dumps(data["routes"]))
            process, url, log_path = start_server(__file__, "bare", mode, {}, workdir, args=["--routes",
                                                                                            str(routes_path)])
            try:
                meta = Meta(url, [{"auth": {"user_id": data["routes"][c]}} for c in customers], customers)
                report["bare"] = asyncio.run(run_loads(args, meta, "b", process.pid))
            finally:
                stop(process)
            report["bare"]["tracebacks_in_server_log"] = log_path.read_text().count("Traceback")

    if {"app", "bare"} <= parts:
        app, bare = report["app"], report["bare"]
        report["ratio_app_to_bare"] = {
            "closed_loop_messages_per_second": ratio(app["closed_loop"]["messages_per_second"],
                                                     bare["closed_loop"]["messages_per_second"]),
            "paced_p50": ratio(app["paced"]["p50_ms"], bare["paced"]["p50_ms"]),
            "paced_p99": ratio(app["paced"]["p99_ms"], bare["paced"]["p99_ms"]),
            "server_cpu_per_message": ratio(app["closed_loop"]["server_cpu_ms_per_message"],
                                            bare["closed_loop"]["server_cpu_ms_per_message"]),
        }
    if "app" in parts:
        paced = report["app"]["paced"]
        duplicates = paced["received_more_than_once"] + report["app"]["database"]["stored_more_than_once"]
        report["target"] = {**TARGET, "reached": bool(
            (paced["messages_per_second"] or 0) >= TARGET["messages_per_second"] * 0.98
            and (paced["slowest_second"] or 0) >= TARGET["messages_per_second"] * 0.9
            and paced["p99_ms"] is not None and paced["p99_ms"] <= TARGET["p99_ms"]
            and paced["not_reached"] == 0 and duplicates == 0)}
    report["machine"]["load_average_at_end"] = round(os.getloadavg()[0], 2)
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, indent=2), file=sys.stdout if args.json else sys.stderr)


if __name__ == "__main__":
    main()
