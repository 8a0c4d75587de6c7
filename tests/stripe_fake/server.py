"""FakeStripe: start it, point `stripe.StripeClient` at it, arm faults, inspect what happened."""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from tests.stripe_fake.api import Api, RequestRecord
from tests.stripe_fake.faults import Fault
from tests.stripe_fake.ledger import PLATFORM, Ledger
from tests.stripe_fake.transport import LoopbackServer
from tests.stripe_fake.webhooks import Delivery, WebhookSender

DEFAULT_BALANCE = {"eur": 10_000_000}
DEFAULT_WEBHOOK_SECRET = "whsec_fake_0123456789abcdef"


class FakeStripe:
    """A Stripe-compatible API on a loopback port, with Stripe's idempotency and injectable faults."""

    def __init__(self, *, balance: Mapping[str, int] | None = None, api_key: str | None = None,
                 webhook_url: str | None = None, webhook_secret: str = DEFAULT_WEBHOOK_SECRET,
                 webhook_retry_delays: tuple[float, ...] = (0.05, 0.2, 0.5), webhook_timeout: float = 2.0,
                 clock: Callable[[], float] = time.time, host: str = "127.0.0.1", port: int = 0) -> None:
        self._initial_balance = dict(balance or DEFAULT_BALANCE)
        self._address = (host, port)
        self._webhooks = WebhookSender(secret=webhook_secret, retry_delays=webhook_retry_delays,
                                       timeout=webhook_timeout)
        self._ledger = Ledger(balance=self._initial_balance, clock=clock, on_event=self._on_event)
        self._api = Api(self._ledger, api_key)
        self._lock = self._api.lock
        self._server: LoopbackServer | None = None
        self._thread: threading.Thread | None = None
        self.set_webhook_endpoint(webhook_url, webhook_secret)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeStripe:
        """Listen on the loopback port (a free one by default) and serve from a background thread."""
        if self._server is not None:
            raise RuntimeError("the fake Stripe server is already running")
        self._api.stopping.clear()
        self._server = LoopbackServer(self._api, *self._address)
        self._ledger.base_url = self.url
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01},
                                        name="stripe-fake", daemon=True)
        self._thread.start()
        self._webhooks.start()
        return self

    def stop(self) -> None:
        """Stop serving: held answers are abandoned, connections closed, threads joined."""
        if self._server is None:
            return
        self._api.stopping.set()
        self._server.close()
        assert self._thread is not None
        self._thread.join()
        self._webhooks.stop()
        self._server = self._thread = None

    def __enter__(self) -> FakeStripe:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the fake Stripe server is not running")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """The base address to give `StripeClient(base_addresses={"api": ...})`."""
        return f"http://127.0.0.1:{self.port}"

    # ------------------------------------------------------------------ controls

    def reset(self, balance: Mapping[str, int] | None = None) -> None:
        """Forget all objects, keys, faults, logs and deliveries; ids keep increasing."""
        self._webhooks.wait_idle(self._webhooks.timeout * 4)
        with self._lock:
            self._ledger.reset(dict(balance or self._initial_balance))
            self._api.keys.clear()
            self._api.faults.clear()
            self._api.log.clear()
            self._api.internal_errors.clear()
        self._webhooks.forget()

    def set_balance(self, amount: int, currency: str = "eur") -> None:
        """Set the platform's available balance in one currency (minor units)."""
        if not isinstance(amount, int):
            raise TypeError("amounts are integer minor units")
        with self._lock:
            self._ledger.balance_of(PLATFORM)[currency.lower()] = amount

    def complete_onboarding(self, account_id: str) -> dict[str, Any]:
        """Activate the account's capabilities and payouts; emits `account.updated`."""
        with self._lock:
            return copy.deepcopy(self._ledger.complete_onboarding(account_id))

    def restrict_account(self, account_id: str) -> dict[str, Any]:
        """Make transfers to the account fail again; emits `account.updated`."""
        with self._lock:
            return copy.deepcopy(self._ledger.restrict_account(account_id))

    def expire_idempotency_keys(self) -> None:
        """Forget every idempotency key, as Stripe does after 24 hours: a key sent again then acts anew."""
        with self._lock:
            self._api.keys.clear()

    def fail_next(self, n: int = 1, status: int = 500, *, method: str | None = None,
                  path: str | None = None) -> Fault:
        """Answer the next `n` matching requests with `status` and do nothing; nothing is kept for their key."""
        return self._arm(Fault("fail", n, method, path, status=status))

    def time_out_next(self, n: int = 1, seconds: float = 1.0, *, effect: str = "before",
                      method: str | None = None, path: str | None = None) -> Fault:
        """Hold the answer of the next `n` matching requests for `seconds` (longer than the client's timeout).

        `effect="before"`: the request takes effect (and its answer is kept for its key) before the wait;
        `"after"`: it takes effect once the wait is over, the key being in use meanwhile (a retry gets 409);
        `"none"`: it never takes effect and the connection is closed after the wait.
        """
        return self._arm(Fault("timeout", n, method, path, seconds=seconds, effect=effect))

    def lose_response_next(self, n: int = 1, *, answer: str = "close", method: str | None = None,
                           path: str | None = None) -> Fault:
        """Let the next `n` matching requests take effect (answer kept for their key), then lose the answer.

        `answer="close"` closes the connection without a word; `answer="500"` sends a 500 api_error instead.
        """
        return self._arm(Fault("lose", n, method, path, answer=answer))

    def clear_faults(self) -> None:
        with self._lock:
            self._api.faults.clear()

    def set_webhook_endpoint(self, url: str | None, secret: str | None = None) -> None:
        """Send every later event to `url`, signed with `secret` (`whsec_...`); None stops sending."""
        self._webhooks.url = url
        if secret is not None:
            self._webhooks.secret = secret
        self._ledger.webhook_endpoints = 1 if url else 0

    @property
    def webhook_secret(self) -> str:
        return self._webhooks.secret

    def redeliver(self, event_id: str) -> None:
        """Deliver an event again, as Stripe sometimes does: same id, fresh signature."""
        self._webhooks.send(event_id, self.event(event_id)["type"], self._payload(event_id))

    def deliver_with_bad_signature(self, event_id: str) -> None:
        """Deliver an event signed with another secret; `construct_event` must refuse it."""
        self._webhooks.send(event_id, self.event(event_id)["type"], self._payload(event_id), bad_signature=True)

    def wait_for_webhooks(self, timeout: float = 5.0) -> bool:
        """Wait until every queued delivery succeeded or was given up; False on timeout."""
        return self._webhooks.wait_idle(timeout)

    # ------------------------------------------------------------------ inspection (copies)

    def transfers(self) -> list[dict[str, Any]]:
        """Every transfer, oldest first."""
        with self._lock:
            return copy.deepcopy(list(self._ledger.transfers.values()))

    def transfers_to(self, destination: str) -> list[dict[str, Any]]:
        """Every transfer to one connected account, oldest first."""
        with self._lock:
            return copy.deepcopy([t for t in self._ledger.transfers.values() if t["destination"] == destination])

    def counts(self) -> dict[str, int]:
        """How many objects, requests and kept idempotency keys there are: cheap, for benchmarks."""
        with self._lock:
            return {"accounts": len(self._ledger.accounts), "transfers": len(self._ledger.transfers),
                    "reversals": len(self._ledger.reversals), "events": len(self._ledger.events),
                    "requests": len(self._api.log), "idempotency_keys": len(self._api.keys)}

    def transfer(self, transfer_id: str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._ledger.transfer(transfer_id))

    def reversals(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self._ledger.reversals.values()))

    def accounts(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self._ledger.accounts.values()))

    def account(self, account_id: str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._ledger.account(account_id))

    def events(self, type: str | None = None) -> list[dict[str, Any]]:  # noqa: A002 - Stripe's name
        """Every event (of one type), oldest first."""
        with self._lock:
            return copy.deepcopy([e for e in self._ledger.events.values() if type is None or e["type"] == type])

    def event(self, event_id: str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._ledger.event(event_id))

    def balance(self, currency: str = "eur", account: str | None = None) -> int:
        """The available balance of the platform, or of a connected account, in minor units."""
        with self._lock:
            return self._ledger.balance_of(account or PLATFORM).get(currency.lower(), 0)

    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._api.log)

    @property
    def internal_errors(self) -> list[str]:
        """Tracebacks of the fake's own bugs (answered as 500s); a test can assert there are none."""
        return list(self._api.internal_errors)

    def deliveries(self) -> list[Delivery]:
        """Every webhook delivery attempt, in order."""
        return self._webhooks.deliveries()

    def _arm(self, fault: Fault) -> Fault:
        with self._lock:
            return self._api.faults.arm(fault)

    def _on_event(self, event: dict[str, Any], payload: str) -> None:
        self._webhooks.send(event["id"], event["type"], payload)

    def _payload(self, event_id: str) -> str:
        return json.dumps(self.event(event_id), indent=2)
