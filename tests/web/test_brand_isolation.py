"""No member of brand A reads or changes anything of brand B, on any page or endpoint; a viewer changes nothing.

The routes are read from the app, so a page or endpoint added later is covered without editing this test.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import User
from marketplace.brands import services as brands
from marketplace.brands.models import Brand, BrandRole
from marketplace.database import db
from tests.conftest import log_in
from tests.factories import BrandFactory, MembershipFactory
from tests.web.test_api_access import api_routes, concrete

WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def page_routes(app) -> list[tuple[str, str]]:
    """(method, rule) for every page of a brand (its short name in the path), API excluded."""
    found = []
    for rule in app.url_map.iter_rules():
        if "<slug>" not in rule.rule or not rule.rule.startswith("/brands/"):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, rule.rule))
    return found


def page_path(rule: str, slug: str) -> str:
    return re.sub(r"<int:\w+>", "1", rule.replace("<slug>", slug).replace("<period>", "2025-01"))


def snapshot() -> dict[str, object]:
    """Every table's row count and every brand's settings: what a refused write must leave as it was."""
    counts = {table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
              for table in db.metadata.sorted_tables if table.name != "audit_events"}
    settings = [tuple(row) for row in db.session.execute(sa.select(Brand.__table__).order_by(Brand.id))]
    db.session.commit()
    return {"counts": counts, "brands": settings}


@pytest.fixture
def two_brands(session):
    mine, other = BrandFactory(), BrandFactory()
    admin = session.get(User, MembershipFactory(brand=mine, role=BrandRole.ADMIN).user_id)
    viewer = session.get(User, MembershipFactory(brand=mine, role=BrandRole.VIEWER).user_id)
    session.commit()
    return mine, other, admin, viewer


def test_the_matrix_covers_the_brand_console(app):
    pages = {rule for _method, rule in page_routes(app)}
    for expected in ("/brands/<slug>/program", "/brands/<slug>/rates", "/brands/<slug>/caps",
                     "/brands/<slug>/widget", "/brands/<slug>/experts", "/brands/<slug>/quiz"):
        assert expected in pages


def test_a_member_of_one_brand_gets_404_on_every_page_of_another(client, two_brands):
    mine, other, admin, _viewer = two_brands
    csrf = log_in(client, admin.email)
    before = snapshot()
    for method, rule in page_routes(client.application):
        response = client.open(page_path(rule, other.slug), method=method, data={"csrf_token": csrf},
                               headers={"X-CSRFToken": csrf})
        assert response.status_code == 404, (method, rule, response.status_code)
    assert snapshot() == before
    for method, rule in page_routes(client.application):
        if method == "GET" and "<int:" not in rule and not rule.endswith(".csv"):
            assert client.get(page_path(rule, mine.slug)).status_code == 200, rule  # and theirs open


def test_a_viewer_changes_nothing_through_any_page(client, two_brands):
    mine, _other, _admin, viewer = two_brands
    csrf = log_in(client, viewer.email)
    before = snapshot()
    for method, rule in page_routes(client.application):
        if method not in WRITES:
            continue
        response = client.open(page_path(rule, mine.slug), method=method, data={"csrf_token": csrf},
                               headers={"X-CSRFToken": csrf})
        assert response.status_code in ((403,) if "<int:" not in rule else (403, 404)), (method, rule)
    assert snapshot() == before


@pytest.mark.parametrize("through", ["session", "token"])
def test_a_viewer_changes_nothing_through_any_endpoint(client, session, two_brands, through):
    mine, _other, admin, viewer = two_brands
    headers = {}
    if through == "session":
        headers["X-CSRFToken"] = log_in(client, viewer.email)
    else:
        secret = brands.issue_api_token(admin, mine.id, "read only", BrandRole.VIEWER).secret
        headers["Authorization"] = f"Bearer {secret}"
    before = snapshot()
    writes = [(m, r) for m, r, roles in api_routes(client.application)
              if m in WRITES and "<int:brand_id>" in r and "brand" in roles]
    assert len(writes) >= 8
    for method, rule in writes:  # an empty body may be refused as invalid first: either way nothing is written
        response = client.open(concrete(rule, mine.id), method=method, json={}, headers=headers)
        assert response.status_code in (403, 404, 422), (method, rule, response.status_code)
    valid = [("PATCH", "program", {"max_concurrent": 1}), ("POST", "rates", {"effective_from": "2099-01-01",
                                                                             "price_cents": 1}),
             ("POST", "closures", {"day": "2099-01-01"}), ("PUT", "canned-answers", {"answers": []})]
    for method, path, body in valid:  # a valid change is refused for what the caller is
        response = client.open(f"/api/v1/brands/{mine.id}/{path}", method=method, json=body, headers=headers)
        assert response.status_code == 403, (method, path, response.status_code)
    assert snapshot() == before
