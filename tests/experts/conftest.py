"""Fixtures for the experts tests: logged-in people, a brand with a quiz (the outbox is tests/conftest.py's)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from marketplace.accounts.models import Role, User
from marketplace.brands import quizzes
from marketplace.brands.models import BrandRole
from tests.conftest import log_in
from tests.factories import ApprovedExpertFactory, BrandFactory, MembershipFactory, UserFactory

QUESTIONS = [
    {"text": "Which bulb lasts longest?", "choices": [
        {"text": "LED", "is_correct": True}, {"text": "Halogen"}, {"text": "Incandescent"}]},
    {"text": "What does IP44 mean for a lamp?", "choices": [
        {"text": "Splash-proof", "is_correct": True}, {"text": "Dimmable"}]},
    {"text": "Which colour temperature is warm white?", "choices": [
        {"text": "2700 K", "is_correct": True}, {"text": "6500 K"}]},
    {"text": "What is a lumen?", "choices": [
        {"text": "A measure of light output", "is_correct": True}, {"text": "A power rating"}]},
]


@dataclass
class BrandWithQuiz:
    brand_id: int
    slug: str
    admin: User
    correct: dict[str, str]  # question text -> correct choice text


@pytest.fixture
def quiz_brand(session) -> BrandWithQuiz:
    """A brand with a 4-question quiz: pass mark 75 %, 2 attempts per 24 hours, manual approval."""
    brand = BrandFactory()
    admin = session.get(User, MembershipFactory(brand=brand, role=BrandRole.ADMIN).user_id)
    quizzes.set_quiz(admin, brand.id, questions=QUESTIONS, pass_mark_percent=75, max_attempts=2, cooldown_hours=24)
    correct = {q["text"]: next(c["text"] for c in q["choices"] if c.get("is_correct")) for q in QUESTIONS}
    return BrandWithQuiz(brand.id, brand.slug, admin, correct)


@pytest.fixture
def approved_expert(session) -> User:
    profile = ApprovedExpertFactory()
    return session.get(User, profile.user_id)


@pytest.fixture
def ops_user(session) -> User:
    return UserFactory(role=Role.OPS)


def logged_in(client, user: User) -> dict[str, str]:
    """Log `user` in on `client`; return headers for API writes."""
    return {"X-CSRFToken": log_in(client, user.email)}
