#!/usr/bin/env python
"""Real-time benchmark (DESIGN.md section 8): messages relayed per second and round trip, 200 clients.

Run from the project root with the project's virtualenv:

    python benchmarks/realtime.py --json          # one JSON object on stdout, progress on stderr
    python benchmarks/realtime.py --quick --json  # shorter runs

100 visitor/expert pairs in active conversations (200 Socket.IO clients, python-socketio's asyncio client
in this process): visitors on namespace `/visitor` with auth {key, token, conversation_id}, experts on `/`
logged in through the login form. A round trip is a visitor's `send` until the expert's client receives the
`message` event. The app is served by ONE process: gevent (pywsgi, monkey-patched, as one
`gunicorn -k gevent -w 1` worker would) when gevent is importable, else threading (reported as async_mode).

Two loads on each server: closed loop (every visitor sends its next message as soon as the previous one
reached the expert: the most the server relays) and paced (a fixed total rate spread over the visitors).
Baseline in the same run: a bare python-socketio relay server in the same async mode, same rooms, same
events, no database. Figures are medians / percentiles and ratios, never pass or fail.
"""

import sys

if __name__ == "__main__" and "--serve" in sys.argv and "gevent" in sys.argv:
    # The server subprocess in gevent mode: patch before anything imports socket, threading or time.
    from gevent import monkey

    monkey.patch_all()

import argparse  # noqa: E402
import asyncio  # noqa: E402
import datetime as dt  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import secrets  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

import benchlib  # noqa: E402
from benchlib import PASSWORD, SECRET, environ, free_port, launch, log, log_in, ms, percentile, ratio, stop  # noqa: E402

BODY = "Bonjour ! Est-ce que cette lampe existe aussi en blanc chaud, vers 2700 K ?"
# Figures.

def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# The servers (run as subprocesses of this script: `--serve app|bare`).

def serve_app(mode: str, port: int) -> None:
    os.environ["SOCKETIO_ASYNC_MODE"] = mode
    from marketplace import create_app
    from marketplace.extensions import socketio

    app = create_app()
    print(f"serving the app ({socketio.server.eio.async_mode}) on {port}", flush=True)
    extra = {"allow_unsafe_werkzeug": True} if mode == "threading" else {}
    socketio.run(app, host="127.0.0.1", port=port, use_reloader=False, log_output=False, **extra)


def serve_bare(mode: str, port: int) -> None:
    """A bare python-socketio relay: the app's rooms and events, nothing stored."""
    import socketio

    sio = socketio.Server(async_mode=mode)
    last_seq: dict[int, int] = {}

    @sio.on("connect", namespace="/visitor")
    def visitor_connect(sid, environ, auth):
        conversation_id = int(auth["conversation_id"])
        sio.save_session(sid, {"conversation_id": conversation_id, "expert_user": int(auth["expert_user"])},
                         namespace="/visitor")
        sio.enter_room(sid, f"conversation:{conversation_id}", namespace="/visitor")

    @sio.on("connect")
    def expert_connect(sid, environ, auth):
        sio.enter_room(sid, f"user:{int(auth['user_id'])}")
        sio.emit("welcome", {"user_id": auth["user_id"]}, to=sid)

    @sio.on("send", namespace="/visitor")
    def visitor_send(sid, data):
        session = sio.get_session(sid, namespace="/visitor")
        conversation_id = session["conversation_id"]
        seq = last_seq[conversation_id] = last_seq.get(conversation_id, 0) + 1
        message = {"conversation_id": conversation_id, "seq": seq, "sender": "visitor",
                   "client_id": data.get("client_id"), "body": data.get("body"),
                   "created_at": dt.datetime.now(dt.UTC).isoformat()}
        # As the app does: the sending socket has the message in its acknowledgement, not again as an event.
        sio.emit("message", message, to=f"conversation:{conversation_id}", namespace="/visitor", skip_sid=sid)
        sio.emit("message", message, to=f"user:{session['expert_user']}")
        return {"ok": True, "message": message}

    app = socketio.WSGIApp(sio)
    print(f"serving the bare relay ({mode}) on {port}", flush=True)
    if mode == "gevent":
        from gevent import pywsgi

        pywsgi.WSGIServer(("127.0.0.1", port), app, log=None).serve_forever()
    else:
        from werkzeug.serving import run_simple

        run_simple("127.0.0.1", port, app, threaded=True)


def start(kind: str, mode: str, env_extra: dict[str, str], workdir: Path) -> tuple[subprocess.Popen, str, Path]:
    port = free_port()
    command = [sys.executable, str(Path(__file__).resolve()), "--serve", kind, "--async-mode", mode,
               "--port", str(port)]
    log_path = workdir / f"server-{kind}.log"

    def serving() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return "serving" in log_path.read_text()
        except OSError:
            return False

    process = launch(f"{kind} server", command, environ(**env_extra), log_path, serving)
    return process, f"http://127.0.0.1:{port}", log_path


# The app's data: pairs in active conversations, made through the app's own services.

def load_routing_bench():
    """Reuse routing.py's app builder and bulk seeding (one folder, no package)."""
    spec = importlib.util.spec_from_file_location("bench_routing", Path(__file__).resolve().parent / "routing.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def seed_pairs(database_url: str, pairs: int) -> dict:
    import sqlalchemy as sa

    from marketplace.accounts.passwords import hash_password
    from marketplace.brands.models import Brand
    from marketplace.database import db
    from marketplace.routing.door import services as conversations
    from marketplace.routing.models import Offer, OfferStatus
    from marketplace.routing.router import offers as router

    bench = load_routing_bench()
    app = bench.make_app(database_url)
    benchlib.migrate(app)
    with app.app_context():
        seeded = bench.seed(1, pairs, 0, concurrency=1, password_hash=hash_password(PASSWORD), email_tag="rt")
        brand = db.session.get(Brand, seeded["brand_ids"][0])
        key = brand.widget_key
        db.session.commit()
        expert_index = {expert_id: i for i, expert_id in enumerate(seeded["expert_ids"])}
        visitors = []
        for _ in range(pairs):
            token = secrets.token_hex(20)
            conversation = conversations.start_conversation(key, token, page_url="https://shop.example.com/lamp")
            offer = db.session.scalar(sa.select(Offer).where(Offer.conversation_id == conversation.id,
                                                             Offer.status == OfferStatus.PENDING))
            if offer is None:
                raise RuntimeError("an arrival found no expert: the seeding is wrong")
            router.accept_offer(offer.expert_id, offer.id)
            visitors.append({"token": token, "conversation_id": conversation.id,
                             "expert": expert_index[offer.expert_id]})
        db.session.remove()
        db.engine.dispose()
    return {"key": key, "emails": seeded["emails"], "user_ids": seeded["user_ids"], "visitors": visitors}


# The clients and the loads.

class Relay:
    """The clients: experts on `/`, visitors on `/visitor`, each visitor in a conversation with one expert."""

    def __init__(self, url: str, expert_connects: list[dict], visitor_connects: list[dict]):
        self.url = url
        self.expert_connects = expert_connects
        self.visitor_connects = visitor_connects
        self.experts: list = []
        self.visitors: list = []
        self.sent: dict[str, float] = {}
        self.waiters: dict[str, asyncio.Future] = {}
        self.records: list[tuple[float, float]] = []
        self.refused = 0
        self.welcomed = 0

    async def connect(self, parallel: int = 20) -> None:
        import socketio

        gate = asyncio.Semaphore(parallel)

        def on_message(data):
            now = time.perf_counter()
            key = data.get("client_id")
            t0 = self.sent.pop(key, None)
            if t0 is not None:
                self.records.append((t0, now))
            waiter = self.waiters.pop(key, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(now)

        def on_welcome(data):
            self.welcomed += 1

        async def expert(options: dict):
            client = socketio.AsyncClient(reconnection=False)
            client.on("message", on_message)
            client.on("welcome", on_welcome)
            async with gate:
                await client.connect(self.url, transports=["websocket"], wait_timeout=30, **options)
            return client

        async def visitor(options: dict):
            client = socketio.AsyncClient(reconnection=False)
            async with gate:
                await client.connect(self.url, namespaces=["/visitor"], transports=["websocket"], wait_timeout=30,
                                     **options)
            return client

        self.experts = list(await asyncio.gather(*(expert(o) for o in self.expert_connects)))
        self.visitors = list(await asyncio.gather(*(visitor(o) for o in self.visitor_connects)))
        deadline = time.monotonic() + 30
        while self.welcomed < len(self.experts) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    async def disconnect(self) -> None:
        await asyncio.gather(*(c.disconnect() for c in self.experts + self.visitors), return_exceptions=True)

    def _ack(self, answer=None) -> None:
        if not (isinstance(answer, dict) and answer.get("ok")):
            self.refused += 1

    async def _send(self, index: int, key: str) -> None:
        self.sent[key] = time.perf_counter()
        await self.visitors[index].emit("send", {"client_id": key, "body": BODY}, namespace="/visitor",
                                        callback=self._ack)

    def _figures(self, started: float, measured_from: float, ended: float, server_pid: int,
                 cpu_before: tuple[float, float], timeouts: int) -> dict:
        window = ended - measured_from
        delivered = sum(1 for _, t1 in self.records if measured_from <= t1 <= ended)
        latencies = [t1 - t0 for t0, t1 in self.records if measured_from <= t0 <= ended]
        server_cpu = cpu_seconds(server_pid) - cpu_before[0]
        client_cpu = time.process_time() - cpu_before[1]
        total = ended - started
        return {
            "seconds_measured": round(window, 2), "messages_relayed": delivered,
            "messages_per_second": round(delivered / window, 1) if window > 0 else None,
            "rtt_p50_ms": ms(percentile(latencies, 50)), "rtt_p90_ms": ms(percentile(latencies, 90)),
            "rtt_p99_ms": ms(percentile(latencies, 99)), "rtt_max_ms": ms(max(latencies) if latencies else None),
            "refused_sends": self.refused, "timeouts": timeouts,
            "server_cpu_cores": round(server_cpu / total, 2), "client_cpu_cores": round(client_cpu / total, 2),
            # What a relayed message costs the server, warm-up included: the figure to cut, and the one least
            # moved by other work on a shared machine (a starved server relays less but spends the same CPU).
            "server_cpu_ms_per_message": round(1000 * server_cpu / len(self.records), 3) if self.records else None,
            # The clients share one Python process: near a full core, they, not the server, set the pace.
            "client_bound": client_cpu / total >= 0.75,
        }

    async def closed_loop(self, tag: str, warmup: float, seconds: float, window: int, server_pid: int) -> dict:
        """Each visitor keeps `window` messages in flight: the next goes when one reached the expert."""
        loop = asyncio.get_running_loop()
        self.records.clear()
        self.refused = 0
        timeouts = 0
        cpu_before = (cpu_seconds(server_pid), time.process_time())
        started = time.perf_counter()
        measured_from = started + warmup
        stop_at = measured_from + seconds

        async def slot(index: int, lane: int) -> None:
            nonlocal timeouts
            k = 0
            while time.perf_counter() < stop_at:
                key = f"{tag}-{index}-{lane}-{k}"
                k += 1
                waiter = loop.create_future()
                self.waiters[key] = waiter
                await self._send(index, key)
                try:
                    await asyncio.wait_for(waiter, timeout=10)
                except TimeoutError:
                    timeouts += 1
                    self.waiters.pop(key, None)

        await asyncio.gather(*(slot(i, lane) for i in range(len(self.visitors)) for lane in range(window)))
        return {"load": f"closed loop, {window} in flight per visitor",
                **self._figures(started, measured_from, stop_at, server_pid, cpu_before, timeouts)}

    async def paced(self, tag: str, rate: float, warmup: float, seconds: float, server_pid: int) -> dict:
        """A fixed total rate, visitors in turn, whatever the answers (open loop)."""
        self.records.clear()
        self.refused = 0
        cpu_before = (cpu_seconds(server_pid), time.process_time())
        started = time.perf_counter()
        measured_from = started + warmup
        stop_at = measured_from + seconds
        k = 0
        while True:
            due = started + k / rate
            if due >= stop_at:
                break
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            index = k % len(self.visitors)
            await self._send(index, f"{tag}-{index}-{k}")
            k += 1
        sent_until_stop = dict(self.sent)
        deadline = time.perf_counter() + 10
        while self.sent and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        timeouts = sum(1 for key in sent_until_stop if key in self.sent)
        self.sent.clear()
        return {"load": f"paced, {rate:g} messages/s in total", "offered_rate": rate, "sent": k,
                **self._figures(started, measured_from, stop_at, server_pid, cpu_before, timeouts)}


async def run_loads(args, relay: Relay, label: str, server_pid: int, paced_rate: float | None) -> dict:
    t0 = time.perf_counter()
    await relay.connect()
    log(f"    {len(relay.experts)} expert + {len(relay.visitors)} visitor sockets connected "
        f"({relay.welcomed} welcomed) in {time.perf_counter() - t0:.1f} s")
    try:
        closed = await relay.closed_loop(f"{label}c", args.warmup, args.seconds, args.window, server_pid)
        log(f"    closed loop: {closed['messages_per_second']} msg/s, rtt p50 {closed['rtt_p50_ms']} ms, "
            f"p99 {closed['rtt_p99_ms']} ms, server CPU {closed['server_cpu_cores']}, "
            f"client CPU {closed['client_cpu_cores']}")
        rate = paced_rate if paced_rate is not None else min(args.paced_rate,
                                                             0.7 * (closed["messages_per_second"] or 1))
        rate = max(round(rate), 1)
        paced = await relay.paced(f"{label}p", rate, args.warmup, args.seconds, server_pid)
        log(f"    paced {rate}/s: {paced['messages_per_second']} msg/s, rtt p50 {paced['rtt_p50_ms']} ms, "
            f"p99 {paced['rtt_p99_ms']} ms, timeouts {paced['timeouts']}")
    finally:
        await relay.disconnect()
    return {"closed_loop": closed, "paced": paced}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout, progress on stderr")
    parser.add_argument("--quick", action="store_true", help="shorter runs (about 40 s)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    parser.add_argument("--pairs", type=int, default=100, help="visitor/expert pairs, two clients each [100]")
    parser.add_argument("--seconds", type=float, help="measured seconds per load [15, quick 5]")
    parser.add_argument("--warmup", type=float, help="unmeasured seconds before each load [3, quick 1]")
    parser.add_argument("--window", type=int, default=1, help="messages in flight per visitor, closed loop [1]")
    parser.add_argument("--paced-rate", type=float, default=1000.0,
                        help="total messages/s of the paced load, at most 70%% of the app's closed-loop rate [1000]")
    parser.add_argument("--async-mode", choices=["auto", "gevent", "threading"], default="auto",
                        help="server async mode; auto = gevent when importable [auto]")
    parser.add_argument("--database-url", help="the app's database (default: a fresh SQLite file); a scratch "
                        "PostgreSQL database given here is filled, not dropped")
    parser.add_argument("--serve", choices=["app", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.serve:
        (serve_app if args.serve == "app" else serve_bare)(args.async_mode, args.port)
        return

    benchlib.VERBOSE = not args.quiet
    args.seconds = args.seconds or (5.0 if args.quick else 15.0)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if args.quick else 3.0)
    gevent_available = importlib.util.find_spec("gevent") is not None
    mode = args.async_mode if args.async_mode != "auto" else ("gevent" if gevent_available else "threading")
    if mode == "gevent" and not gevent_available:
        parser.error("gevent is not installed (pip install 'gevent>=24.2,<27')")

    started = time.perf_counter()
    report: dict = {
        "benchmark": "realtime", "quick": args.quick,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    # Other work on the machine starves the server: read the rates against this (1-minute).
                    "load_average_at_start": round(os.getloadavg()[0], 2)},
        "async_mode": mode, "gevent_available": gevent_available,
        "server": "one process: " + ("gevent pywsgi, monkey-patched" if mode == "gevent" else "Werkzeug, threaded"),
        "clients": 2 * args.pairs, "pairs": args.pairs, "body_characters": len(BODY),
    }
    with tempfile.TemporaryDirectory(prefix="mk-bench-realtime-") as folder:
        workdir = Path(folder)
        database_url = args.database_url or f"sqlite:///{workdir / 'realtime.db'}"
        report["database"] = database_url.split(":", 1)[0]
        log(f"[app] seeding {args.pairs} experts and {args.pairs} active conversations")
        data = seed_pairs(database_url, args.pairs)
        env = {"DATABASE_URL": database_url, "SECRET_KEY": SECRET, "MARKETPLACE_ENV": "development",
               "SCHEDULER_MODE": "off", "RATELIMIT_ENABLED": "false"}
        process, url, log_path = start("app", mode, env, workdir)
        try:
            t0 = time.perf_counter()
            with ThreadPoolExecutor(max_workers=8) as pool:
                cookies = list(pool.map(lambda email: log_in(url, email), data["emails"]))
            log(f"    {args.pairs} experts logged in through the form in {time.perf_counter() - t0:.1f} s")
            relay = Relay(
                url,
                [{"headers": {"Cookie": cookie}} for cookie in cookies],
                [{"auth": {"key": data["key"], "token": v["token"], "conversation_id": v["conversation_id"]}}
                 for v in data["visitors"]],
            )
            log(f"[app] {mode}, one process")
            report["app"] = asyncio.run(run_loads(args, relay, "a", process.pid, None))
        finally:
            stop(process)
            server_log = log_path.read_text()
        report["app"]["tracebacks_in_server_log"] = server_log.count("Traceback")

        log(f"[bare] python-socketio relay, {mode}, one process")
        process, url, log_path = start("bare", mode, {}, workdir)
        try:
            relay = Relay(
                url,
                [{"auth": {"user_id": i}} for i in range(args.pairs)],
                [{"auth": {"conversation_id": i, "expert_user": v["expert"]}} for i, v in enumerate(data["visitors"])],
            )
            report["bare_socketio"] = asyncio.run(
                run_loads(args, relay, "b", process.pid, report["app"]["paced"]["offered_rate"]))
        finally:
            stop(process)
        report["bare_socketio"]["tracebacks_in_server_log"] = log_path.read_text().count("Traceback")

    app_closed, bare_closed = report["app"]["closed_loop"], report["bare_socketio"]["closed_loop"]
    app_paced, bare_paced = report["app"]["paced"], report["bare_socketio"]["paced"]
    report["ratio_app_to_bare_messages_per_second"] = ratio(app_closed["messages_per_second"],
                                                            bare_closed["messages_per_second"])
    report["ratio_app_to_bare_rtt_p99_closed_loop"] = ratio(app_closed["rtt_p99_ms"], bare_closed["rtt_p99_ms"])
    report["ratio_app_to_bare_rtt_p99_paced"] = ratio(app_paced["rtt_p99_ms"], bare_paced["rtt_p99_ms"])
    report["ratio_app_to_bare_server_cpu_per_message"] = ratio(app_closed["server_cpu_ms_per_message"],
                                                               bare_closed["server_cpu_ms_per_message"])
    report["target"] = {"messages_per_second": 2000, "rtt_p99_ms": 150}
    if bare_closed["client_bound"]:
        report["note"] = ("the bare server's closed-loop rate was limited by the client process (client_cpu_cores "
                          "near 1): it is a lower bound, and the ratio an upper bound")
    report["machine"]["load_average_at_end"] = round(os.getloadavg()[0], 2)
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, indent=2), file=sys.stdout if args.json else sys.stderr)


if __name__ == "__main__":
    main()
