"""Ops change roles; each change is in the audit log."""

from marketplace.accounts.models import AuditEvent, Role, User
from tests.conftest import log_in
from tests.factories import UserFactory


def test_ops_changes_a_role_and_it_is_audited(client, session):
    ops = UserFactory(role=Role.OPS)
    user = UserFactory(role=Role.EXPERT)
    csrf = log_in(client, ops.email)
    response = client.put(f"/api/v1/users/{user.id}/role", json={"role": "finance"}, headers={"X-CSRFToken": csrf})
    assert response.status_code == 200 and response.json["role"] == "finance"
    event = session.query(AuditEvent).filter_by(kind="role_changed").one()
    assert (event.actor_id, event.subject_id) == (ops.id, user.id)
    assert event.detail == {"previous": "expert", "role": "finance"}
    audit = client.get("/api/v1/audit-events?kind=role_changed").json
    assert audit[0]["subject_id"] == user.id


def test_an_unknown_role_is_422_naming_role(client):
    ops = UserFactory(role=Role.OPS)
    user = UserFactory()
    csrf = log_in(client, ops.email)
    response = client.put(f"/api/v1/users/{user.id}/role", json={"role": "king"}, headers={"X-CSRFToken": csrf})
    assert response.status_code == 422 and list(response.json["errors"]) == ["role"]


def test_ops_cannot_demote_themselves(client, session):
    ops = UserFactory(role=Role.OPS)
    csrf = log_in(client, ops.email)
    response = client.put(f"/api/v1/users/{ops.id}/role", json={"role": "expert"}, headers={"X-CSRFToken": csrf})
    assert response.status_code == 422
    assert session.get(User, ops.id).role == Role.OPS


def test_the_users_page_changes_a_role(client, session):
    ops = UserFactory(role=Role.OPS)
    user = UserFactory(role=Role.EXPERT)
    csrf = log_in(client, ops.email)
    assert user.email in client.get("/ops/users").get_data(as_text=True)
    response = client.post("/ops/users/role", data={"user_id": user.id, "role": "brand", "csrf_token": csrf})
    assert response.status_code == 302
    assert session.get(User, user.id).role == Role.BRAND


def test_unknown_user_is_404(client):
    ops = UserFactory(role=Role.OPS)
    csrf = log_in(client, ops.email)
    response = client.put("/api/v1/users/999999/role", json={"role": "ops"}, headers={"X-CSRFToken": csrf})
    assert response.status_code == 404
