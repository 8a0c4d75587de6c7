"""Fixtures for the notification tests: a push service on loopback, a browser's push keys, fresh apps."""

from __future__ import annotations

import base64
import copy
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask

from marketplace.database import db
from marketplace.extensions import limiter, socketio
from tests.conftest import make_app


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.fixture(autouse=True)
def no_background_push(request, monkeypatch):
    """Tests inside a rolled-back transaction deliver pushes themselves: a background task cannot see their data."""
    if "app" in request.fixturenames:
        monkeypatch.setitem(request.getfixturevalue("app").config, "WEB_PUSH_DELIVERY", "off")


@dataclass(frozen=True)
class BrowserKeys:
    """What a browser's PushSubscription holds: its own P-256 key pair and a 16-byte auth secret."""

    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes

    @property
    def p256dh(self) -> str:
        point = self.private_key.public_key().public_bytes(serialization.Encoding.X962,
                                                           serialization.PublicFormat.UncompressedPoint)
        return b64url(point)

    @property
    def auth(self) -> str:
        return b64url(self.auth_secret)


@pytest.fixture
def browser_keys() -> BrowserKeys:
    return BrowserKeys(ec.generate_private_key(ec.SECP256R1()), os.urandom(16))


@dataclass(frozen=True)
class ReceivedPush:
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes


@dataclass
class PushService:
    """A push service on 127.0.0.1: records each request and answers 201, or the status set for a path."""

    origin: str
    statuses: dict[str, int] = field(default_factory=dict)
    received: list[ReceivedPush] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def url(self, path: str) -> str:
        return self.origin + path

    def wait_for(self, count: int, timeout: float = 10) -> list[ReceivedPush]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout=timeout)
            return list(self.received)


@pytest.fixture
def push_service() -> Iterator[PushService]:
    service: PushService

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with service.arrived:
                service.received.append(ReceivedPush(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                service.arrived.notify_all()
            self.send_response(service.statuses.get(self.path, 201))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    service = PushService(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield service
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def fresh_app() -> Iterator[Callable[..., Flask]]:
    """Build apps of their own (own database, own instance folder); put the shared extensions back after.

    `create_app` re-binds the Socket.IO server and the rate limiter's storage of the one `socketio` and
    `limiter` objects; the other tests expect them as the session app left them.
    """
    shared = (socketio, limiter)
    saved = [{name: copy.copy(value) if isinstance(value, list | dict) else value for name, value in vars(obj).items()}
             for obj in shared]
    built: list[Flask] = []

    def build(database_url: str, **environ: str) -> Flask:
        app = make_app(database_url, **environ)
        built.append(app)
        return app

    try:
        yield build
    finally:
        for app in built:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        for obj, state in zip(shared, saved, strict=True):
            vars(obj).clear()
            vars(obj).update(state)


def wait_until(condition: Callable[[], bool], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()
