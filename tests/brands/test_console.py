"""The brand console's guard: the brand's people open its pages, only its admins change what they show."""

from __future__ import annotations

import pytest

from marketplace.accounts.models import Role, User
from marketplace.brands.models import Brand, BrandRole
from tests.conftest import csrf_token_from, log_in
from tests.factories import BrandFactory, MembershipFactory, UserFactory


def member(session, brand: Brand, role: BrandRole) -> User:
    return session.get(User, MembershipFactory(brand=brand, role=role).user_id)


def test_someone_outside_the_brand_finds_no_such_brand(client, session):
    brand = BrandFactory()
    log_in(client, member(session, BrandFactory(), BrandRole.ADMIN).email)
    assert client.get(f"/brands/{brand.slug}/program").status_code == 404
    assert client.get(f"/brands/{brand.slug}/tokens").status_code == 404
    assert client.get("/brands/no-such-brand/program").status_code == 404


def test_a_visitor_is_asked_to_log_in(client, session):
    brand = BrandFactory()
    response = client.get(f"/brands/{brand.slug}/program")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_viewer_reads_the_page_but_cannot_change_it(client, session):
    brand = BrandFactory(topics=["Lamps"])
    log_in(client, member(session, brand, BrandRole.VIEWER).email)
    page = client.get(f"/brands/{brand.slug}/program")
    assert page.status_code == 200
    token = csrf_token_from(page.get_data(as_text=True))
    refused = client.post(f"/brands/{brand.slug}/program", data={"csrf_token": token, "topics": "Bulbs"})
    assert refused.status_code == 403
    session.expire_all()
    assert session.get(Brand, brand.id).topics == ["Lamps"]


@pytest.mark.parametrize("role", [Role.FINANCE, Role.BRAND])
def test_only_admins_open_an_admins_page(client, session, role):
    brand = BrandFactory()
    log_in(client, (UserFactory(role=role) if role == Role.FINANCE else member(session, brand, BrandRole.VIEWER)).email)
    assert client.get(f"/brands/{brand.slug}").status_code == 200
    assert client.get(f"/brands/{brand.slug}/tokens").status_code == 403


@pytest.mark.parametrize("role", [Role.OPS, Role.BRAND])
def test_admins_and_ops_open_every_page(client, session, role):
    brand = BrandFactory()
    log_in(client, (UserFactory(role=role) if role == Role.OPS else member(session, brand, BrandRole.ADMIN)).email)
    assert client.get(f"/brands/{brand.slug}/tokens").status_code == 200
    assert client.get(f"/brands/{brand.slug}/program").status_code == 200
