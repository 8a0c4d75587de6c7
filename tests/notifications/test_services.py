"""Notifications are the user's own; push subscriptions are checked field by field and never doubled."""

from __future__ import annotations

import base64
import os
from types import SimpleNamespace

import pytest

from marketplace.errors import Forbidden, InvalidInput, NotFound
from marketplace.extensions import socketio
from marketplace.notifications import services
from marketplace.notifications.models import Notification, PushSubscription
from tests.conftest import log_in
from tests.factories import UserFactory
from tests.notifications.conftest import b64url

TOKEN = SimpleNamespace(is_token=True, id=None)  # what a brand API token looks like to a service


def test_notify_adds_the_notification_to_the_callers_transaction(session):
    user = UserFactory()
    session.commit()
    notification = services.notify(user.id, "expert_approve", "Welcome aboard", "Your application is approved",
                                   url="/expert", data={"brand_id": 3})
    session.rollback()
    assert session.query(Notification).filter_by(user_id=user.id).count() == 0

    assert notification.data == {"brand_id": 3}

    services.notify(user.id, "expert_approve", "Welcome aboard")
    session.commit()
    [stored] = session.query(Notification).filter_by(user_id=user.id).all()
    assert (stored.kind, stored.title, stored.body, stored.url, stored.read_at) == (
        "expert_approve", "Welcome aboard", "", None, None)


def test_notify_shortens_what_does_not_fit(session):
    notification = services.notify(UserFactory().id, "news", "T" * 200, "B" * 900)
    assert len(notification.title) == 120 and notification.title.endswith("…")
    assert len(notification.body) == 500


@pytest.mark.parametrize("url", ["https://evil.example.com/", "//evil.example.com/", "expert"])
def test_notify_refuses_links_off_the_site(session, url):
    with pytest.raises(ValueError, match="path on this site"):
        services.notify(UserFactory().id, "news", "Hello", url=url)


def test_the_live_event_goes_to_the_users_room_after_commit_only(app, client, session):
    user = UserFactory()
    log_in(client, user.email)
    socket = socketio.test_client(app, flask_test_client=client)
    socket.get_received()

    services.notify(user.id, "offer", "Dropped", url="/expert")
    session.rollback()
    assert socket.get_received() == []

    notification = services.notify(user.id, "offer", "A chat is waiting", "Maison Lumière", url="/expert")
    session.commit()
    [event] = socket.get_received()
    socket.disconnect()
    assert event["name"] == "notification"
    assert event["args"][0] == {"id": notification.id, "kind": "offer", "title": "A chat is waiting",
                                "body": "Maison Lumière", "url": "/expert",
                                "created_at": notification.created_at.isoformat()}


def test_another_users_live_event_does_not_reach_me(app, client, session):
    me = UserFactory()
    log_in(client, me.email)
    socket = socketio.test_client(app, flask_test_client=client)
    socket.get_received()
    services.notify(UserFactory().id, "offer", "Not for you")
    session.commit()
    assert socket.get_received() == []
    socket.disconnect()


def test_a_user_lists_only_their_own_notifications_newest_first(session):
    me, other = UserFactory(), UserFactory()
    first = services.notify(me.id, "news", "First")
    second = services.notify(me.id, "news", "Second")
    services.notify(other.id, "news", "Someone else's")
    session.commit()

    assert [n.id for n in services.list_notifications(me)] == [second.id, first.id]
    assert [n.id for n in services.list_notifications(me, limit=1)] == [second.id]
    assert services.unread_count(me) == 2


def test_a_user_marks_their_notification_read(session):
    me = UserFactory()
    notification = services.notify(me.id, "news", "Hello")
    session.commit()

    assert services.mark_read(me, notification.id).read_at is not None
    assert services.unread_count(me) == 0


def test_a_user_cannot_mark_someone_elses_notification(session):
    me, other = UserFactory(), UserFactory()
    theirs = services.notify(other.id, "news", "Private")
    session.commit()

    with pytest.raises(NotFound):
        services.mark_read(me, theirs.id)
    with pytest.raises(NotFound):
        services.mark_read(me, theirs.id + 1000)
    assert services.unread_count(other) == 1


def test_mark_all_read_touches_only_the_actors_unread_notifications(session):
    me, other = UserFactory(), UserFactory()
    services.notify(me.id, "news", "One")
    services.notify(me.id, "news", "Two")
    services.notify(other.id, "news", "Theirs")
    session.commit()

    assert services.mark_all_read(me) == 2
    assert services.mark_all_read(me) == 0
    assert (services.unread_count(me), services.unread_count(other)) == (0, 1)


@pytest.mark.parametrize("call", [
    lambda: services.list_notifications(TOKEN),
    lambda: services.unread_count(TOKEN),
    lambda: services.mark_all_read(TOKEN),
    lambda: services.subscribe_push(TOKEN, "https://push.example.com/x", "", ""),
])
def test_api_tokens_have_no_notifications(session, call):
    with pytest.raises(Forbidden):
        call()


def test_subscribing_saves_the_keys_unpadded(session, browser_keys):
    me = UserFactory()
    padded = base64.urlsafe_b64encode(browser_keys.auth_secret).decode()
    assert padded.endswith("==")
    subscription = services.subscribe_push(me, "https://push.example.com/send/abc", browser_keys.p256dh, padded,
                                           "Firefox on Android")
    assert subscription.user_id == me.id and subscription.auth == browser_keys.auth
    assert subscription.p256dh == browser_keys.p256dh and subscription.user_agent == "Firefox on Android"


def test_subscribing_the_same_endpoint_again_updates_it(session, browser_keys):
    me = UserFactory()
    endpoint = "https://push.example.com/send/abc"
    first = services.subscribe_push(me, endpoint, browser_keys.p256dh, browser_keys.auth)
    new_auth = b64url(os.urandom(16))
    again = services.subscribe_push(me, endpoint, browser_keys.p256dh, new_auth)
    assert again.id == first.id and again.auth == new_auth
    assert session.query(PushSubscription).filter_by(endpoint=endpoint).count() == 1


def test_an_endpoint_saved_by_someone_else_moves_to_whoever_subscribes_now(session, browser_keys):
    before, now = UserFactory(), UserFactory()
    endpoint = "https://push.example.com/send/shared-phone"
    first = services.subscribe_push(before, endpoint, browser_keys.p256dh, browser_keys.auth)
    moved = services.subscribe_push(now, endpoint, browser_keys.p256dh, browser_keys.auth)
    assert moved.id == first.id and moved.user_id == now.id


def test_unsubscribing_forgets_only_the_actors_own_endpoint(session, browser_keys):
    me, other = UserFactory(), UserFactory()
    services.subscribe_push(me, "https://push.example.com/mine", browser_keys.p256dh, browser_keys.auth)
    services.subscribe_push(other, "https://push.example.com/theirs", browser_keys.p256dh, browser_keys.auth)

    services.unsubscribe_push(me, "https://push.example.com/theirs")
    services.unsubscribe_push(me, "https://push.example.com/mine")
    services.unsubscribe_push(me, "https://push.example.com/never-saved")

    assert [s.endpoint for s in session.query(PushSubscription).filter(
        PushSubscription.user_id.in_([me.id, other.id]))] == ["https://push.example.com/theirs"]


@pytest.mark.parametrize("endpoint", [
    "",
    "not a url",
    "ftp://push.example.com/x",
    "http://push.example.com/x",
    "https://",
    "https://user:secret@push.example.com/x",
    "https://push.example.com:99999/x",
    "https://push.example.com/" + "x" * 1000,
])
def test_an_endpoint_must_be_an_https_address(session, browser_keys, endpoint):
    with pytest.raises(InvalidInput) as caught:
        services.subscribe_push(UserFactory(), endpoint, browser_keys.p256dh, browser_keys.auth)
    assert caught.value.field == "endpoint"


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:8080/push", "http://localhost/push", "https://127.0.0.1/p"])
def test_loopback_endpoints_are_allowed_outside_production(session, browser_keys, endpoint):
    assert services.subscribe_push(UserFactory(), endpoint, browser_keys.p256dh, browser_keys.auth).id


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:8080/push", "https://localhost/push"])
def test_production_refuses_loopback_endpoints(app, session, monkeypatch, browser_keys, endpoint):
    monkeypatch.setitem(app.config, "ENV_NAME", "production")
    with pytest.raises(InvalidInput) as caught:
        services.subscribe_push(UserFactory(), endpoint, browser_keys.p256dh, browser_keys.auth)
    assert caught.value.field == "endpoint"


def not_on_the_curve() -> str:
    return b64url(b"\x04" + b"\xff" * 64)


# Fixed values, not random ones: parallel workers must each collect the same test ids.
@pytest.mark.parametrize(("p256dh", "auth", "field"), [
    ("", None, "keys.p256dh"),
    ("not*base64", None, "keys.p256dh"),
    (b64url(bytes(range(33))), None, "keys.p256dh"),
    (not_on_the_curve(), None, "keys.p256dh"),
    (None, "", "keys.auth"),
    (None, b64url(bytes(range(15))), "keys.auth"),
    (None, "a", "keys.auth"),
    (None, "sp ace", "keys.auth"),
], ids=["p256dh-empty", "p256dh-not-base64", "p256dh-33-bytes", "p256dh-off-the-curve",
        "auth-empty", "auth-15-bytes", "auth-one-character", "auth-with-a-space"])
def test_keys_must_be_base64url_of_the_right_length(session, browser_keys, p256dh, auth, field):
    """None stands for the browser's good key, so each case spoils one key only."""
    p256dh = browser_keys.p256dh if p256dh is None else p256dh
    auth = browser_keys.auth if auth is None else auth
    with pytest.raises(InvalidInput) as caught:
        services.subscribe_push(UserFactory(), "https://push.example.com/x", p256dh, auth)
    assert caught.value.field == field
