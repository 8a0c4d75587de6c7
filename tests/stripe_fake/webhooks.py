"""Signed webhook deliveries from a background thread, retried a few times then dropped."""

from __future__ import annotations

import hmac
import http.client
import threading
import time
from collections import deque
from dataclasses import dataclass
from hashlib import sha256
from urllib.parse import urlsplit

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


def signature_header(payload: str, secret: str, timestamp: int) -> str:
    """Return `Stripe-Signature` as Stripe writes it: `t=<ts>,v1=<hex HMAC-SHA256 of "<ts>.<payload>">`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass(frozen=True)
class Delivery:
    """One attempt to deliver one event: the endpoint's status, or the error that stopped it."""

    event_id: str
    event_type: str
    attempt: int
    status: int | None
    error: str | None
    bad_signature: bool

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class _Parcel:
    event_id: str
    event_type: str
    payload: str
    bad_signature: bool


class WebhookSender:
    """Post events, in order, to one endpoint; a failed delivery is retried after each of `retry_delays`."""

    def __init__(self, *, secret: str, retry_delays: tuple[float, ...] = (0.05, 0.2, 0.5),
                 timeout: float = 2.0) -> None:
        self.url: str | None = None
        self.secret = secret
        self.retry_delays = retry_delays
        self.timeout = timeout
        self._parcels: deque[_Parcel] = deque()
        self._deliveries: list[Delivery] = []
        self._pending = 0
        self._condition = threading.Condition()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="stripe-fake-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop at once: an attempt under way ends within `timeout`; waiting parcels are dropped."""
        self._stopping.set()
        with self._condition:
            self._parcels.clear()
            self._pending = 0
            self._condition.notify_all()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def send(self, event_id: str, event_type: str, payload: str, *, bad_signature: bool = False) -> None:
        """Queue one delivery; nothing happens when no endpoint is configured at sending time."""
        with self._condition:
            self._parcels.append(_Parcel(event_id, event_type, payload, bad_signature))
            self._pending += 1
            self._condition.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every queued delivery succeeded or was dropped; False if `timeout` passed first."""
        with self._condition:
            return self._condition.wait_for(lambda: self._pending == 0, timeout)

    def deliveries(self) -> list[Delivery]:
        with self._condition:
            return list(self._deliveries)

    def forget(self) -> None:
        with self._condition:
            self._deliveries.clear()

    def _run(self) -> None:
        while True:
            with self._condition:
                self._condition.wait_for(lambda: self._parcels or self._stopping.is_set())
                if self._stopping.is_set():
                    return
                parcel = self._parcels.popleft()
            try:
                self._deliver(parcel)
            finally:
                with self._condition:
                    self._pending = max(0, self._pending - 1)
                    self._condition.notify_all()

    def _deliver(self, parcel: _Parcel) -> None:
        for attempt in range(1, len(self.retry_delays) + 2):
            url, secret = self.url, self.secret
            if url is None or self._stopping.is_set():
                return
            if parcel.bad_signature:
                secret = secret + "-not-the-endpoint-secret"
            status, error = self._post(url, parcel.payload, signature_header(parcel.payload, secret,
                                                                             int(time.time())))
            delivery = Delivery(parcel.event_id, parcel.event_type, attempt, status, error, parcel.bad_signature)
            with self._condition:
                self._deliveries.append(delivery)
            if delivery.ok or attempt > len(self.retry_delays):
                return
            if self._stopping.wait(self.retry_delays[attempt - 1]):
                return

    def _post(self, url: str, payload: str, signature: str) -> tuple[int | None, str | None]:
        parts = urlsplit(url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        connection = connection_class(parts.hostname or "127.0.0.1", parts.port, timeout=self.timeout)
        try:
            connection.request("POST", path, body=payload.encode(), headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": USER_AGENT,
                "Stripe-Signature": signature,
                "Cache-Control": "no-cache",
            })
            response = connection.getresponse()
            response.read()
            return response.status, None
        except (OSError, http.client.HTTPException) as exc:
            return None, f"{type(exc).__name__}: {exc}"
        finally:
            connection.close()
