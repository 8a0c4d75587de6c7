"""Fixtures shared by the payouts tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import Role, User
from marketplace.brands.models import Brand, RateCard
from marketplace.payouts.rails import gateway as gateways
from tests.factories import BrandFactory, UserFactory
from tests.payouts.money import TIMEOUT
from tests.stripe_fake import DEFAULT_WEBHOOK_SECRET, FakeStripe


@pytest.fixture
def shop(session) -> Brand:
    """A brand paying 2.00 a chat at 20 % commission, with a bonus of 0.50 for a rating of 4 or more."""
    brand = BrandFactory(name="Atelier", price_cents=200)
    card = session.scalar(sa.select(RateCard).where(RateCard.brand_id == brand.id))
    card.bonus_rules = [{"kind": "rating_at_least", "value": 4, "bonus_cents": 50}]
    session.commit()
    return brand


@pytest.fixture
def fake(app) -> Iterator[FakeStripe]:
    """A Stripe-compatible server on loopback, the app's gateway pointed at it (the real SDK)."""
    with FakeStripe(balance={"eur": 10_000_000}) as server:
        provider = gateways.StripeGateway("sk_test_payouts", DEFAULT_WEBHOOK_SECRET, api_base=server.url,
                                          timeout=TIMEOUT)
        gateways.set_gateway(app, provider)
        try:
            yield server
        finally:
            gateways.set_gateway(app, None)


@pytest.fixture
def finance(session) -> tuple[User, User]:
    """Two finance users: one drafts, the other approves."""
    first, second = UserFactory(role=Role.FINANCE, full_name="Fanny Finance"), UserFactory(role=Role.FINANCE)
    session.commit()
    return first, second
