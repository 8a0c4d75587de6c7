"""The HTTP side of the fake: the request handler and the threaded loopback server."""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.stripe_fake.api import Api


@dataclass
class Reply:
    """An HTTP answer; `None` in its place means the connection is closed without one."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    def encode(self, keep_alive: bool) -> bytes:
        try:
            phrase = HTTPStatus(self.status).phrase
        except ValueError:
            phrase = "Unknown"
        lines = [f"HTTP/1.1 {self.status} {phrase}",
                 f"Content-Type: {self.content_type}",
                 f"Content-Length: {len(self.body)}",
                 "Connection: keep-alive" if keep_alive else "Connection: close",
                 *(f"{name}: {value}" for name, value in self.headers.items())]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


class Handler(BaseHTTPRequestHandler):
    """Read one request after another on a kept-alive connection and answer each in a single write."""

    protocol_version = "HTTP/1.1"
    server: LoopbackServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        if len(raw) < length:  # the client went away mid-request (a crash): never act on half a body
            self.server.api.cut_short(method, path)
            self.close_connection = True
            return
        body = raw.decode("utf-8", "replace")
        try:
            reply = self.server.api.answer(method, path, query, body, self.headers)
        except Exception:  # a bug in the fake: answer like Stripe's own 500, record it for the tests
            reply = self.server.api.internal_error()
        if reply is None:
            self.close_connection = True
            return
        try:
            self.wfile.write(reply.encode(keep_alive=not self.close_connection))
        except OSError:  # the client gave up (timed out) and closed its end
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        """Stay quiet: the fake keeps its own request log."""


class LoopbackServer(ThreadingHTTPServer):
    """A thread per connection; `close` ends kept-alive connections so no thread is left behind."""

    daemon_threads = True
    block_on_close = True
    request_queue_size = 128
    handler_class: type[BaseHTTPRequestHandler] = Handler  # another fake may serve its own way on this plumbing

    def __init__(self, api: Api, host: str, port: int) -> None:
        self.api = api
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._closing = False
        super().__init__((host, port), self.handler_class)

    def track(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)
            if self._closing:
                _cut(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def close(self) -> None:
        """Stop serving, cut open connections, wait for their threads, close the listening socket."""
        self.shutdown()
        with self._connections_lock:
            self._closing = True
            for connection in self._connections:
                _cut(connection)
        self.server_close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that vanished mid-request is normal here (timeouts, lost answers): say nothing."""


def _cut(connection: socket.socket) -> None:
    """End a connection's exchanges so the thread reading it finishes."""
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)
