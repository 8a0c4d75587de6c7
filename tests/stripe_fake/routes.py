"""Stripe's URLs, each mapped to what the ledger does for it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tests.stripe_fake import params as p
from tests.stripe_fake.ledger import Caller, Ledger

Action = Callable[..., dict[str, Any]]
_ID = "([A-Za-z0-9_]+)"
_LIST = {"limit", "starting_after", "ending_before", "created", "expand"}


def _retrieve(find: Callable[..., dict[str, Any]]) -> Action:
    def action(ledger: Ledger, caller: Caller, params: dict[str, Any], *ids: str) -> dict[str, Any]:
        p.reject_unknown(params, {"expand"})
        return find(ledger, *ids)

    return action


def _list_accounts(ledger: Ledger, caller: Caller, params: dict[str, Any]) -> dict[str, Any]:
    p.reject_unknown(params, _LIST)
    return ledger.page(ledger.accounts.values(), params, "/v1/accounts")


_TABLE: list[tuple[str, str, Action]] = [
    ("POST", "/v1/accounts", lambda ledger, caller, params: ledger.create_account(params, caller)),
    ("GET", "/v1/accounts", _list_accounts),
    ("GET", f"/v1/accounts/{_ID}", _retrieve(Ledger.account)),
    ("POST", f"/v1/accounts/{_ID}", lambda ledger, caller, params, account: ledger.update_account(account, params,
                                                                                                  caller)),
    ("POST", "/v1/account_links", lambda ledger, caller, params: ledger.create_account_link(params, caller)),
    ("POST", "/v1/transfers", lambda ledger, caller, params: ledger.create_transfer(params, caller)),
    ("GET", "/v1/transfers", lambda ledger, caller, params: ledger.list_transfers(params)),
    ("GET", f"/v1/transfers/{_ID}", _retrieve(Ledger.transfer)),
    ("POST", f"/v1/transfers/{_ID}", lambda ledger, caller, params, transfer: ledger.update_transfer(
        transfer, params, caller)),
    ("POST", f"/v1/transfers/{_ID}/reversals", lambda ledger, caller, params, transfer: ledger.create_reversal(
        transfer, params, caller)),
    ("GET", f"/v1/transfers/{_ID}/reversals", lambda ledger, caller, params, transfer: ledger.list_reversals(
        transfer, params)),
    ("GET", f"/v1/transfers/{_ID}/reversals/{_ID}", _retrieve(Ledger.reversal)),
    ("GET", "/v1/balance", lambda ledger, caller, params: ledger.balance(params, caller)),
    ("GET", "/v1/events", lambda ledger, caller, params: ledger.list_events(params, caller)),
    ("GET", f"/v1/events/{_ID}", _retrieve(Ledger.event)),
]
ROUTES = [(method, re.compile(pattern), action) for method, pattern, action in _TABLE]


def find(method: str, path: str) -> tuple[Action, tuple[str, ...]] | None:
    """Return the action for a request and the ids in its URL, or None for a URL Stripe does not know."""
    for route_method, pattern, action in ROUTES:
        if route_method == method and (match := pattern.fullmatch(path)):
            return action, match.groups()
    return None
