"""The fake's in-memory Stripe, all resources together."""

from __future__ import annotations

from tests.stripe_fake.accounts import Accounts
from tests.stripe_fake.book import API_VERSION, PLATFORM, Caller
from tests.stripe_fake.transfers import Transfers

__all__ = ["API_VERSION", "PLATFORM", "Caller", "Ledger"]


class Ledger(Accounts, Transfers):
    """Accounts, links, transfers, reversals, balances and events, shaped like Stripe's JSON."""
