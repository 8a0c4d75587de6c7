"""Fixtures shared by the payouts tests."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.brands.models import Brand, RateCard
from tests.factories import BrandFactory


@pytest.fixture
def shop(session) -> Brand:
    """A brand paying 2.00 a chat at 20 % commission, with a bonus of 0.50 for a rating of 4 or more."""
    brand = BrandFactory(name="Atelier", price_cents=200)
    card = session.scalar(sa.select(RateCard).where(RateCard.brand_id == brand.id))
    card.bonus_rules = [{"kind": "rating_at_least", "value": 4, "bonus_cents": 50}]
    session.commit()
    return brand
