"""The notifications API: each person sees and marks only their own, and saves their browser's push subscription."""

from __future__ import annotations

import pytest

from marketplace.accounts.models import Role, User
from marketplace.brands import services as brands
from marketplace.brands.models import BrandRole
from marketplace.notifications import services
from marketplace.notifications.models import PushSubscription
from tests.conftest import log_in
from tests.factories import MembershipFactory, UserFactory
from tests.notifications.conftest import b64url_decode


@pytest.fixture
def me(client):
    user = UserFactory(role=Role.EXPERT)
    user.csrf = log_in(client, user.email)
    return user


@pytest.mark.parametrize("role", list(Role))
def test_every_person_role_lists_their_notifications(client, session, role):
    user = UserFactory(role=role)
    services.notify(user.id, "news", "For you", "Read me", url="/")
    services.notify(UserFactory().id, "news", "Not for you")
    session.commit()
    log_in(client, user.email)

    response = client.get("/api/v1/notifications")

    assert response.status_code == 200
    assert response.json["unread"] == 1
    [item] = response.json["notifications"]
    assert (item["title"], item["body"], item["url"], item["read_at"]) == ("For you", "Read me", "/", None)
    assert set(item) == {"id", "kind", "title", "body", "url", "created_at", "read_at"}


def test_the_list_honours_its_limit_and_refuses_a_silly_one(client, session, me):
    for number in range(3):
        services.notify(me.id, "news", f"Number {number}")
    session.commit()
    assert [n["title"] for n in client.get("/api/v1/notifications?limit=2").json["notifications"]] == [
        "Number 2", "Number 1"]
    refused = client.get("/api/v1/notifications?limit=1000")
    assert refused.status_code == 422 and list(refused.json["errors"]) == ["limit"]


def test_marking_one_read(client, session, me):
    notification = services.notify(me.id, "news", "Hello")
    session.commit()
    response = client.post(f"/api/v1/notifications/{notification.id}/read", headers={"X-CSRFToken": me.csrf})
    assert response.status_code == 200 and response.json["read_at"]
    assert client.get("/api/v1/notifications").json["unread"] == 0


def test_someone_elses_notification_is_not_found(client, session, me):
    theirs = services.notify(UserFactory().id, "news", "Private")
    session.commit()
    response = client.post(f"/api/v1/notifications/{theirs.id}/read", headers={"X-CSRFToken": me.csrf})
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    session.refresh(theirs)
    assert theirs.read_at is None


def test_marking_all_read_says_how_many(client, session, me):
    services.notify(me.id, "news", "One")
    services.notify(me.id, "news", "Two")
    session.commit()
    response = client.post("/api/v1/notifications/read-all", headers={"X-CSRFToken": me.csrf})
    assert response.status_code == 200 and response.json == {"marked": 2}


def test_writes_need_the_csrf_token(client, session, me):
    assert client.post("/api/v1/notifications/read-all").status_code == 400


def test_the_public_key_is_the_apps_uncompressed_p256_point(app, client, me):
    key = client.get("/api/v1/push/public-key").json["public_key"]
    assert key == app.extensions["vapid_public_key"]
    raw = b64url_decode(key)
    assert len(raw) == 65 and raw[0] == 4


def test_saving_a_subscription_answers_201_without_its_keys(client, session, me, browser_keys):
    body = {"endpoint": "https://push.example.com/send/1", "keys": {"p256dh": browser_keys.p256dh,
                                                                     "auth": browser_keys.auth}}
    response = client.post("/api/v1/push-subscriptions", json=body,
                           headers={"X-CSRFToken": me.csrf, "User-Agent": "Phone browser"})
    assert response.status_code == 201
    assert set(response.json) == {"id", "endpoint", "user_agent", "created_at", "last_success_at"}
    stored = session.get(PushSubscription, response.json["id"])
    assert (stored.user_id, stored.user_agent) == (me.id, "Phone browser")

    again = client.post("/api/v1/push-subscriptions", json=body, headers={"X-CSRFToken": me.csrf})
    assert again.status_code == 201 and again.json["id"] == stored.id


def test_a_bad_subscription_names_the_failing_field(client, me, browser_keys):
    bad_key = {"endpoint": "https://push.example.com/send/1", "keys": {"p256dh": "abc", "auth": browser_keys.auth}}
    response = client.post("/api/v1/push-subscriptions", json=bad_key, headers={"X-CSRFToken": me.csrf})
    assert response.status_code == 422 and list(response.json["errors"]) == ["keys.p256dh"]

    no_keys = client.post("/api/v1/push-subscriptions", json={"endpoint": "https://push.example.com/send/1"},
                          headers={"X-CSRFToken": me.csrf})
    assert no_keys.status_code == 422 and list(no_keys.json["errors"]) == ["keys"]

    plain_http = {"endpoint": "http://push.example.com/1", "keys": {"p256dh": browser_keys.p256dh,
                                                                    "auth": browser_keys.auth}}
    response = client.post("/api/v1/push-subscriptions", json=plain_http, headers={"X-CSRFToken": me.csrf})
    assert response.status_code == 422 and list(response.json["errors"]) == ["endpoint"]


def test_deleting_a_subscription(client, session, me, browser_keys):
    endpoint = "https://push.example.com/send/1"
    services.subscribe_push(me, endpoint, browser_keys.p256dh, browser_keys.auth)
    response = client.delete("/api/v1/push-subscriptions", json={"endpoint": endpoint},
                             headers={"X-CSRFToken": me.csrf})
    assert response.status_code == 204
    assert session.query(PushSubscription).filter_by(endpoint=endpoint).count() == 0


def test_a_brand_api_token_has_no_notifications(client, session):
    membership = MembershipFactory(role=BrandRole.ADMIN)
    admin = session.get(User, membership.user_id)
    issued = brands.issue_api_token(admin, membership.brand.id, "CRM")
    response = client.get("/api/v1/notifications", headers={"Authorization": f"Bearer {issued.secret}"})
    assert response.status_code == 403 and response.mimetype == "application/problem+json"
