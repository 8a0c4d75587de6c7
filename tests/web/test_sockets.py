"""The real-time backbone: only logged-in people connect; events fan out through Redis between processes."""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
import socketio as socketio_client
from flask_socketio import SocketIO
from socketio import packet as socketio_packet

from marketplace.accounts.models import Role, User
from marketplace.brands.models import BrandRole
from marketplace.extensions import socketio
from marketplace.web.requests import SocketJSON, SocketPacket
from tests.conftest import PROJECT_ROOT, TEST_DATABASE_URL, TEST_REDIS_URL, TEST_SECRET, free_port, log_in
from tests.factories import MembershipFactory, UserFactory


def test_a_socket_without_a_session_is_refused(app, client):
    sio = socketio.test_client(app, flask_test_client=client)
    assert not sio.is_connected()


def test_a_logged_in_user_connects_into_their_rooms(app, client, session):
    membership = MembershipFactory(role=BrandRole.VIEWER)
    user = session.get(User, membership.user_id)
    log_in(client, user.email)
    sio = socketio.test_client(app, flask_test_client=client)
    assert sio.is_connected()
    welcome = [event for event in sio.get_received() if event["name"] == "welcome"]
    assert welcome[0]["args"][0]["rooms"] == [f"user:{user.id}", f"brand:{membership.brand.id}"]
    assert "server_time" in sio.emit("ping_server", {}, callback=True)
    sio.disconnect()


def test_an_expert_joins_only_their_own_room(app, client):
    expert = UserFactory(role=Role.EXPERT)
    log_in(client, expert.email)
    sio = socketio.test_client(app, flask_test_client=client)
    welcome = next(event for event in sio.get_received() if event["name"] == "welcome")
    assert welcome["args"][0]["rooms"] == [f"user:{expert.id}"]
    sio.disconnect()




@pytest.fixture(scope="module")
def queued_server(postgres_url):
    """A `marketplace serve` process on PostgreSQL with its Socket.IO events going through Redis."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": postgres_url, "SOCKETIO_MESSAGE_QUEUE": TEST_REDIS_URL,
           "SECRET_KEY": TEST_SECRET, "SCHEDULER_MODE": "off", "PYTHONUNBUFFERED": "1"}
    command = [str(Path(sys.executable).parent / "marketplace"), "serve", "--demo", "--port", str(port)]
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,  # noqa: S603
                               stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")), daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except requests.ConnectionError:
            time.sleep(0.2)
    else:
        process.kill()
        raise AssertionError("server did not start:\n" + "".join(lines))
    try:
        yield url, "".join(lines)
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


# Defined only where Redis and PostgreSQL are configured (always in CI), rather than skipped elsewhere.
@pytest.mark.skipif(not (TEST_REDIS_URL and TEST_DATABASE_URL), reason="needs TEST_REDIS_URL and TEST_DATABASE_URL")
def test_an_event_emitted_by_another_process_reaches_the_socket_through_redis(queued_server):
    url, output = queued_server
    password = re.search(r"password for all: (\S+)\)", output).group(1)
    http = requests.Session()
    page = http.get(f"{url}/login", timeout=5).text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    logged_in = http.post(f"{url}/login", data={"email": "expert@demo.example.com", "password": password,
                                                "csrf_token": token}, allow_redirects=False, timeout=5)
    assert logged_in.status_code == 302
    user_id = http.get(f"{url}/api/v1/me", timeout=5).json()["id"]

    received: list[dict] = []
    welcomed = threading.Event()
    arrived = threading.Event()
    client = socketio_client.Client(http_session=http, reconnection=False)
    client.on("welcome", lambda data: welcomed.set())
    client.on("announcement", lambda data: (received.append(data), arrived.set()))
    client.connect(url, transports=["websocket"], wait_timeout=10)
    try:
        assert welcomed.wait(10), "no welcome: the socket did not join its rooms"
        # Another process (this test) writes to the queue only; the server relays to its socket.
        emitter = SocketIO(message_queue=TEST_REDIS_URL)
        emitter.emit("announcement", {"text": "bonjour"}, to=f"user:{user_id}")
        assert arrived.wait(10), "the event never came through Redis"
        assert received == [{"text": "bonjour"}]
    finally:
        client.disconnect()


def test_a_socket_is_refused_over_the_wire_without_a_session(demo_server):
    client = socketio_client.Client(reconnection=False)
    with pytest.raises(socketio_client.exceptions.ConnectionError):
        client.connect(demo_server.url, transports=["websocket"], wait_timeout=5)


def test_packets_find_binary_parts_exactly_as_python_socketios_own_check(app):
    assert socketio.server.packet_class is SocketPacket
    rng = random.Random(7)

    def payload(depth: int) -> object:
        kind = rng.choice(["text", "number", "none", "bytes", "bytearray", "tuple", "list", "dict"] if depth < 4
                          else ["text", "number", "none", "bytes"])
        if kind == "list":
            return [payload(depth + 1) for _ in range(rng.randint(0, 4))]
        if kind == "dict":
            return {f"k{n}": payload(depth + 1) for n in range(rng.randint(0, 4))}
        if kind == "tuple":  # neither check looks inside a tuple (JSON has none)
            return (payload(depth + 1), b"inside a tuple")
        return {"text": "é", "number": 3, "none": None, "bytes": b"\x00", "bytearray": bytearray(b"x")}[kind]

    seen = set()
    for _ in range(3000):
        data = ["message", payload(0)]
        expected = socketio_packet.Packet.data_is_binary(data)
        assert SocketPacket.data_is_binary(data) is expected, data
        seen.add(expected)
        assert (SocketPacket(socketio_packet.EVENT, data=data).packet_type == socketio_packet.BINARY_EVENT) is expected
    assert seen == {True, False}


def test_a_gevent_server_spawns_its_event_greenlets_without_recording_their_stacks(tmp_path):
    # In a process of its own: the test process serves with threads, and gevent's setting is the whole process's.
    script = ("import gevent; assert gevent.config.track_greenlet_tree\n"
              "from marketplace import create_app\n"
              "create_app({'TESTING': True})\n"
              "print(gevent.config.track_greenlet_tree)\n")
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "MARKETPLACE_ENV": "test", "SECRET_KEY": TEST_SECRET,
           "DATABASE_URL": f"sqlite:///{tmp_path / 'gevent.db'}", "SOCKETIO_ASYNC_MODE": "gevent"}
    result = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, env=env,  # noqa: S603
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_a_socket_packet_loses_control_characters_and_lone_surrogates_and_keeps_plain_text():
    cleaned = SocketJSON.loads('{"b\\u0000ody": ["a\\u0007b\\tc\\r\\n", "\\ud800x\\u009f", "plain é ☕"], '
                               '"n": [3, null]}')
    assert cleaned == {"body": ["ab\tc\r\n", "\ufffdx", "plain é ☕"], "n": [3, None]}
