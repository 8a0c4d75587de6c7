"""A brand, one of its experts and a chat they answered that the visitor rated 1 of 5."""

from __future__ import annotations

import pytest

from marketplace.accounts.models import User
from marketplace.brands.models import Brand
from marketplace.experts.models import ExpertProfile
from marketplace.routing.models import Conversation
from tests.conftest import log_in
from tests.factories import ConversationFactory, EnrolmentFactory


def expert_of(brand: Brand) -> ExpertProfile:
    return EnrolmentFactory(brand_id=brand.id).expert


def user_of(session, expert: ExpertProfile) -> User:
    return session.get(User, expert.user_id)


def rated_chat(session, brand: Brand, expert: ExpertProfile, rating: int | None = 1, **fields) -> Conversation:
    chat = ConversationFactory(brand=brand, expert=expert, rating=rating,
                               rating_comment="Nul, il ne savait rien" if rating else None, **fields)
    session.commit()
    return chat


@pytest.fixture
def expert(session, brand) -> ExpertProfile:
    profile = expert_of(brand)
    session.commit()
    return profile


@pytest.fixture
def chat(session, brand, expert) -> Conversation:
    return rated_chat(session, brand, expert)


def switch_to(client, csrf: str, user: User) -> str:
    """Log out whoever is logged in (their CSRF token), then log `user` in; the new CSRF token."""
    client.post("/logout", data={"csrf_token": csrf})
    return log_in(client, user.email)
