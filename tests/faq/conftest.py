"""A brand with people of each kind, clients speaking for them, and each process's indexes of the bases cleared.

The indexes (faq/answering.py) are kept per brand id and version: a rolled-back test can leave one for an id and
version the next test's brand has again, so each test starts without any.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from marketplace.accounts.models import User
from marketplace.brands import services as brands
from marketplace.brands.models import Brand, BrandRole
from marketplace.faq import answering
from marketplace.faq.models import FaqEntry, FaqSettings
from tests.conftest import FreshGlobalsClient, log_in
from tests.factories import BrandFactory, MembershipFactory


@pytest.fixture(autouse=True)
def fresh_indexes() -> Iterator[None]:
    answering._indexes.clear()
    yield
    answering._indexes.clear()


@pytest.fixture
def brand(session) -> Brand:
    brand = BrandFactory(name="Lumière")
    session.commit()
    return brand


@pytest.fixture
def other_brand(session) -> Brand:
    brand = BrandFactory(name="Vélo")
    session.commit()
    return brand


def member_of(session, brand: Brand, role: BrandRole = BrandRole.ADMIN) -> User:
    """A member of the brand (admin unless told); committed."""
    user = session.get(User, MembershipFactory(brand=brand, role=role).user_id)
    session.commit()
    return user


@dataclass
class Caller:
    """A test client logged in as someone, sending their CSRF token with each write."""

    client: FlaskClient
    headers: dict[str, str]

    def open(self, method: str, path: str, **kwargs):
        return self.client.open(path, method=method, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs)

    def get(self, path: str, **kwargs):
        return self.open("GET", path, **kwargs)

    def post(self, path: str, **kwargs):
        return self.open("POST", path, **kwargs)

    def put(self, path: str, **kwargs):
        return self.open("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs):
        return self.open("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.open("DELETE", path, **kwargs)


def _client(app) -> FlaskClient:
    app.test_client_class = FreshGlobalsClient  # each request starts with an empty `g`, as the `client` fixture's
    return app.test_client()


def caller(app, user: User) -> Caller:
    client = _client(app)
    return Caller(client, {"X-CSRFToken": log_in(client, user.email)})


def token_caller(app, admin: User, brand: Brand, role: BrandRole) -> Caller:
    secret = brands.issue_api_token(admin, brand.id, "Sync", role).secret
    return Caller(_client(app), {"Authorization": f"Bearer {secret}"})


@pytest.fixture
def admin(app, session, brand) -> Caller:
    return caller(app, member_of(session, brand))


@pytest.fixture
def viewer(app, session, brand) -> Caller:
    return caller(app, member_of(session, brand, BrandRole.VIEWER))


def faq(brand_id: int, rest: str = "") -> str:
    return f"/api/v1/brands/{brand_id}/faq{rest}"


def version(session, brand_id: int) -> int:
    settings = session.scalar(sa.select(FaqSettings).where(FaqSettings.brand_id == brand_id)
                              .execution_options(populate_existing=True))
    return 0 if settings is None else settings.version


def refs(session, brand_id: int) -> list[str]:
    return list(session.scalars(sa.select(FaqEntry.ref).where(FaqEntry.brand_id == brand_id).order_by(FaqEntry.ref)))


DELIVERY = {"ref": "delivery", "lang": "fr", "question": "Quels sont les délais de livraison ?",
            "answer": "Nous livrons en 3 à 5 jours ouvrés.", "tags": ["livraison"]}
RETURNS = {"ref": "returns", "lang": "en", "question": "How do I return an item?",
           "answer": "Send it back within 30 days with the return slip.", "tags": ["returns", "refund"]}
