"""Factories of accounts: users, all with one known password."""

from __future__ import annotations

import factory

from marketplace.accounts.models import Role, User
from marketplace.accounts.passwords import hashing_for
from tests.factories.base import Base

PASSWORD = "correct-horse-battery"
# With the test environment's parameters, as the apps under test hash (a log-in would hash it again otherwise).
_PASSWORD_HASH = hashing_for("test").hasher.hash(PASSWORD)


class UserFactory(Base):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    role = Role.EXPERT
    password_hash = _PASSWORD_HASH
