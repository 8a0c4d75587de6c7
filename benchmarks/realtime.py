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

E-mail continuation on against off (issue 18: the relay's figures with it on within 10 % of off): the same 100
pairs plus `--away` more conversations whose visitor is not on the page, to which their experts reply at
`--away-reply-rate` during both loads. On: every visitor gave an address with consent, the extra conversations are
asynchronous (their replies note a digest), the digest job runs in the server process every
`--digest-seconds` and sends over SMTP to a real server on loopback (aiosmtpd, a subprocess); off: no addresses,
the extra conversations stay active, no digest job. Each round runs both (in turns), on fresh databases.
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
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
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

BODY = "Bonjour ! Est-ce que cette lampe existe aussi en blanc chaud, vers 2700 K ?"
REPLY = "Oui, en 2700 K aussi : je vous mets le lien de la version blanc chaud, livrée en deux jours."
REPLY_DOMAIN = "reply.bench.example.com"
DIGEST_JOB = "continuation-digest"
# Figures.

# The servers (run as subprocesses of this script: `--serve app|bare`).

def serve_smtp(port: int) -> None:
    """An SMTP server on loopback that prints one line per message received (who to, and what it carries)."""
    from email import message_from_bytes, policy

    from aiosmtpd.controller import Controller

    class Sink:
        async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
            message = message_from_bytes(envelope.original_content, policy=policy.default)
            body = message.get_body(("plain",)).get_content()
            print(json.dumps({"to": str(message["To"]), "resume_link": "/resume/" in body,
                              "reply_to": f"@{REPLY_DOMAIN}" in str(message["Reply-To"] or ""),
                              "reply_in_body": REPLY in body}), flush=True)
            return "250 OK"

    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"serving smtp on {port}", flush=True)
    threading.Event().wait()  # until terminated


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

    print(f"serving the bare relay ({mode}) on {port}", flush=True)
    serve_wsgi(mode, port, socketio.WSGIApp(sio))


def start(kind: str, mode: str, env_extra: dict[str, str], workdir: Path, *, name: str | None = None,
          digest: bool = False) -> tuple[subprocess.Popen, str, Path]:
    return start_server(__file__, kind, mode, env_extra, workdir, name=name, args=["--digest"] if digest else [])


# The app's data: pairs in active conversations, made through the app's own services.

def seed_pairs(database_url: str, pairs: int, away: int = 0, continuation: bool = False) -> dict:
    """`pairs` active conversations, one per expert, and `away` more whose visitor is not on the page.

    With `continuation`, every visitor gives an address with consent (the widget's call) and the extra ones go
    asynchronous (the visitor's page went: `away.visitor_away`); without, nobody gives one and they stay active.
    """
    import sqlalchemy as sa

    from marketplace.accounts.passwords import hash_password
    from marketplace.brands.models import Brand
    from marketplace.database import db
    from marketplace.routing.door import services as conversations
    from marketplace.routing.models import ConversationStatus, Offer, OfferStatus
    from marketplace.routing.router import away as going_away
    from marketplace.routing.router import offers as router

    bench = benchlib.load_bench("routing")
    app = bench.make_app(database_url)
    revision = benchlib.migrate(app)
    with app.app_context():
        # A second place per expert when the extra conversations stay active (off); least loaded first, so the
        # pairs still go one per expert.
        seeded = bench.seed(1, pairs, 0, concurrency=2 if away else 1, password_hash=hash_password(PASSWORD),
                            email_tag="rt")
        brand = db.session.get(Brand, seeded["brand_ids"][0])
        key = brand.widget_key
        db.session.commit()
        expert_index = {expert_id: i for i, expert_id in enumerate(seeded["expert_ids"])}

        def arrive(n: int) -> dict:
            token = secrets.token_hex(20)
            conversation = conversations.start_conversation(key, token, page_url="https://shop.example.com/lamp")
            offer = db.session.scalar(sa.select(Offer).where(Offer.conversation_id == conversation.id,
                                                             Offer.status == OfferStatus.PENDING))
            if offer is None:
                raise RuntimeError("an arrival found no expert: the seeding is wrong")
            router.accept_offer(offer.expert_id, offer.id)
            if continuation:
                conversations.give_email(key, token, conversation.id, f"visitor{n}@shop.example.com", True)
            return {"token": token, "conversation_id": conversation.id, "expert": expert_index[offer.expert_id]}

        visitors = [arrive(n) for n in range(pairs)]
        if len({v["expert"] for v in visitors}) != pairs:
            raise RuntimeError("two pairs share an expert: the seeding is wrong")
        absent = [arrive(pairs + n) for n in range(away)]
        if continuation:
            for conversation in absent:
                moved = going_away.visitor_away(conversation["conversation_id"])
                if moved is None or moved.status != ConversationStatus.ASYNCHRONOUS:
                    raise RuntimeError("a visitor who gave an address did not go asynchronous")
        db.session.remove()
        db.engine.dispose()
    return {"key": key, "emails": seeded["emails"], "user_ids": seeded["user_ids"], "visitors": visitors,
            "away": absent, "database_url": database_url, "schema_revision": revision}


# The clients and the loads.

class Relay:
    """The clients: experts on `/`, visitors on `/visitor`, each visitor in a conversation with one expert."""

    def __init__(self, url: str, expert_connects: list[dict], visitor_connects: list[dict],
                 away: list[tuple[int, int]] = ()):
        self.url = url
        self.expert_connects = expert_connects
        self.visitor_connects = visitor_connects
        self.away = list(away)  # (expert index, conversation id): chats whose visitor is not on the page
        self.replies = {"sent": 0, "stored": 0, "refused": 0, "unanswered": 0}
        self.reply_acks: list[tuple[float, float]] = []  # (sent, answered), as records
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
            return await connect_socket(client, self.url, gate, **options)

        async def visitor(options: dict):
            return await connect_socket(socketio.AsyncClient(reconnection=False), self.url, gate,
                                        namespaces=["/visitor"], **options)

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

    async def reply_to_away(self, tag: str, rate: float) -> None:
        """The experts reply in their chats whose visitor is away, at `rate` in total, until cancelled."""
        import socketio

        started = time.perf_counter()
        k = 0
        pending: set[asyncio.Task] = set()

        async def reply(expert: int, conversation_id: int, key: str) -> None:
            t0 = time.perf_counter()
            try:
                answer = await self.experts[expert].call(
                    "chat_send", {"conversation_id": conversation_id, "client_id": key, "body": REPLY}, timeout=10)
            except socketio.exceptions.TimeoutError:
                self.replies["unanswered"] += 1
                return
            self.reply_acks.append((t0, time.perf_counter()))
            self.replies["stored" if isinstance(answer, dict) and answer.get("ok") else "refused"] += 1

        try:
            while True:
                delay = started + k / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                expert, conversation_id = self.away[k % len(self.away)]
                task = asyncio.create_task(reply(expert, conversation_id, f"{tag}-{k}"))
                pending.add(task)
                task.add_done_callback(pending.discard)
                self.replies["sent"] += 1
                k += 1
        except asyncio.CancelledError:
            if pending:
                await asyncio.wait(pending, timeout=10)
            raise

    def reply_figures(self) -> dict:
        acks = [t1 - t0 for t0, t1 in self.reply_acks]
        return {**self.replies, "ack_p50_ms": ms(percentile(acks, 50)), "ack_p99_ms": ms(percentile(acks, 99))}

    def _figures(self, started: float, measured_from: float, ended: float, server_pid: int,
                 cpu_before: tuple[float, float], timeouts: int) -> dict:
        window = ended - measured_from
        delivered = sum(1 for _, t1 in self.records if measured_from <= t1 <= ended)
        latencies = [t1 - t0 for t0, t1 in self.records if measured_from <= t0 <= ended]
        server_cpu = cpu_seconds(server_pid) - cpu_before[0]
        client_cpu = time.process_time() - cpu_before[1]
        total = ended - started
        # The experts' replies to away visitors (continuation runs) are messages the server stored meanwhile too.
        replies = sum(1 for _, t1 in self.reply_acks if t1 >= started)
        stored = len(self.records) + replies
        return {
            "seconds_measured": round(window, 2), "messages_relayed": delivered,
            "messages_per_second": round(delivered / window, 1) if window > 0 else None,
            "rtt_p50_ms": ms(percentile(latencies, 50)), "rtt_p90_ms": ms(percentile(latencies, 90)),
            "rtt_p99_ms": ms(percentile(latencies, 99)), "rtt_max_ms": ms(max(latencies) if latencies else None),
            "refused_sends": self.refused, "timeouts": timeouts, "replies_to_away_stored": replies,
            "server_cpu_cores": round(server_cpu / total, 2), "client_cpu_cores": round(client_cpu / total, 2),
            # What a stored message costs the server, warm-up included: the figure to cut, and the one least
            # moved by other work on a shared machine (a starved server relays less but spends the same CPU).
            "server_cpu_ms_per_message": round(1000 * server_cpu / stored, 3) if stored else None,
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
    replying = (asyncio.create_task(relay.reply_to_away(f"{label}r", args.away_reply_rate))
                if relay.away and args.away_reply_rate > 0 else None)
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
        if replying is not None:
            replying.cancel()
            await asyncio.gather(replying, return_exceptions=True)
        await relay.disconnect()
    loads = {"closed_loop": closed, "paced": paced, "load_average_at_end": round(os.getloadavg()[0], 2)}
    if replying is not None:
        loads["away_replies"] = relay.reply_figures()
        log(f"    replies to away visitors: {loads['away_replies']}")
    return loads


class AppServer:
    """The app serving `data`'s database in a subprocess, its experts logged in through the form."""

    def __init__(self, mode: str, data: dict, env: dict[str, str], workdir: Path, name: str, *,
                 digest: bool = False):
        self.data = data
        self.process, self.url, self.log_path = start("app", mode, env, workdir, name=name, digest=digest)
        try:
            t0 = time.perf_counter()
            self.cookies = log_in_all(self.url, data["emails"])
            log(f"    {len(self.cookies)} experts logged in through the form in {time.perf_counter() - t0:.1f} s")
        except Exception:
            stop(self.process)
            raise

    def relay(self) -> Relay:
        return Relay(
            self.url,
            [{"headers": {"Cookie": cookie}} for cookie in self.cookies],
            [{"auth": {"key": self.data["key"], "token": v["token"], "conversation_id": v["conversation_id"]}}
             for v in self.data["visitors"]],
            [(a["expert"], a["conversation_id"]) for a in self.data["away"]],
        )

    def stop(self) -> int:
        """Stop it; how many tracebacks its log holds."""
        stop(self.process)
        return self.log_path.read_text().count("Traceback")


def drain_digests(database_url: str, digest_seconds: int) -> int:
    """Wait until the digests noted during a run went out (each is due within a window, and the job runs at least
    once a window; at most a minute); how many are still due."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    deadline = time.monotonic() + min(60, 2 * digest_seconds + 5)
    try:
        while True:
            with engine.connect() as connection:
                due = connection.scalar(sa.text("SELECT count(*) FROM conversations "
                                                "WHERE continuation_due_at IS NOT NULL"))
            if not due or time.monotonic() > deadline:
                return due
            time.sleep(0.5)
    finally:
        engine.dispose()


def received_mails(log_path: Path) -> dict:
    """What the SMTP server on loopback received: e-mails, their addressees, and what they carried."""
    mails = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    return {"emails": len(mails), "addressees": len({m["to"] for m in mails}),
            "with_resume_link": sum(m["resume_link"] for m in mails),
            "with_reply_address": sum(m["reply_to"] for m in mails),
            "with_the_reply": sum(m["reply_in_body"] for m in mails)}


FIGURES = [("messages_per_second", "closed_loop"), ("rtt_p50_ms", "closed_loop"), ("rtt_p99_ms", "closed_loop"),
           ("server_cpu_ms_per_message", "closed_loop"), ("rtt_p50_ms", "paced"), ("rtt_p99_ms", "paced")]


def medians(runs: list[dict]) -> dict:
    """Each figure's median over the rounds (the rounds alternate on and off, so drift in the load falls on both)."""
    out: dict = {}
    for figure, load in FIGURES:
        values = [run[load][figure] for run in runs if run[load][figure] is not None]
        out.setdefault(load, {})[figure] = round(statistics.median(values), 3) if values else None
    return out


def run_continuation(args, mode: str, workdir: Path, base_env: dict[str, str]) -> dict:
    """E-mail continuation on against off: the same load, `args.rounds` rounds of each, in turns.

    Both servers stay up (logged in once) and take turns; after each run with continuation on, the digests it
    noted are left to go out before the next run starts, so neither run pays for the other's e-mails.
    """
    sink, sink_url, sink_log = start("smtp", "threading", {}, workdir)
    servers: dict[str, AppServer] = {}
    runs: dict[str, list[dict]] = {"off": [], "on": []}
    tracebacks = {}
    paced_rate = None
    try:
        log(f"[continuation] seeding {args.pairs} pairs + {args.away} away conversations, twice")
        data = {on: seed_pairs(args.database_url or f"sqlite:///{workdir / f'continuation-{on}.db'}",
                               args.pairs, args.away, continuation=on == "on") for on in ("off", "on")}
        mail = {"MAIL_BACKEND": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": sink_url.rsplit(":", 1)[1],
                "SMTP_STARTTLS": "false", "MAIL_REPLY_DOMAIN": REPLY_DOMAIN,
                "CONTINUATION_DIGEST_SECONDS": str(args.digest_seconds)}
        for on in ("off", "on"):
            log(f"[continuation {on}] starting the app, {mode}, one process"
                + (f", digest job every {args.digest_seconds} s, SMTP on loopback" if on == "on" else ""))
            env = {**base_env, **(mail if on == "on" else {}), "DATABASE_URL": data[on]["database_url"]}
            servers[on] = AppServer(mode, data[on], env, workdir, f"continuation-{on}", digest=on == "on")
        for n in range(args.rounds):
            for on in (("off", "on") if n % 2 == 0 else ("on", "off")):
                log(f"[continuation {on}] round {n + 1} of {args.rounds}")
                server = servers[on]
                figures = asyncio.run(run_loads(args, server.relay(), f"{on}{n}", server.process.pid, paced_rate))
                paced_rate = paced_rate or figures["paced"]["offered_rate"]
                runs[on].append(figures)
                if on == "on":
                    runs[on][-1]["digests_due_after_drain"] = drain_digests(data[on]["database_url"],
                                                                            args.digest_seconds)
    finally:
        for on, server in servers.items():
            tracebacks[on] = server.stop()
        stop(sink)
    received = received_mails(sink_log)
    log(f"    e-mails received on loopback: {received}")
    off, on = medians(runs["off"]), medians(runs["on"])
    return {
        "away_conversations": args.away, "away_reply_rate": args.away_reply_rate,
        "digest_seconds": args.digest_seconds, "rounds": args.rounds, "paced_rate": paced_rate,
        "off": {"median": off, "runs": runs["off"], "tracebacks_in_server_log": tracebacks.get("off")},
        "on": {"median": on, "runs": runs["on"], "tracebacks_in_server_log": tracebacks.get("on"),
               "mail_received": received},
        # Below 1 for throughput and above 1 for times and CPU is what continuation costs the relay.
        "ratio_on_to_off": {
            "messages_per_second": ratio(on["closed_loop"]["messages_per_second"],
                                         off["closed_loop"]["messages_per_second"]),
            "rtt_p50_closed_loop": ratio(on["closed_loop"]["rtt_p50_ms"], off["closed_loop"]["rtt_p50_ms"]),
            "rtt_p99_closed_loop": ratio(on["closed_loop"]["rtt_p99_ms"], off["closed_loop"]["rtt_p99_ms"]),
            "server_cpu_per_message": ratio(on["closed_loop"]["server_cpu_ms_per_message"],
                                            off["closed_loop"]["server_cpu_ms_per_message"]),
            "rtt_p50_paced": ratio(on["paced"]["rtt_p50_ms"], off["paced"]["rtt_p50_ms"]),
            "rtt_p99_paced": ratio(on["paced"]["rtt_p99_ms"], off["paced"]["rtt_p99_ms"]),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout, progress on stderr")
    parser.add_argument("--quick", action="store_true", help="shorter runs (about 3 minutes)")
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
    parser.add_argument("--parts", default="app,bare,continuation",
                        help="which runs, comma-separated, of app, bare, continuation [all three]")
    parser.add_argument("--away", type=int, help="continuation: conversations whose visitor is away [pairs / 2]")
    parser.add_argument("--away-reply-rate", type=float, default=10.0,
                        help="continuation: experts' replies to away visitors, per second in total [10]")
    parser.add_argument("--digest-seconds", type=int, default=30,
                        help="continuation on: CONTINUATION_DIGEST_SECONDS (the product's is 120), the digest job's "
                             "interval up to 10 s [30]")
    parser.add_argument("--rounds", type=int, help="continuation: rounds of off and on, in turns [3, quick 1]")
    parser.add_argument("--serve", choices=["app", "bare", "smtp"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--digest", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.serve:
        if args.serve == "app":
            serve_app(args.async_mode, args.port, [DIGEST_JOB] if args.digest else [])
        else:
            (serve_bare if args.serve == "bare" else lambda mode, port: serve_smtp(port))(args.async_mode, args.port)
        return

    benchlib.VERBOSE = not args.quiet
    args.seconds = args.seconds or (5.0 if args.quick else 15.0)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if args.quick else 3.0)
    args.away = args.away if args.away is not None else args.pairs // 2
    args.rounds = args.rounds or (1 if args.quick else 3)
    parts = set(args.parts.split(","))
    if not parts <= {"app", "bare", "continuation"}:
        parser.error("--parts takes app, bare and continuation")
    if "bare" in parts and "app" not in parts:
        parser.error("the bare relay runs at the app's paced rate: --parts bare needs app")
    gevent_available = importlib.util.find_spec("gevent") is not None
    mode = args.async_mode if args.async_mode != "auto" else ("gevent" if gevent_available else "threading")
    if mode == "gevent" and not gevent_available:
        parser.error("gevent is not installed (pip install 'gevent>=24.2,<27')")

    started = time.perf_counter()
    report: dict = {
        "benchmark": "realtime", "quick": args.quick, "parts": sorted(parts),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    # Other work on the machine starves the server: read the rates against this (1-minute).
                    "load_average_at_start": round(os.getloadavg()[0], 2)},
        "async_mode": mode, "gevent_available": gevent_available,
        "server": "one process: " + ("gevent pywsgi, monkey-patched" if mode == "gevent" else "Werkzeug, threaded"),
        "clients": 2 * args.pairs, "pairs": args.pairs, "body_characters": len(BODY),
    }
    with tempfile.TemporaryDirectory(prefix="mk-bench-realtime-") as folder:
        workdir = Path(folder)
        report["database"] = (args.database_url or "sqlite").split(":", 1)[0]
        base_env = {"SECRET_KEY": SECRET, "MARKETPLACE_ENV": "development", "SCHEDULER_MODE": "off",
                    "RATELIMIT_ENABLED": "false"}
        if "app" in parts:
            database_url = args.database_url or f"sqlite:///{workdir / 'realtime.db'}"
            log(f"[app] seeding {args.pairs} experts and {args.pairs} active conversations")
            data = seed_pairs(database_url, args.pairs)
            log(f"[app] {mode}, one process")
            server = AppServer(mode, data, {**base_env, "DATABASE_URL": database_url}, workdir, "app")
            try:
                report["app"] = asyncio.run(run_loads(args, server.relay(), "a", server.process.pid, None))
            finally:
                tracebacks = server.stop()
            report["app"]["tracebacks_in_server_log"] = tracebacks
        if "bare" in parts:
            log(f"[bare] python-socketio relay, {mode}, one process")
            process, url, log_path = start("bare", mode, {}, workdir)
            try:
                relay = Relay(
                    url,
                    [{"auth": {"user_id": i}} for i in range(args.pairs)],
                    [{"auth": {"conversation_id": i, "expert_user": v["expert"]}}
                     for i, v in enumerate(data["visitors"])],
                )
                report["bare_socketio"] = asyncio.run(
                    run_loads(args, relay, "b", process.pid, report["app"]["paced"]["offered_rate"]))
            finally:
                stop(process)
            report["bare_socketio"]["tracebacks_in_server_log"] = log_path.read_text().count("Traceback")
        if "continuation" in parts:
            report["continuation"] = run_continuation(args, mode, workdir, base_env)

    if "bare" in parts:
        app_closed, bare_closed = report["app"]["closed_loop"], report["bare_socketio"]["closed_loop"]
        app_paced, bare_paced = report["app"]["paced"], report["bare_socketio"]["paced"]
        report["ratio_app_to_bare_messages_per_second"] = ratio(app_closed["messages_per_second"],
                                                                bare_closed["messages_per_second"])
        report["ratio_app_to_bare_rtt_p99_closed_loop"] = ratio(app_closed["rtt_p99_ms"], bare_closed["rtt_p99_ms"])
        report["ratio_app_to_bare_rtt_p99_paced"] = ratio(app_paced["rtt_p99_ms"], bare_paced["rtt_p99_ms"])
        report["ratio_app_to_bare_server_cpu_per_message"] = ratio(app_closed["server_cpu_ms_per_message"],
                                                                   bare_closed["server_cpu_ms_per_message"])
        if bare_closed["client_bound"]:
            report["note"] = ("the bare server's closed-loop rate was limited by the client process (client_cpu_cores "
                              "near 1): it is a lower bound, and the ratio an upper bound")
    if "continuation" in parts:
        report["ratio_continuation_on_to_off"] = report["continuation"]["ratio_on_to_off"]
    report["target"] = {"messages_per_second": 2000, "rtt_p99_ms": 150, "continuation_on_to_off": "within 10 %"}
    report["machine"]["load_average_at_end"] = round(os.getloadavg()[0], 2)
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, indent=2), file=sys.stdout if args.json else sys.stderr)


if __name__ == "__main__":
    main()
