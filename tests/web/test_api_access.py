"""Every API endpoint refuses the anonymous and the wrong roles, and answers bad input with problem+json."""

from __future__ import annotations

import re

import pytest

from marketplace.accounts.models import Role, User
from marketplace.brands.models import BrandRole
from tests.conftest import log_in
from tests.factories import BrandFactory, MembershipFactory, UserFactory

ALL_ROLES = [role.value for role in Role]


def api_routes(app):
    """(method, rule, allowed roles) for every documented API endpoint."""
    routes = []
    for rule in app.url_map.iter_rules():
        doc = getattr(app.view_functions[rule.endpoint], "api_doc", None)
        if doc is None or doc.public:  # the widget's visitor calls: tests/routing/test_widget_*.py
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((method, rule.rule, doc.roles))
    return routes


def concrete(rule: str, brand_id: int = 1) -> str:
    return re.sub(r"<int:(\w+)>", lambda m: str(brand_id if m[1] == "brand_id" else 1), rule)


def test_every_api_route_is_documented_and_declares_roles(app):
    undocumented = [
        rule.rule for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and not hasattr(app.view_functions[rule.endpoint], "api_doc")
    ]
    assert undocumented == []
    assert len(api_routes(app)) >= 12


def test_anonymous_calls_are_refused_on_every_endpoint(app, client):
    for method, rule, _roles in api_routes(app):
        response = client.open(concrete(rule), method=method, json={})
        assert response.status_code == 401, (method, rule)
        assert response.mimetype == "application/problem+json"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("role", ALL_ROLES)
def test_wrong_roles_are_refused_on_every_endpoint(app, client, role):
    user = UserFactory(role=Role(role))
    csrf = log_in(client, user.email)
    refused = [(m, r) for m, r, roles in api_routes(app) if role not in roles]
    for method, rule in refused:
        response = client.open(concrete(rule), method=method, json={}, headers={"X-CSRFToken": csrf})
        assert response.status_code == 403, (role, method, rule, response.get_data(as_text=True))
        assert response.json["status"] == 403


def test_brand_members_get_404_for_other_brands_on_every_brand_endpoint(app, client, session):
    mine = MembershipFactory(role=BrandRole.ADMIN)
    other = BrandFactory()
    csrf = log_in(client, session.get(User, mine.user_id).email)
    brand_rules = [(m, r) for m, r, roles in api_routes(app) if "<int:brand_id>" in r and "brand" in roles]
    assert brand_rules
    for method, rule in brand_rules:
        response = client.open(concrete(rule, other.id), method=method, json={"name": "x"},
                               headers={"X-CSRFToken": csrf})
        assert response.status_code == 404, (method, rule)
        # The brand's own collections answer; a path naming one of its records (made up here) may not exist.
        names_a_record = len(re.findall(r"<int:", rule)) > 1
        own = client.open(concrete(rule, mine.brand.id), method="GET") if method == "GET" else None
        if own is not None and not names_a_record:
            assert own.status_code == 200, rule


@pytest.fixture
def ops_csrf(client) -> str:
    """Log an ops user in; return the CSRF token their API writes carry."""
    return log_in(client, UserFactory(role=Role.OPS).email)


def test_malformed_json_is_a_problem_naming_the_body(client, ops_csrf):
    response = client.post("/api/v1/brands", data="{not json", content_type="application/json",
                           headers={"X-CSRFToken": ops_csrf})
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.json["errors"] == {"body": ["Not valid JSON."]}


def test_a_json_array_is_refused_as_body(client, ops_csrf):
    response = client.post("/api/v1/brands", json=["x"], headers={"X-CSRFToken": ops_csrf})
    assert response.status_code == 400
    assert response.json["errors"] == {"body": ["Expected a JSON object."]}


def test_non_json_content_type_is_415(client, ops_csrf):
    response = client.post("/api/v1/brands", data="name=x", content_type="application/x-www-form-urlencoded",
                           headers={"X-CSRFToken": ops_csrf})
    assert response.status_code == 415
    assert "body" in response.json["errors"]


def test_bad_fields_get_422_naming_each_field_and_write_nothing(client, session, ops_csrf):
    from marketplace.brands.models import Brand

    before = session.query(Brand).count()
    response = client.post("/api/v1/brands", json={"name": "", "currency": "EURO", "colour": "red"},
                           headers={"X-CSRFToken": ops_csrf})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert set(response.json["errors"]) == {"name", "currency", "colour"}
    assert session.query(Brand).count() == before


def test_service_rules_name_the_field_too(client, ops_csrf):
    response = client.post("/api/v1/brands", json={"name": "Nord", "timezone": "Mars/Olympus"},
                           headers={"X-CSRFToken": ops_csrf})
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["timezone"]


@pytest.mark.usefixtures("ops_csrf")
def test_bad_query_parameters_are_422(client):
    response = client.get("/api/v1/audit-events?limit=100000")
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["limit"]


@pytest.mark.usefixtures("ops_csrf")
def test_session_writes_without_csrf_token_are_refused(client):
    response = client.post("/api/v1/brands", json={"name": "Sans jeton"})
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert "X-CSRFToken" in response.json["errors"]
    forged = client.post("/api/v1/brands", json={"name": "Jeton forgé"}, headers={"X-CSRFToken": "forged.token.value"})
    assert forged.status_code == 400


def test_unknown_api_path_is_problem_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_wrong_method_is_problem_405_with_allow(client):
    response = client.delete("/api/v1/me")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
