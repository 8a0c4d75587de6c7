"""Log-in sessions live on the server: log-out, a password reset or change, or the user ends them, and copies of
their cookies stop working everywhere."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from marketplace.accounts import passwords, sessions
from marketplace.accounts.models import AuditEvent, Role, User, UserSession
from marketplace.database import utcnow
from tests.conftest import csrf_token_from, log_in
from tests.factories import PASSWORD, UserFactory

HOST = "marketplace.localhost"  # the test app's SERVER_NAME, which its cookies belong to
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.5 Mobile/15E148 Safari/604.1")
NEW_PASSWORD = "a-brand-new-passphrase"


def new_browser(client: FlaskClient, user_agent: str = FIREFOX, ip: str = "192.0.2.10") -> FlaskClient:
    """Another device: a client of its own, with no cookies, its own User-Agent and address."""
    browser = client.application.test_client()
    browser.environ_base.update({"HTTP_USER_AGENT": user_agent, "REMOTE_ADDR": ip})
    return browser


def log_in_remembered(browser: FlaskClient, email: str, password: str = PASSWORD) -> str:
    """Log in with "Keep me logged in" ticked; return the CSRF token for later writes."""
    token = csrf_token_from(browser.get("/login").get_data(as_text=True))
    response = browser.post("/login", data={"email": email, "password": password, "remember": "y",
                                            "csrf_token": token})
    assert response.status_code == 302
    assert browser.get_cookie("remember_token", domain=HOST) is not None
    return csrf_token_from(browser.get("/login", follow_redirects=True).get_data(as_text=True))


def copy_cookie(source: FlaskClient, target: FlaskClient, name: str) -> None:
    cookie = source.get_cookie(name, domain=HOST)
    assert cookie is not None, name
    target.set_cookie(name, cookie.value, domain=HOST)


def me(browser: FlaskClient) -> int:
    """The API's answer to "who am I": 200 for the logged-in, 401 for a visitor."""
    return browser.get("/api/v1/me").status_code


def log_out(browser: FlaskClient, csrf: str) -> None:
    assert browser.post("/logout", data={"csrf_token": csrf}).status_code == 302


def rows(session, user: User) -> list[UserSession]:
    session.expire_all()
    return list(session.scalars(sa.select(UserSession).where(UserSession.user_id == user.id)
                                .order_by(UserSession.id)))


def last_event(session, kind: str) -> AuditEvent:
    return session.scalars(sa.select(AuditEvent).where(AuditEvent.kind == kind)
                           .order_by(AuditEvent.id.desc())).first()


def reset_by_mail(client: FlaskClient, outbox, email: str, password: str = NEW_PASSWORD):
    visitor = new_browser(client, ip="198.51.100.9")
    token = csrf_token_from(visitor.get("/password/forgot").get_data(as_text=True))
    assert visitor.post("/password/forgot", data={"email": email, "csrf_token": token}).status_code == 302
    link = re.search(r"http://\S+/password/reset/\S+", outbox.to(email)[-1].get_content()).group(0)
    page = visitor.get(link)
    return visitor.post(link, data={"password": password, "confirm": password,
                                    "csrf_token": csrf_token_from(page.get_data(as_text=True))})


def test_it_refuses_a_copied_session_cookie_after_log_out(client, session):
    user = UserFactory(role=Role.EXPERT)
    csrf = log_in(client, user.email)
    thief = new_browser(client, user_agent=IPHONE, ip="203.0.113.66")
    copy_cookie(client, thief, "session")
    # Basic session protection lets the copy in from another address and browser (as a phone changing
    # networks) until the session ends.
    assert me(thief) == 200
    log_out(client, csrf)
    assert me(thief) == 401
    page = thief.get("/account/sessions")
    assert page.status_code == 302
    assert page.headers["Location"].startswith("/login")
    assert [row.end_reason for row in rows(session, user)] == ["logout"]


def test_it_refuses_a_copied_remember_cookie_after_log_out(client, session):
    user = UserFactory(role=Role.BRAND)
    csrf = log_in_remembered(client, user.email)
    thief = new_browser(client)
    copy_cookie(client, thief, "remember_token")  # that cookie alone, no session cookie
    assert me(thief) == 200
    log_out(client, csrf)
    assert me(thief) == 401
    assert thief.get_cookie("remember_token", domain=HOST) is None  # the dead cookie is deleted too
    assert client.get_cookie("remember_token", domain=HOST) is None


def test_the_cookies_carry_a_secret_of_which_only_the_hash_is_stored(client, session):
    user = UserFactory(role=Role.OPS)
    log_in_remembered(client, user.email)
    with client.session_transaction() as cookie_session:
        secret = cookie_session["_user_id"]
    [row] = rows(session, user)
    assert secret != str(user.id)
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {row.secret_hash, row.user_agent, row.ip}
    assert row.remembered is True
    assert row.expires_at > utcnow() + dt.timedelta(days=300)  # the remember-me cookie's year


def test_a_cookie_holding_a_bare_user_id_is_refused(client, session):
    user = UserFactory(role=Role.OPS)
    with client.session_transaction() as cookie_session:
        cookie_session["_user_id"] = str(user.id)  # what cookies held before sessions were kept on the server
    assert me(client) == 401


def test_a_password_reset_logs_out_every_device_of_the_account(client, session, outbox):
    user = UserFactory(role=Role.EXPERT)
    log_in(client, user.email)
    phone = new_browser(client, user_agent=IPHONE)
    log_in_remembered(phone, user.email)
    copied = new_browser(client)
    copy_cookie(phone, copied, "remember_token")
    assert (me(client), me(phone), me(copied)) == (200, 200, 200)

    assert reset_by_mail(client, outbox, user.email).status_code == 302

    assert (me(client), me(phone), me(copied)) == (401, 401, 401)
    assert [row.end_reason for row in rows(session, user)] == ["password_reset", "password_reset"]
    assert last_event(session, "password_reset").detail == {"sessions_ended": 2}
    assert log_in(new_browser(client), user.email, NEW_PASSWORD)


def test_changing_the_password_logs_out_the_other_devices_and_keeps_this_one(client, session):
    user = UserFactory(role=Role.EXPERT)
    csrf = log_in(client, user.email)
    phone = new_browser(client, user_agent=IPHONE)
    log_in_remembered(phone, user.email)
    copied = new_browser(client)
    copy_cookie(phone, copied, "remember_token")

    response = client.post("/account/password", data={
        "current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": csrf})

    assert response.status_code == 302
    assert response.headers["Location"] == "/account/sessions"
    assert (me(client), me(phone), me(copied)) == (200, 401, 401)
    assert [row.end_reason for row in rows(session, user)] == [None, "password_changed"]
    event = last_event(session, "password_changed")
    assert (event.actor_id, event.subject_id, event.detail) == (user.id, user.id, {"sessions_ended": 1})
    assert passwords.verify_password(session.get(User, user.id).password_hash, NEW_PASSWORD)


def test_a_wrong_current_password_is_refused_naming_the_field(client, session):
    user = UserFactory(role=Role.EXPERT)
    csrf = log_in(client, user.email)
    phone = new_browser(client)
    log_in(phone, user.email)

    response = client.post("/account/password", data={
        "current_password": "not-my-password", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
        "csrf_token": csrf})

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'id="current_password-error">This is not your current password\.<', page)
    assert passwords.verify_password(session.get(User, user.id).password_hash, PASSWORD)
    assert me(phone) == 200
    assert last_event(session, "password_changed") is None


def test_guessing_the_current_password_is_rate_limited(client, session, app):
    user = UserFactory(role=Role.EXPERT)
    csrf = log_in(client, user.email)
    wrong = {"current_password": "a-wrong-guess", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
             "csrf_token": csrf}
    for _ in range(int(app.config["LOGIN_RATE_LIMIT"].split()[0])):
        assert client.post("/account/password", data=wrong).status_code == 422
    assert client.post("/account/password", data={**wrong, "current_password": PASSWORD}).status_code == 429
    assert passwords.verify_password(session.get(User, user.id).password_hash, PASSWORD)


@pytest.mark.parametrize(("new", "confirm", "field", "message"), [
    ("short", "short", "password", "Use at least 10 characters."),
    (NEW_PASSWORD, "something-else-entirely", "confirm", "The two passwords differ."),
])
def test_a_new_password_follows_the_same_rules_as_a_reset(client, session, new, confirm, field, message):
    user = UserFactory(role=Role.FINANCE)
    csrf = log_in(client, user.email)
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "password": new, "confirm": confirm, "csrf_token": csrf})
    assert response.status_code == 422
    assert f'id="{field}-error">{message}<' in response.get_data(as_text=True)
    assert passwords.verify_password(session.get(User, user.id).password_hash, PASSWORD)


def test_the_change_password_form_labels_its_fields(client, session):
    user = UserFactory(role=Role.EXPERT)
    log_in(client, user.email)
    page = client.get("/account/password").get_data(as_text=True)
    for name, autocomplete in [("current_password", "current-password"), ("password", "new-password"),
                               ("confirm", "new-password")]:
        assert f'<label for="{name}">' in page
        assert re.search(rf'<input autocomplete="{autocomplete}" [^>]*id="{name}"', page), name


def test_the_sessions_page_lists_both_devices_and_ending_one_logs_it_out(client, session):
    user = UserFactory(role=Role.EXPERT)
    log_in(client, user.email)
    phone = new_browser(client, user_agent=IPHONE, ip="203.0.113.5")
    log_in_remembered(phone, user.email)

    page = client.get("/account/sessions")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Safari on iPhone" in html and "203.0.113.5" in html
    assert html.count("This device") == 1
    assert 'href="/account/password"' in html
    assert 'href="/account/sessions"' in html  # the link in the navigation

    mine, phones = rows(session, user)
    csrf = csrf_token_from(html)
    response = client.post(f"/account/sessions/{phones.id}/end", data={"csrf_token": csrf})
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/sessions"
    assert (me(client), me(phone)) == (200, 401)
    assert rows(session, user)[1].end_reason == "ended_by_user"
    assert last_event(session, "session_ended").detail == {"session_id": phones.id}
    assert "Safari on iPhone" not in client.get("/account/sessions").get_data(as_text=True)


def test_ending_the_session_in_use_logs_this_device_out(client, session):
    user = UserFactory(role=Role.EXPERT)
    csrf = log_in(client, user.email)
    [mine] = rows(session, user)
    response = client.post(f"/account/sessions/{mine.id}/end", data={"csrf_token": csrf})
    assert response.headers["Location"] == "/login"
    assert me(client) == 401


def test_it_logs_out_every_other_device_at_once(client, session):
    user = UserFactory(role=Role.OPS)
    csrf = log_in(client, user.email)
    others = [new_browser(client, ip=f"192.0.2.{n}") for n in (21, 22)]
    for other in others:
        log_in_remembered(other, user.email)
    response = client.post("/account/sessions/end-others", data={"csrf_token": csrf})
    assert response.status_code == 302
    assert [me(browser) for browser in [client, *others]] == [200, 401, 401]
    assert last_event(session, "other_sessions_ended").detail == {"sessions_ended": 2}
    assert "2 other devices are logged out." in client.get("/account/sessions").get_data(as_text=True)


def test_another_user_cannot_see_or_end_my_sessions(client, session):
    me_user, other = UserFactory(role=Role.EXPERT), UserFactory(role=Role.EXPERT)
    log_in(client, me_user.email)
    [mine] = rows(session, me_user)
    intruder = new_browser(client, ip="203.0.113.99")
    csrf = log_in(intruder, other.email)

    assert intruder.post(f"/account/sessions/{mine.id}/end", data={"csrf_token": csrf}).status_code == 404
    assert intruder.delete(f"/api/v1/me/sessions/{mine.id}", headers={"X-CSRFToken": csrf}).status_code == 404
    assert mine.id not in [device["id"] for device in intruder.get("/api/v1/me/sessions").json]
    assert me(client) == 200
    assert rows(session, me_user)[0].ended_at is None


def test_the_api_lists_my_sessions_and_ends_one(client, session):
    user = UserFactory(role=Role.BRAND)
    csrf = log_in(client, user.email)
    phone = new_browser(client, user_agent=IPHONE, ip="203.0.113.7")
    log_in_remembered(phone, user.email)
    mine, phones = rows(session, user)

    listed = client.get("/api/v1/me/sessions")
    assert listed.status_code == 200
    assert [(d["id"], d["current"]) for d in listed.json] == [(mine.id, True), (phones.id, False)]
    assert listed.json[1]["device"] == "Safari on iPhone"
    assert (listed.json[1]["ip"], listed.json[1]["remembered"]) == ("203.0.113.7", True)

    assert client.delete(f"/api/v1/me/sessions/{phones.id}", headers={"X-CSRFToken": csrf}).status_code == 204
    assert (me(client), me(phone)) == (200, 401)
    assert client.delete(f"/api/v1/me/sessions/{phones.id}", headers={"X-CSRFToken": csrf}).status_code == 404


def test_ending_a_session_through_the_api_needs_the_csrf_token(client, session):
    user = UserFactory(role=Role.BRAND)
    log_in(client, user.email)
    [mine] = rows(session, user)
    assert client.delete(f"/api/v1/me/sessions/{mine.id}").status_code == 400
    assert me(client) == 200


def test_a_disabled_user_is_refused_though_their_session_is_live(client, session):
    user = UserFactory(role=Role.EXPERT)
    log_in(client, user.email)
    session.get(User, user.id).is_disabled = True
    session.commit()
    assert me(client) == 401


def test_an_expired_session_is_refused(client, session):
    user = UserFactory(role=Role.EXPERT)
    log_in(client, user.email)
    [row] = rows(session, user)
    row.expires_at = utcnow() - dt.timedelta(seconds=1)
    session.commit()
    assert me(client) == 401


def test_last_seen_is_noted_at_most_every_few_minutes(client, session):
    user = UserFactory(role=Role.EXPERT)
    log_in(client, user.email)
    [row] = rows(session, user)
    long_ago, a_moment_ago = utcnow() - dt.timedelta(minutes=10), utcnow() - dt.timedelta(minutes=1)
    row.last_seen_at = a_moment_ago
    session.commit()
    assert me(client) == 200
    assert rows(session, user)[0].last_seen_at == a_moment_ago
    row = rows(session, user)[0]
    row.last_seen_at = long_ago
    session.commit()
    assert me(client) == 200
    assert rows(session, user)[0].last_seen_at > a_moment_ago


def test_the_cleanup_deletes_sessions_that_ended_or_expired_a_month_ago(app, session):
    user = UserFactory(role=Role.EXPERT)
    now = utcnow()

    def add(secret: str, *, ended_days_ago: int | None = None, expired_days_ago: int = -1) -> None:
        ended = now - dt.timedelta(days=ended_days_ago) if ended_days_ago is not None else None
        session.add(UserSession(user_id=user.id, secret_hash=sessions.hash_secret(secret), user_agent="",
                                expires_at=now - dt.timedelta(days=expired_days_ago), ended_at=ended))

    add("live")
    add("ended-yesterday", ended_days_ago=1)
    add("ended-long-ago", ended_days_ago=31)
    add("expired-long-ago", expired_days_ago=31)
    session.commit()
    assert sessions.purge(now) == 2
    kept = {row.secret_hash for row in rows(session, user)}
    assert kept == {sessions.hash_secret("live"), sessions.hash_secret("ended-yesterday")}
    assert "login-sessions-purge" in {job.id for job in app.extensions["scheduled_jobs"]}


def test_the_sessions_page_speaks_french(client, session):
    user = UserFactory(role=Role.EXPERT, locale="fr")
    browser = new_browser(client)
    log_in(browser, user.email)
    html = browser.get("/account/sessions").get_data(as_text=True)
    assert "Cet appareil" in html
    assert "Firefox sur Linux" in html


@pytest.mark.parametrize(("user_agent", "name"), [
    (FIREFOX, "Firefox on Linux"),
    (IPHONE, "Safari on iPhone"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 "
     "Safari/537.36 Edg/126.0.0.0", "Edge on Windows"),
    ("curl/8.5.0", "Unknown device"),
])
def test_it_names_the_device_from_its_user_agent(app, user_agent, name):
    with app.test_request_context():
        assert sessions.device_name(user_agent) == name


def test_it_keeps_the_user_agent_short_and_on_one_line():
    assert sessions.clean_user_agent("Evil\r\nSet-Cookie: x" + "a" * 500) == ("Evil Set-Cookie: x" + "a" * 500)[:200]
