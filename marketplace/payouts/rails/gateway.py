"""The payment provider behind an interface: Stripe Connect through the official SDK's `StripeClient`.

Everything payouts ask of a provider is here: a connected account and its onboarding link per expert, a
transfer per payout item (with the item's stable idempotency key, rule 11), the transfers the provider
reports (reconciliation), and the verification of a webhook's signature. A provider's answer is sorted
into what submission needs to know:

- `Declined`: the provider refused the transfer for good (insufficient funds, an account that cannot
  receive transfers): no money moved, and the same key will get the same refusal.
- `Unreachable`: the outcome is unknown (a timeout, a lost response, a 5xx, a rate limit, a key still in
  use): the money may or may not have moved, so the item is sent again later with the same key, and the
  provider answers with the first outcome instead of paying twice.

The base address is configurable (`STRIPE_API_BASE`), so tests talk to the Stripe-compatible fake server
under `tests/` with the real SDK; `set_gateway` lets a test or benchmark install its own gateway.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import stripe
from flask import Flask, current_app
from flask_babel import lazy_gettext as _l

EXTENSION = "payouts.gateway"


class GatewayError(Exception):
    """The provider could not do what was asked; `code` is the provider's, when it gave one.

    Our own messages are lazy: `str(error)` puts them in the language of whoever reads them (the provider's
    own words stay as it sent them).
    """

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class Declined(GatewayError):
    """A definite refusal: nothing moved."""


class Unreachable(GatewayError):
    """No definite answer: the call may have been carried out; retry with the same idempotency key."""


class NotConfigured(GatewayError):
    """This server has no payment provider set up."""


class BadSignature(GatewayError):
    """A webhook whose signature does not verify: it is not the provider's."""


@dataclass(frozen=True)
class AccountState:
    account_id: str
    transfers_enabled: bool
    details_submitted: bool


@dataclass(frozen=True)
class Transfer:
    id: str
    amount_cents: int
    currency: str  # upper case, as the ledger writes it
    destination: str
    created: int  # Unix time
    reversed_cents: int = 0
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    created: int
    object: dict[str, Any]


class PaymentGateway(Protocol):
    def create_account(self, *, expert_id: int, email: str, country: str) -> AccountState: ...

    def account(self, account_id: str) -> AccountState: ...

    def onboarding_link(self, account_id: str, *, refresh_url: str, return_url: str) -> str: ...

    def transfer(self, *, destination: str, amount_cents: int, currency: str, idempotency_key: str,
                 metadata: dict[str, str]) -> Transfer: ...

    def transfers(self, *, since: dt.datetime) -> Iterator[Transfer]: ...

    def transfers_in_group(self, group: str) -> list[Transfer]: ...

    def parse_event(self, payload: bytes, signature: str | None) -> Event: ...


def _plain(found: Any) -> dict[str, Any]:
    """An SDK object as a plain dict (event payloads already are)."""
    return found.to_dict() if hasattr(found, "to_dict") else dict(found)


def account_state(account: Any) -> AccountState:
    account = _plain(account)
    capabilities = account.get("capabilities") or {}
    return AccountState(account["id"], capabilities.get("transfers") == "active",
                        bool(account.get("details_submitted")))


def _transfer(found: Any) -> Transfer:
    found = _plain(found)
    return Transfer(found["id"], int(found["amount"]), str(found["currency"]).upper(), found["destination"],
                    int(found["created"]), int(found.get("amount_reversed") or 0), dict(found.get("metadata") or {}))


class StripeGateway:
    """Stripe Connect through `StripeClient`; one HTTP session per app, closed with `close`."""

    def __init__(self, api_key: str, webhook_secret: str, *, api_base: str | None = None,
                 timeout: float = 20.0) -> None:
        if not api_key:
            raise NotConfigured(_l("Stripe is not set up on this server (STRIPE_API_KEY)."))
        self._http = stripe.RequestsClient(timeout=timeout)
        self._client = stripe.StripeClient(api_key, base_addresses={"api": api_base} if api_base else None,
                                           http_client=self._http, max_network_retries=0)
        self._webhook_secret = webhook_secret

    def close(self) -> None:
        self._http.close()

    def create_account(self, *, expert_id: int, email: str, country: str) -> AccountState:
        # The key makes a retried sign-up (a double tap, a crash before our commit) find the same account.
        account = self._call(self._client.v1.accounts.create, params={
            "type": "express", "country": country, "email": email,
            "capabilities": {"transfers": {"requested": True}}, "metadata": {"expert_id": str(expert_id)},
        }, options={"idempotency_key": f"expert-account-{expert_id}"})
        return account_state(account)

    def account(self, account_id: str) -> AccountState:
        return account_state(self._call(self._client.v1.accounts.retrieve, account_id))

    def onboarding_link(self, account_id: str, *, refresh_url: str, return_url: str) -> str:
        link = self._call(self._client.v1.account_links.create, params={
            "account": account_id, "type": "account_onboarding", "refresh_url": refresh_url,
            "return_url": return_url})
        return str(link.url)

    def transfer(self, *, destination: str, amount_cents: int, currency: str, idempotency_key: str,
                 metadata: dict[str, str]) -> Transfer:
        found = self._call(self._client.v1.transfers.create, params={
            "amount": amount_cents, "currency": currency.lower(), "destination": destination,
            "metadata": metadata, "transfer_group": metadata.get("batch", "")},
            options={"idempotency_key": idempotency_key})
        return _transfer(found)

    def transfers(self, *, since: dt.datetime) -> Iterator[Transfer]:
        """The provider's transfers created from `since` on, newest first."""
        start = int(since.timestamp())
        params: dict[str, Any] = {"limit": 100, "created": {"gte": start}}
        while True:
            page = self._call(self._client.v1.transfers.list, params=params)
            for found in page.data:
                if int(found["created"]) < start:
                    return
                yield _transfer(found)
            if not page.has_more or not page.data:
                return
            params = {**params, "starting_after": page.data[-1].id}

    def transfers_in_group(self, group: str) -> list[Transfer]:
        """Every transfer made with this `transfer_group` (a batch's), however old its idempotency keys."""
        found: list[Transfer] = []
        params: dict[str, Any] = {"limit": 100, "transfer_group": group}
        while True:
            page = self._call(self._client.v1.transfers.list, params=params)
            found += [_transfer(transfer) for transfer in page.data]
            if not page.has_more or not page.data:
                return found
            params = {**params, "starting_after": page.data[-1].id}

    def parse_event(self, payload: bytes, signature: str | None) -> Event:
        if not self._webhook_secret:
            raise NotConfigured(_l("No webhook secret is set up (STRIPE_WEBHOOK_SECRET)."))
        try:
            event = self._client.construct_event(payload, signature or "", self._webhook_secret)
        except (stripe.SignatureVerificationError, ValueError) as error:
            raise BadSignature(str(error)) from None
        found = event.data.object
        return Event(event.id, event.type, int(event.created), _plain(found))

    @staticmethod
    def _call(method: Any, *args: Any, **kwargs: Any) -> Any:
        """Call the SDK, sorting its errors into definite refusals and unknown outcomes."""
        try:
            return method(*args, **kwargs)
        except (stripe.APIConnectionError, stripe.RateLimitError) as error:
            raise Unreachable(error.user_message or str(error), error.code) from None
        except stripe.StripeError as error:
            status = error.http_status or 0
            if status >= 500 or status == 409 or error.code == "idempotency_key_in_use":
                raise Unreachable(error.user_message or str(error), error.code) from None
            if isinstance(error, stripe.AuthenticationError):
                raise NotConfigured(_l("Stripe refused the API key.")) from None
            raise Declined(error.user_message or str(error), error.code) from None


_lock = threading.Lock()


def gateway(app: Flask | None = None) -> PaymentGateway:
    """The app's payment gateway, made on first use from its settings; NotConfigured without a Stripe key."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    with _lock:
        found = app.extensions.get(EXTENSION)
        if found is None:
            config = app.config
            found = StripeGateway(config["STRIPE_API_KEY"], config["STRIPE_WEBHOOK_SECRET"],
                                  api_base=config["STRIPE_API_BASE"], timeout=config["STRIPE_TIMEOUT_SECONDS"])
            app.extensions[EXTENSION] = found
        return found


def set_gateway(app: Flask, found: PaymentGateway | None) -> None:
    """Install a gateway (tests, benchmarks), or forget the current one (closing a Stripe one)."""
    with _lock:
        previous = app.extensions.pop(EXTENSION, None)
        if isinstance(previous, StripeGateway) and previous is not found:
            previous.close()
        if found is not None:
            app.extensions[EXTENSION] = found


def configured(app: Flask | None = None) -> bool:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    return EXTENSION in app.extensions or bool(app.config["STRIPE_API_KEY"])
