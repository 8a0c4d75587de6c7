"""The core of the fake's in-memory Stripe: ids, balances, events and list pages."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from tests.stripe_fake import params as p

PLATFORM = "platform"
API_VERSION = "2026-10-28.endive"


@dataclass(frozen=True)
class Caller:
    """Who asks: the connected account it acts for (`Stripe-Account`), its request id and idempotency key."""

    account: str | None = None
    request_id: str | None = None
    idempotency_key: str | None = None


class Book:
    """The objects (as Stripe's JSON), balances and events, with no HTTP and no locking."""

    def __init__(self, *, balance: dict[str, int], clock: Callable[[], float],
                 on_event: Callable[[dict[str, Any], str], None]) -> None:
        self._clock = clock
        self._on_event = on_event
        self._sequence = 0
        self.webhook_endpoints = 0
        self.base_url = ""
        self.reset(balance)

    def reset(self, balance: dict[str, int]) -> None:
        """Forget every object; the platform holds `balance` (currency -> minor units) again."""
        self.accounts: dict[str, dict[str, Any]] = {}
        self.transfers: dict[str, dict[str, Any]] = {}
        self.reversals: dict[str, dict[str, Any]] = {}
        self.events: dict[str, dict[str, Any]] = {}
        self.links: dict[str, dict[str, Any]] = {}
        self.balances: dict[str, dict[str, int]] = {PLATFORM: {c.lower(): int(a) for c, a in balance.items()}}

    # ------------------------------------------------------------------ helpers

    def new_id(self, prefix: str) -> str:
        """Return the next id: deterministic, unique for the life of the server."""
        self._sequence += 1
        return f"{prefix}_{self._sequence:016d}"

    def now(self) -> int:
        return int(self._clock())

    def emit(self, type_: str, obj: dict[str, Any], caller: Caller | None = None, *,
             previous: dict[str, Any] | None = None, account: str | None = None) -> dict[str, Any]:
        """Record an event holding a snapshot of `obj` and hand it to the webhook sender."""
        data: dict[str, Any] = {"object": obj}
        if previous is not None:
            data["previous_attributes"] = previous
        event = {
            "id": self.new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": self.now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": self.webhook_endpoints,
            "request": {"id": caller.request_id if caller else None,
                        "idempotency_key": caller.idempotency_key if caller else None},
            "type": type_,
        }
        if account:
            event["account"] = account
        payload = json.dumps(event, indent=2)
        snapshot = json.loads(payload)
        self.events[snapshot["id"]] = snapshot
        self._on_event(snapshot, payload)
        return snapshot

    def page(self, objects: Iterable[dict[str, Any]], params: dict[str, Any], url: str,
             keep: Callable[[dict[str, Any]], bool] = lambda _: True) -> dict[str, Any]:
        """Answer a list request, newest first, with `limit`, `starting_after` and `ending_before`."""
        limit = p.integer(params, "limit", minimum=1, maximum=100, default=10)
        after = p.string(params, "starting_after")
        before = p.string(params, "ending_before")
        if after and before:
            raise p.invalid("You may only specify one of these parameters: ending_before, starting_after.",
                            "starting_after")
        chosen = [obj for obj in reversed(list(objects)) if keep(obj)]
        positions = {obj["id"]: index for index, obj in enumerate(chosen)}
        if after or before:
            cursor = after or before
            if cursor not in positions:
                raise p.StripeError(400, f"No such object: '{cursor}'", code="resource_missing",
                                    param="starting_after" if after else "ending_before", stored=False)
        if after:
            start = positions[after] + 1
            data, has_more = chosen[start:start + limit], len(chosen) > start + limit
        elif before:
            start = max(0, positions[before] - limit)
            data, has_more = chosen[start:positions[before]], start > 0
        else:
            data, has_more = chosen[:limit], len(chosen) > limit
        return {"object": "list", "data": data, "has_more": has_more, "url": url}

    def balance_of(self, owner: str) -> dict[str, int]:
        return self.balances.setdefault(owner, {})

    def move(self, source: str, target: str, currency: str, amount: int) -> None:
        from_balance, to_balance = self.balance_of(source), self.balance_of(target)
        from_balance[currency] = from_balance.get(currency, 0) - amount
        to_balance[currency] = to_balance.get(currency, 0) + amount

    # ------------------------------------------------------------------ balance and events

    def balance(self, params: dict[str, Any], caller: Caller) -> dict[str, Any]:
        p.reject_unknown(params, {"expand"})
        owner = caller.account or PLATFORM
        amounts = self.balance_of(owner) or {"eur": 0}
        return {
            "object": "balance",
            "available": [{"amount": amount, "currency": currency, "source_types": {"card": amount}}
                          for currency, amount in sorted(amounts.items())],
            "pending": [{"amount": 0, "currency": currency, "source_types": {"card": 0}}
                        for currency in sorted(amounts)],
            "livemode": False,
        }

    def event(self, event_id: str) -> dict[str, Any]:
        try:
            return self.events[event_id]
        except KeyError:
            raise p.missing("event", event_id) from None

    def list_events(self, params: dict[str, Any], caller: Caller) -> dict[str, Any]:
        p.reject_unknown(params, {"limit", "starting_after", "ending_before", "type", "types", "created",
                                  "delivery_success", "expand"})
        wanted = p.string(params, "type")
        types = params.get("types")
        if types is not None and not isinstance(types, list):
            raise p.invalid("Invalid array: types", "types")
        return self.page(self.events.values(), params, "/v1/events",
                         lambda e: _type_matches(e["type"], wanted, types)
                         and (caller.account is None or e.get("account") == caller.account))


def _type_matches(type_: str, wanted: str | None, types: list[str] | None) -> bool:
    if wanted is not None:
        if wanted.endswith("*"):
            return type_.startswith(wanted[:-1])
        return type_ == wanted
    return types is None or type_ in types
