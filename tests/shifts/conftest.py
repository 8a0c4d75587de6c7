"""Fixtures for the shifts tests: a brand with an admin, an expert it approved, slots at chosen times."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from marketplace.accounts.models import User
from marketplace.brands.models import Brand, BrandRole
from marketplace.database import utcnow
from marketplace.experts.models import ExpertProfile
from marketplace.shifts.models import ShiftSlot
from tests.conftest import log_in
from tests.factories import BrandFactory, EnrolmentFactory, MembershipFactory, ShiftSlotFactory


@dataclass
class Scene:
    brand: Brand
    admin: User
    expert: User
    profile: ExpertProfile

    @property
    def expert_id(self) -> int:
        return self.profile.id


@pytest.fixture
def scene(session) -> Scene:
    """A brand (Paris time), one of its admins, and an approved expert the brand approved; committed.

    Committed because a refused booking rolls its transaction back, which would take uncommitted
    test data with it.
    """
    brand = BrandFactory(name="Lumière", timezone="Europe/Paris", currency="EUR")
    admin = session.get(User, MembershipFactory(brand=brand, role=BrandRole.ADMIN).user_id)
    enrolment = EnrolmentFactory(brand_id=brand.id)
    expert = session.get(User, enrolment.expert.user_id)
    session.commit()
    return Scene(brand, admin, expert, enrolment.expert)


def slot_at(brand_id: int, hours_from_now: float, *, length_hours: float = 2, headcount: int = 2,
            **fields) -> ShiftSlot:
    """A slot starting `hours_from_now` from now (whole minutes)."""
    start = (utcnow() + dt.timedelta(hours=hours_from_now)).replace(second=0, microsecond=0)
    return ShiftSlotFactory(brand_id=brand_id, starts_at=start, ends_at=start + dt.timedelta(hours=length_hours),
                            headcount=headcount, **fields)


def logged_in(client, user: User) -> dict[str, str]:
    """Log `user` in on `client`; return headers for API writes."""
    return {"X-CSRFToken": log_in(client, user.email)}
