"""Signed webhook deliveries to the app: now (inbound messages, statuses asked for) or from a background thread
(the statuses that follow each send), retried after a non-2xx answer or no answer, then given up."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import threading
from collections import deque
from dataclasses import dataclass
from urllib.parse import urlsplit

from marketplace.routing.channels.signatures import SIGNATURE_HEADER, sign

USER_AGENT = "facebookexternalua"
SIGNATURES = ("good", "bad", "none")


@dataclass(frozen=True)
class Parcel:
    """One body to deliver to one URL; `ids` names the messages (or statuses' messages) it carries."""

    url: str
    body: bytes
    secret: str
    kind: str  # "message", "status" or "raw"
    ids: tuple[str, ...]
    signature: str = "good"  # "bad": signed with another secret; "none": no signature header


@dataclass(frozen=True)
class Delivery:
    """One attempt to deliver one parcel: the endpoint's status, or the error that stopped it."""

    url: str
    kind: str
    ids: tuple[str, ...]
    attempt: int
    status: int | None
    error: str | None
    signature: str
    body: bytes

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def headers_for(body: bytes, secret: str, signature: str = "good") -> dict[str, str]:
    """Meta's headers: `X-Hub-Signature-256` (and the older SHA-1 `X-Hub-Signature`) over the exact body."""
    if signature not in SIGNATURES:
        raise ValueError(f"signature must be one of {SIGNATURES}")
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    if signature != "none":
        key = secret if signature == "good" else secret + "-not-the-app-secret"
        headers[SIGNATURE_HEADER] = sign(key, body)
        headers["X-Hub-Signature"] = "sha1=" + hmac.new(key.encode(), body, hashlib.sha1).hexdigest()
    return headers


class WebhookSender:
    def __init__(self, *, retry_delays: tuple[float, ...] = (0.05, 0.2, 0.5), timeout: float = 5.0) -> None:
        self.retry_delays = retry_delays
        self.timeout = timeout
        self._parcels: deque[Parcel] = deque()
        self._deliveries: list[Delivery] = []
        self._pending = 0
        self._condition = threading.Condition()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="fake-graph-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop at once: an attempt under way ends within `timeout`; queued parcels are dropped."""
        self._stopping.set()
        with self._condition:
            self._parcels.clear()
            self._pending = 0
            self._condition.notify_all()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def deliver(self, parcel: Parcel, *, retry: bool = True) -> list[Delivery]:
        """Deliver now, in the caller's thread; retried after a failure unless `retry` is False."""
        attempts = []
        for attempt in range(1, (len(self.retry_delays) if retry else 0) + 2):
            status, error = self._post(parcel)
            delivery = Delivery(parcel.url, parcel.kind, parcel.ids, attempt, status, error, parcel.signature,
                                parcel.body)
            attempts.append(delivery)
            with self._condition:
                self._deliveries.append(delivery)
            if delivery.ok or attempt > len(self.retry_delays) or not retry:
                break
            if self._stopping.wait(self.retry_delays[attempt - 1]):
                break
        return attempts

    def enqueue(self, parcel: Parcel) -> None:
        """Deliver from the background thread, after the parcels queued before it."""
        with self._condition:
            self._parcels.append(parcel)
            self._pending += 1
            self._condition.notify_all()

    def hold(self) -> None:
        """Count a parcel about to be queued (a send answered, its statuses not queued yet) as pending."""
        with self._condition:
            self._pending += 1

    def release(self) -> None:
        with self._condition:
            self._pending = max(0, self._pending - 1)
            self._condition.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every queued parcel was delivered or given up; False if `timeout` passed first."""
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
                self.deliver(parcel)
            finally:
                with self._condition:
                    self._pending = max(0, self._pending - 1)
                    self._condition.notify_all()

    def _post(self, parcel: Parcel) -> tuple[int | None, str | None]:
        parts = urlsplit(parcel.url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        connection = connection_class(parts.hostname or "127.0.0.1", parts.port, timeout=self.timeout)
        try:
            connection.request("POST", path, body=parcel.body,
                               headers=headers_for(parcel.body, parcel.secret, parcel.signature))
            response = connection.getresponse()
            response.read()
            return response.status, None
        except (OSError, http.client.HTTPException) as exc:
            return None, f"{type(exc).__name__}: {exc}"
        finally:
            connection.close()
