"""Factories of brands: a brand with its rate card, and its members."""

from __future__ import annotations

import datetime as dt

import factory

from marketplace.accounts.models import Role
from marketplace.brands.models import Brand, BrandMembership, BrandRole, RateCard
from marketplace.database import db
from tests.factories.accounts import UserFactory
from tests.factories.base import Base


class BrandFactory(Base):
    class Meta:
        model = Brand

    name = factory.Sequence(lambda n: f"Brand {n}")
    slug = factory.Sequence(lambda n: f"brand-{n}")
    timezone = "Europe/Paris"
    currency = "EUR"

    @factory.post_generation
    def price_cents(brand, create, extracted, **kwargs):  # noqa: N805 - factory_boy passes the object
        """Every brand has a rate card, in effect since long ago; `price_cents=` sets its price (200)."""
        db.session.add(RateCard(brand_id=brand.id, effective_from=dt.date(2000, 1, 1),
                                price_cents=200 if extracted is None else extracted, commission_bps=2000,
                                bonus_rules=[]))
        db.session.flush()


class MembershipFactory(Base):
    class Meta:
        model = BrandMembership

    brand = factory.SubFactory(BrandFactory)
    user_id = factory.LazyFunction(lambda: UserFactory(role=Role.BRAND).id)
    role = BrandRole.ADMIN
