"""The brands API: scoping by membership, admin-only changes, API tokens that authenticate and can be revoked."""

from __future__ import annotations

from marketplace.accounts.models import AuditEvent, Role, User
from marketplace.brands.models import ApiToken, BrandRole
from tests.conftest import log_in
from tests.factories import BrandFactory, MembershipFactory, UserFactory


def member(session, role=BrandRole.ADMIN, brand=None):
    membership = MembershipFactory(role=role, **({"brand": brand} if brand else {}))
    return session.get(User, membership.user_id), membership.brand


def test_ops_opens_a_brand_with_a_slug_from_its_name(client, session):
    ops = UserFactory(role=Role.OPS)
    csrf = log_in(client, ops.email)
    response = client.post("/api/v1/brands", json={"name": "Café Noël"}, headers={"X-CSRFToken": csrf})
    assert response.status_code == 201
    assert response.json["slug"] == "cafe-noel"
    assert response.json["currency"] == "EUR"
    again = client.post("/api/v1/brands", json={"name": "Cafe Noel"}, headers={"X-CSRFToken": csrf})
    assert again.status_code == 409
    assert list(again.json["errors"]) == ["slug"]


def test_a_member_lists_only_their_brands(client, session):
    user, brand = member(session, BrandRole.VIEWER)
    BrandFactory()
    log_in(client, user.email)
    response = client.get("/api/v1/brands")
    assert [b["id"] for b in response.json] == [brand.id]


def test_finance_sees_every_brand(client, session):
    brands = [BrandFactory(), BrandFactory()]
    log_in(client, UserFactory(role=Role.FINANCE).email)
    ids = {b["id"] for b in client.get("/api/v1/brands").json}
    assert {b.id for b in brands} <= ids


def test_a_viewer_cannot_change_settings_but_an_admin_can(client, session):
    viewer, brand = member(session, BrandRole.VIEWER)
    csrf = log_in(client, viewer.email)
    refused = client.patch(f"/api/v1/brands/{brand.id}", json={"timezone": "Europe/Berlin"},
                           headers={"X-CSRFToken": csrf})
    assert refused.status_code == 403
    client.post("/logout", data={"csrf_token": csrf})
    admin, _ = member(session, BrandRole.ADMIN, brand=brand)
    csrf = log_in(client, admin.email)
    changed = client.patch(f"/api/v1/brands/{brand.id}", json={"timezone": "Europe/Berlin"},
                           headers={"X-CSRFToken": csrf})
    assert changed.status_code == 200
    assert changed.json["timezone"] == "Europe/Berlin"


def test_members_are_listed_with_their_roles(client, session):
    admin, brand = member(session, BrandRole.ADMIN)
    viewer, _ = member(session, BrandRole.VIEWER, brand=brand)
    log_in(client, admin.email)
    listed = {m["email"]: m["role"] for m in client.get(f"/api/v1/brands/{brand.id}/members").json}
    assert listed == {admin.email: "admin", viewer.email: "viewer"}


def test_an_api_token_authenticates_as_its_brand_until_revoked(client, session):
    admin, brand = member(session, BrandRole.ADMIN)
    other = BrandFactory()
    csrf = log_in(client, admin.email)
    created = client.post(f"/api/v1/brands/{brand.id}/tokens", json={"name": "CRM export"},
                          headers={"X-CSRFToken": csrf})
    assert created.status_code == 201
    secret = created.json["secret"]
    token_id = created.json["token"]["id"]
    assert secret.startswith("mkt_") and created.json["token"]["role"] == "viewer"
    stored = session.get(ApiToken, token_id)
    assert secret not in stored.secret_hash and stored.prefix == secret[:12]
    client.post("/logout", data={"csrf_token": csrf})

    bearer = {"Authorization": f"Bearer {secret}"}
    me = client.get("/api/v1/me", headers=bearer)
    assert me.status_code == 200
    assert me.json["kind"] == "token" and me.json["brand_id"] == brand.id
    assert client.get(f"/api/v1/brands/{brand.id}", headers=bearer).status_code == 200
    assert client.get(f"/api/v1/brands/{other.id}", headers=bearer).status_code == 404
    assert [b["id"] for b in client.get("/api/v1/brands", headers=bearer).json] == [brand.id]
    # A read-only token may not change settings, and no token manages tokens.
    assert client.patch(f"/api/v1/brands/{brand.id}", json={"name": "x"}, headers=bearer).status_code == 403
    assert client.get(f"/api/v1/brands/{brand.id}/tokens", headers=bearer).status_code == 403
    # A token does not open pages.
    assert client.get(f"/brands/{brand.slug}", headers=bearer).status_code == 302

    csrf = log_in(client, admin.email)
    revoked = client.delete(f"/api/v1/brands/{brand.id}/tokens/{token_id}", headers={"X-CSRFToken": csrf})
    assert revoked.status_code == 200 and revoked.json["revoked_at"]
    client.post("/logout", data={"csrf_token": csrf})
    assert client.get("/api/v1/me", headers=bearer).status_code == 401
    kinds = [e.kind for e in session.query(AuditEvent).order_by(AuditEvent.id)]
    assert "api_token_created" in kinds and "api_token_revoked" in kinds


def test_an_admin_token_changes_settings_without_csrf(client, session):
    admin, brand = member(session, BrandRole.ADMIN)
    csrf = log_in(client, admin.email)
    secret = client.post(f"/api/v1/brands/{brand.id}/tokens", json={"name": "Ops bot", "role": "admin"},
                         headers={"X-CSRFToken": csrf}).json["secret"]
    client.post("/logout", data={"csrf_token": csrf})
    response = client.patch(f"/api/v1/brands/{brand.id}", json={"currency": "chf"},
                            headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    assert response.json["currency"] == "CHF"


def test_a_made_up_token_is_401(client):
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer mkt_made-up"})
    assert response.status_code == 401


def test_token_of_another_brand_cannot_be_revoked(client, session):
    admin, brand = member(session, BrandRole.ADMIN)
    other_admin, other = member(session, BrandRole.ADMIN)
    csrf = log_in(client, other_admin.email)
    token_id = client.post(f"/api/v1/brands/{other.id}/tokens", json={"name": "theirs"},
                           headers={"X-CSRFToken": csrf}).json["token"]["id"]
    client.post("/logout", data={"csrf_token": csrf})
    csrf = log_in(client, admin.email)
    response = client.delete(f"/api/v1/brands/{brand.id}/tokens/{token_id}", headers={"X-CSRFToken": csrf})
    assert response.status_code == 404
    assert session.get(ApiToken, token_id).revoked_at is None
