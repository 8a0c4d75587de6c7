"""Two real server processes sharing PostgreSQL and Redis (DESIGN.md section 7): the visitor on one, the
expert on the other, and every offer, status change and message crosses between them through Redis."""

from __future__ import annotations

import json
import os
import queue
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import socketio as socketio_client

from marketplace.accounts.models import Role
from marketplace.database import db
from tests.conftest import (
    BACKENDS,
    PROJECT_ROOT,
    TEST_REDIS_URL,
    TEST_SECRET,
    free_port,
    make_app,
    scratch_postgres_database,
)
from tests.factories import PASSWORD, BrandFactory, EnrolmentFactory, UserFactory

EXPERT_EMAIL = "emma@two-processes.example.com"
WAIT = 10  # seconds for any one thing to happen, so a broken path fails fast
VISITOR = "/visitor"
# Only where both PostgreSQL and Redis are configured (always in CI): elsewhere the test is not defined at all,
# since an empty parametrisation would still be collected as a skipped test.
BACKENDS_WITH_QUEUE = [backend for backend in BACKENDS if backend == "postgresql"] if TEST_REDIS_URL else []


def seed(database_url: str) -> None:
    """Migrate and seed the database; run in a subprocess of its own, so that the app it creates does not
    re-bind this process's `socketio` and `limiter`. Prints what the test needs as JSON on the last line."""
    from flask_migrate import upgrade

    app = make_app(database_url)
    with app.app_context():
        upgrade()
        brand = BrandFactory(name="Lumière", widget_origins=["https://shop.example.com"])
        user = UserFactory(email=EXPERT_EMAIL, role=Role.EXPERT)  # password: tests.factories.PASSWORD
        EnrolmentFactory(brand_id=brand.id, expert__user_id=user.id, expert__display_name="Emma")
        db.session.commit()
        print(json.dumps({"widget_key": brand.widget_key, "brand_name": brand.name}))  # noqa: T201


@pytest.fixture
def database_url() -> Iterator[str]:
    """A fresh PostgreSQL database, migrated and seeded (by `widget`), dropped at the end."""
    with scratch_postgres_database("two") as url:
        yield url


@pytest.fixture
def widget(database_url) -> dict:
    command = [sys.executable, "-c", "import sys; from tests.routing.test_two_processes import seed; seed(sys.argv[1])",
               database_url]
    done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60,  # noqa: S603
                          check=False)
    assert done.returncode == 0, f"seeding failed:\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1])


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return f"--- server {self.name} ---\n{self.log.read_text()[-4000:]}"


@pytest.fixture
def servers(database_url, widget, tmp_path) -> Iterator[tuple[Server, Server]]:
    """Servers A (runs the scheduler) and B (none), each `marketplace serve` on its own port, sharing the
    database, the secret key and the Redis message queue."""
    started: list[Server] = []
    try:
        for name, scheduler_mode in (("A", "embedded"), ("B", "off")):
            port = free_port()
            env = {**os.environ, "DATABASE_URL": database_url, "SOCKETIO_MESSAGE_QUEUE": TEST_REDIS_URL,
                   "SECRET_KEY": TEST_SECRET, "MARKETPLACE_ENV": "development", "SCHEDULER_MODE": scheduler_mode,
                   "RATELIMIT_STORAGE_URI": "memory://", "PYTHONUNBUFFERED": "1"}
            log = tmp_path / f"server-{name}.log"
            command = [str(Path(sys.executable).parent / "marketplace"), "serve", "--host", "127.0.0.1",
                       "--port", str(port)]
            with log.open("w") as log_file:
                process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log_file,  # noqa: S603
                                           stderr=subprocess.STDOUT)
            started.append(Server(name, f"http://127.0.0.1:{port}", process, log))
        for server in started:
            _wait_until_up(server)
        yield started[0], started[1]
    finally:
        for server in started:
            server.process.terminate()
        for server in started:
            try:
                server.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait(timeout=10)


def _wait_until_up(server: Server) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"server {server.name} stopped:\n{server.output()}")
        try:
            if requests.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"server {server.name} did not start in time:\n{server.output()}")


def _csrf_token(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, "the page carries no CSRF token"
    return match.group(1)


def wait_for(events: queue.Queue, what: str, match: Callable[[dict], bool], logs: Callable[[], str]) -> dict:
    """The first payload in `events` that matches, within WAIT seconds; others are dropped."""
    deadline = time.monotonic() + WAIT
    seen = []
    while (left := deadline - time.monotonic()) > 0:
        try:
            payload = events.get(timeout=left)
        except queue.Empty:
            break
        if match(payload):
            return payload
        seen.append(payload)
    raise AssertionError(f"no {what} within {WAIT} s (got instead: {seen})\n{logs()}")


def _collect(client: socketio_client.Client, event: str, namespace: str = "/") -> queue.Queue:
    received: queue.Queue = queue.Queue()
    client.on(event, received.put, namespace=namespace)
    return received


def _messages_seqs(events: queue.Queue) -> list[int]:
    seqs = []
    while not events.empty():
        seqs.append(events.get_nowait()["seq"])
    return seqs


if BACKENDS_WITH_QUEUE:

    @pytest.mark.live
    @pytest.mark.parametrize("backend", BACKENDS_WITH_QUEUE)
    def test_a_visitor_on_one_process_chats_with_an_expert_on_another(backend, servers, widget):
        server_a, server_b = servers

        def logs() -> str:
            return f"{server_a.output()}\n{server_b.output()}"

        # The expert logs in on A, goes online, and opens the logged-in socket there.
        http = requests.Session()
        token = _csrf_token(http.get(f"{server_a.url}/login", timeout=WAIT).text)
        logged_in = http.post(f"{server_a.url}/login", allow_redirects=False, timeout=WAIT,
                              data={"email": EXPERT_EMAIL, "password": PASSWORD, "csrf_token": token})
        assert logged_in.status_code == 302, logged_in.text[:500]
        token = _csrf_token(http.get(f"{server_a.url}/login", timeout=WAIT).text)
        online = http.put(f"{server_a.url}/api/v1/experts/me/presence", json={"status": "available"},
                          headers={"X-CSRFToken": token}, timeout=WAIT)
        assert online.status_code == 200, online.text[:500]
        assert online.json()["status"] == "available"

        expert = socketio_client.Client(http_session=http, reconnection=False)
        welcome = _collect(expert, "welcome")
        offers = _collect(expert, "offer")
        expert_messages = _collect(expert, "message")
        visitor = socketio_client.Client(reconnection=False)
        changes = _collect(visitor, "conversation", VISITOR)
        visitor_messages = _collect(visitor, "message", VISITOR)
        try:
            expert.connect(server_a.url, transports=["websocket"], wait_timeout=WAIT)
            wait_for(welcome, "welcome on A", lambda payload: True, logs)

            # The visitor arrives through B's widget API and opens the visitor socket on B.
            visitor_token = secrets.token_hex(20)
            key = widget["widget_key"]
            started = requests.post(f"{server_b.url}/api/widget/{key}/conversations",
                                    json={"page_url": "https://shop.example.com/lamps"},
                                    headers={"X-Visitor-Token": visitor_token}, timeout=WAIT)
            assert started.status_code == 201, started.text[:500]
            conversation_id = started.json()["id"]
            visitor.connect(server_b.url, namespaces=[VISITOR], transports=["websocket"], wait_timeout=WAIT,
                            auth={"key": key, "token": visitor_token, "conversation_id": conversation_id})

            # B made the offer; it reaches the expert's socket on A.
            offer = wait_for(offers, "offer on A", lambda o: o["conversation_id"] == conversation_id, logs)
            assert offer["brand"]["name"] == widget["brand_name"]
            accepted = expert.call("offer_accept", {"offer_id": offer["offer_id"]}, timeout=WAIT)
            assert accepted["ok"] is True, accepted
            assert accepted["chat"]["status"] == "active"
            change = wait_for(changes, "active conversation on B", lambda c: c["status"] == "active", logs)
            assert change["id"] == conversation_id and change["expert_name"] == "Emma"

            # The visitor writes on B; the expert reads it on A.
            sent = visitor.call("send", {"client_id": "visitor-1", "body": "Which bulb for a reading lamp?"},
                                namespace=VISITOR, timeout=WAIT)
            assert sent["ok"] is True, sent
            assert sent["message"]["seq"] == 1
            message = wait_for(expert_messages, "visitor's message on A", lambda m: m["seq"] == 1, logs)
            assert message == {**sent["message"], "sender": "visitor", "conversation_id": conversation_id}

            # The expert answers on A; the visitor reads it on B.
            answered = expert.call("chat_send", {"conversation_id": conversation_id, "client_id": "expert-1",
                                                 "body": "A warm white LED of about 2700 K."}, timeout=WAIT)
            assert answered["ok"] is True, answered
            assert answered["message"]["seq"] == 2
            message = wait_for(visitor_messages, "expert's message on B", lambda m: m["seq"] == 2, logs)
            assert message == {**answered["message"], "sender": "expert", "conversation_id": conversation_id}

            # Resends with the same client ids answer with the stored messages, never new ones.
            again = visitor.call("send", {"client_id": "visitor-1", "body": "Which bulb for a reading lamp?"},
                                 namespace=VISITOR, timeout=WAIT)
            assert again == sent
            again = expert.call("chat_send", {"conversation_id": conversation_id, "client_id": "expert-1",
                                              "body": "A warm white LED of about 2700 K."}, timeout=WAIT)
            assert again == answered
            synced = visitor.call("sync", {"after_seq": 0}, namespace=VISITOR, timeout=WAIT)
            assert synced["ok"] is True, synced
            assert [m["seq"] for m in synced["messages"]] == [1, 2]
            synced = expert.call("chat_sync", {"conversation_id": conversation_id, "after_seq": 0}, timeout=WAIT)
            assert [m["seq"] for m in synced["messages"]] == [1, 2]
            assert all(seq <= 2 for seq in _messages_seqs(expert_messages) + _messages_seqs(visitor_messages))
        finally:
            visitor.disconnect()
            expert.disconnect()
            http.close()
