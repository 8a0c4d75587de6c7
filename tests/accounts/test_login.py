"""Logging in and out through the page: audited, rate-limited, CSRF-protected."""

from __future__ import annotations

from marketplace.accounts.models import AuditEvent, Role
from tests.conftest import csrf_token_from, log_in
from tests.factories import PASSWORD, UserFactory


def kinds(session) -> list[str]:
    return [event.kind for event in session.query(AuditEvent).order_by(AuditEvent.id)]


def login_form(client, email: str, password: str):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def test_it_logs_in_and_sends_each_role_home(client, session):
    homes = {Role.OPS: "/ops/", Role.FINANCE: "/finance/", Role.BRAND: "/brands", Role.EXPERT: "/expert"}
    for role, home in homes.items():
        user = UserFactory(role=role)
        response = login_form(client, user.email, PASSWORD)
        assert response.status_code == 302
        assert client.get("/").headers["Location"].endswith(home), role
        home = client.get("/login", follow_redirects=True).get_data(as_text=True)
        client.post("/logout", data={"csrf_token": csrf_token_from(home)})


def test_it_records_log_in_and_log_out(client, session):
    user = UserFactory(role=Role.OPS)
    csrf = log_in(client, user.email)
    client.post("/logout", data={"csrf_token": csrf})
    assert kinds(session)[-2:] == ["login", "logout"]
    assert client.get("/api/v1/me").status_code == 401


def test_it_refuses_a_wrong_password_with_a_message_and_an_audit_event(client, session):
    user = UserFactory(role=Role.OPS)
    response = login_form(client, user.email, "not-the-password")
    assert response.status_code == 422
    assert "Wrong e-mail or password." in response.get_data(as_text=True)
    event = session.query(AuditEvent).order_by(AuditEvent.id.desc()).first()
    assert (event.kind, event.subject_id, event.detail["reason"]) == ("login_failed", user.id, "bad_credentials")


def test_it_accepts_the_email_in_any_case(client):
    user = UserFactory(role=Role.OPS, email="mixed@example.com")
    assert login_form(client, "  MIXED@Example.com ", PASSWORD).status_code == 302
    assert client.get("/api/v1/me").json["id"] == user.id


def test_a_disabled_account_cannot_log_in(client, session):
    user = UserFactory(role=Role.OPS, is_disabled=True)
    assert login_form(client, user.email, PASSWORD).status_code == 422
    assert session.query(AuditEvent).order_by(AuditEvent.id.desc()).first().detail["reason"] == "disabled"


def test_log_in_is_rate_limited_per_account_after_repeated_failures(client, app):
    user = UserFactory(role=Role.OPS)
    limit = int(app.config["LOGIN_RATE_LIMIT"].split()[0])
    for _ in range(limit):
        assert login_form(client, user.email, "wrong-password").status_code == 422
    blocked = login_form(client, user.email, PASSWORD)
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.get_data(as_text=True)
    assert int(blocked.headers["Retry-After"]) > 0


def test_successful_log_ins_do_not_use_up_the_limit(client, app):
    user = UserFactory(role=Role.OPS)
    limit = int(app.config["LOGIN_RATE_LIMIT"].split()[0])
    for _ in range(limit + 2):
        csrf = log_in(client, user.email)
        client.post("/logout", data={"csrf_token": csrf})


def test_a_forged_csrf_token_is_refused_on_forms(client, session):
    user = UserFactory(role=Role.OPS)
    client.get("/login")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert "login" not in kinds(session)


def test_log_out_needs_the_csrf_token(client):
    user = UserFactory(role=Role.OPS)
    log_in(client, user.email)
    assert client.post("/logout", data={}).status_code == 400
    assert client.get("/api/v1/me").status_code == 200


def test_it_only_follows_local_next_links(client):
    user = UserFactory(role=Role.OPS)
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token,
                                           "next": "https://evil.example.com/"})
    assert response.headers["Location"] == "/"


def test_pages_need_a_log_in_and_the_right_role(client):
    assert client.get("/ops/").status_code == 302
    expert = UserFactory(role=Role.EXPERT)
    log_in(client, expert.email)
    assert client.get("/ops/").status_code == 403
    assert client.get("/finance/").status_code == 403


def test_session_cookie_is_http_only_and_same_site(client):
    user = UserFactory(role=Role.OPS)
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
