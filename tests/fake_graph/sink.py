"""A webhook endpoint on loopback that keeps what Meta (the fake) posts: for testing the fake and the clients'
parsing without the app. Answers 200 unless told otherwise."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int


class _Handler(BaseHTTPRequestHandler):
    server: _SinkServer

    def do_POST(self) -> None:  # noqa: N802 - the name http.server dispatches to
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status = self.server.sink.take(self.command, self.path, dict(self.headers.items()), body)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:  # noqa: N802
        """Meta's verification request: the challenge back when the verify token is the sink's, else 403."""
        query = parse_qs(urlsplit(self.path).query)
        token, challenge = query.get("hub.verify_token", [""])[0], query.get("hub.challenge", [""])[0]
        good = query.get("hub.mode", [""])[0] == "subscribe" and token == self.server.sink.verify_token
        body = challenge.encode() if good else b""
        self.send_response(200 if good else 403)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        """Stay quiet."""


class _SinkServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, sink: WebhookSink) -> None:
        self.sink = sink
        super().__init__(("127.0.0.1", 0), _Handler)


class WebhookSink:
    def __init__(self, verify_token: str = "sink-verify-token") -> None:
        self.verify_token = verify_token
        self._received: list[Received] = []
        self._answers: list[int] = []
        self._condition = threading.Condition()
        self._server: _SinkServer | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> WebhookSink:
        self._server = _SinkServer(self)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01},
                                        name="webhook-sink", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/webhook"

    def answer_next(self, status: int, n: int = 1) -> None:
        """Answer the next `n` posts with `status` (then 200 again)."""
        with self._condition:
            self._answers.extend([status] * n)

    def take(self, method: str, path: str, headers: dict[str, str], body: bytes) -> int:
        with self._condition:
            status = self._answers.pop(0) if self._answers else 200
            self._received.append(Received(method, path, headers, body, status))
            self._condition.notify_all()
            return status

    def received(self) -> list[Received]:
        with self._condition:
            return list(self._received)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        """Wait until `count` posts arrived; all of them (fewer on timeout)."""
        with self._condition:
            self._condition.wait_for(lambda: len(self._received) >= count, timeout)
            return list(self._received)
