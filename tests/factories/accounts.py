"""Factories of accounts: users, all with one known password."""

from __future__ import annotations

import factory

from marketplace.accounts.models import Role, User
from marketplace.accounts.passwords import hash_password
from tests.factories.base import Base

PASSWORD = "correct-horse-battery"
_PASSWORD_HASH = hash_password(PASSWORD)  # argon2 is slow on purpose: hash once for all tests


class UserFactory(Base):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    role = Role.EXPERT
    password_hash = _PASSWORD_HASH
