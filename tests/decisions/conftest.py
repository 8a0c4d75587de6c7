"""Fixtures of the decisions tests: an expert with decisions about them, and the staff who review them."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from marketplace.accounts.models import Role, User
from marketplace.brands.models import Brand
from marketplace.decisions import services as decisions
from marketplace.decisions.models import ExpertDecision
from marketplace.experts.models import ExpertProfile
from tests.conftest import log_in
from tests.factories import BrandFactory, EnrolmentFactory, UserFactory


@dataclass
class Person:
    user: User
    csrf: str = ""


@pytest.fixture
def shop(session) -> Brand:
    brand = BrandFactory(name="Atelier", offer_timeout_seconds=45, expert_concurrency=2)
    session.commit()
    return brand


@pytest.fixture
def expert(session, shop) -> ExpertProfile:
    profile = EnrolmentFactory(brand_id=shop.id).expert
    session.commit()
    return profile


def expert_user(session, profile: ExpertProfile) -> User:
    return session.get(User, profile.user_id)


def decided(session, profile: ExpertProfile, reason: str = "missed_offers", brand: Brand | None = None,
            **params) -> ExpertDecision:
    """A decision recorded as the system records them: in a transaction of its own."""
    defaults = {"missed_offers": {"missed_offers": 3, "limit": 3},
                "fraud_check": {"checks": ["short_chat"], "hold_days": 14}}.get(reason, {})
    decision = decisions.record(profile.id, reason, {**defaults, **params}, brand_id=brand.id if brand else None)
    session.commit()
    return decision


def staff(client, session, role: Role) -> Person:
    user = UserFactory(role=role)
    session.commit()
    return Person(user, log_in(client, user.email))
