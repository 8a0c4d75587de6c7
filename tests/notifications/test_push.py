"""Web Push reaches a push service on loopback, signed with our VAPID key and readable only by the browser."""

from __future__ import annotations

import json
import time

import http_ece
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from marketplace.database import db
from marketplace.extensions import socketio
from marketplace.notifications import push, services
from marketplace.notifications.models import PushSubscription
from tests.conftest import free_port
from tests.factories import UserFactory
from tests.notifications.conftest import b64url_decode, wait_until


def vapid_parts(authorization: str) -> tuple[str, str]:
    """Split `vapid t=<JWT>, k=<key>` into the token and the key."""
    scheme, _, params = authorization.partition(" ")
    assert scheme == "vapid", authorization
    fields = dict(part.strip().split("=", 1) for part in params.split(","))
    return fields["t"], fields["k"]


def verify_es256(token: str, public_key: ec.EllipticCurvePublicKey) -> dict:
    """Check a JWT's ES256 signature (raw r||s) and return its claims."""
    header, claims, signature = token.split(".")
    raw = b64url_decode(signature)
    assert len(raw) == 64
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public_key.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    assert json.loads(b64url_decode(header)) == {"typ": "JWT", "alg": "ES256"}
    return json.loads(b64url_decode(claims))


def test_a_push_reaches_the_push_service_signed_with_our_vapid_key(app, session, push_service, browser_keys):
    user = UserFactory()
    endpoint = push_service.url("/push/device-1")
    subscription = services.subscribe_push(user, endpoint, browser_keys.p256dh, browser_keys.auth, "Test phone")
    notification = services.notify(user.id, "offer", "A chat is waiting", "Maison Lumière needs an answer",
                                   url="/expert")
    session.commit()

    assert push.deliver_push(notification.id) == 1

    [request] = push_service.received
    assert request.path == "/push/device-1"
    token, key = vapid_parts(request.headers["authorization"])
    assert key == services.vapid_public_key()
    vapid_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(key))
    claims = verify_es256(token, vapid_key)
    assert claims["aud"] == push_service.origin
    assert claims["sub"] == app.config["VAPID_SUBJECT"]
    now = time.time()
    assert now < claims["exp"] <= now + 24 * 3600
    # The same signature does not verify under another key: the check above really checked something.
    with pytest.raises(InvalidSignature):
        verify_es256(token, ec.generate_private_key(ec.SECP256R1()).public_key())
    assert request.headers["ttl"] == str(push.TTL_SECONDS)
    assert request.headers["content-encoding"] == "aes128gcm"

    plain = http_ece.decrypt(request.body, private_key=browser_keys.private_key,
                             auth_secret=browser_keys.auth_secret, version="aes128gcm")
    assert json.loads(plain) == {"id": notification.id, "kind": "offer", "title": "A chat is waiting",
                                 "body": "Maison Lumière needs an answer", "url": "/expert"}
    session.refresh(subscription)
    assert subscription.last_success_at is not None and subscription.failure_count == 0


def test_each_device_of_the_user_gets_the_push_and_nobody_else(session, push_service, browser_keys):
    user, other = UserFactory(), UserFactory()
    services.subscribe_push(user, push_service.url("/phone"), browser_keys.p256dh, browser_keys.auth)
    services.subscribe_push(user, push_service.url("/laptop"), browser_keys.p256dh, browser_keys.auth)
    services.subscribe_push(other, push_service.url("/someone-else"), browser_keys.p256dh, browser_keys.auth)
    notification = services.notify(user.id, "invitation", "Come online")
    session.commit()

    assert push.deliver_push(notification.id) == 2
    assert sorted(r.path for r in push_service.received) == ["/laptop", "/phone"]


@pytest.mark.parametrize("status", [404, 410])
def test_a_subscription_the_push_service_forgot_is_deleted(session, push_service, browser_keys, status):
    user = UserFactory()
    push_service.statuses["/gone"] = status
    gone = services.subscribe_push(user, push_service.url("/gone"), browser_keys.p256dh, browser_keys.auth)
    kept = services.subscribe_push(user, push_service.url("/kept"), browser_keys.p256dh, browser_keys.auth)
    gone_id, kept_id = gone.id, kept.id
    notification = services.notify(user.id, "offer", "A chat is waiting")
    session.commit()

    assert push.deliver_push(notification.id) == 1
    session.expire_all()
    assert session.get(PushSubscription, gone_id) is None
    assert session.get(PushSubscription, kept_id).last_success_at is not None


def test_a_failing_push_service_counts_failures_and_keeps_the_subscription(session, push_service, browser_keys):
    user = UserFactory()
    push_service.statuses["/busy"] = 503
    busy = services.subscribe_push(user, push_service.url("/busy"), browser_keys.p256dh, browser_keys.auth)
    closed = services.subscribe_push(user, f"http://127.0.0.1:{free_port()}/nobody-listens", browser_keys.p256dh,
                                     browser_keys.auth)
    notification = services.notify(user.id, "offer", "A chat is waiting")
    session.commit()

    assert push.deliver_push(notification.id) == 0
    assert push.deliver_push(notification.id) == 0
    session.expire_all()
    assert (busy.failure_count, closed.failure_count) == (2, 2)
    assert busy.last_success_at is None


def test_a_success_resets_the_failure_count(session, push_service, browser_keys):
    user = UserFactory()
    push_service.statuses["/flaky"] = 500
    subscription = services.subscribe_push(user, push_service.url("/flaky"), browser_keys.p256dh, browser_keys.auth)
    notification = services.notify(user.id, "offer", "A chat is waiting")
    session.commit()
    push.deliver_push(notification.id)
    del push_service.statuses["/flaky"]

    push.deliver_push(notification.id)

    session.expire_all()
    assert subscription.failure_count == 0 and subscription.last_success_at is not None


def test_a_notification_for_a_user_without_devices_sends_nothing(session, push_service):
    notification = services.notify(UserFactory().id, "offer", "A chat is waiting")
    session.commit()
    assert push.deliver_push(notification.id) == 0
    assert push_service.received == []


def test_after_commit_the_push_is_handed_to_a_background_task_only_for_users_with_devices(
        app, session, monkeypatch, push_service, browser_keys):
    monkeypatch.setitem(app.config, "WEB_PUSH_DELIVERY", "background")
    started = []
    monkeypatch.setattr(socketio, "start_background_task", lambda *args: started.append(args))
    with_device, without = UserFactory(), UserFactory()
    services.subscribe_push(with_device, push_service.url("/phone"), browser_keys.p256dh, browser_keys.auth)

    first = services.notify(with_device.id, "offer", "A chat is waiting")
    services.notify(without.id, "offer", "A chat is waiting")
    assert started == []  # nothing before the commit
    session.commit()

    assert started == [(push.deliver_in_background, app, first.id)]


def test_with_delivery_off_no_background_task_starts(app, session, monkeypatch, push_service, browser_keys):
    started = []
    monkeypatch.setattr(socketio, "start_background_task", lambda *args: started.append(args))
    user = UserFactory()
    services.subscribe_push(user, push_service.url("/phone"), browser_keys.p256dh, browser_keys.auth)
    services.notify(user.id, "offer", "A chat is waiting")
    session.commit()
    assert app.config["WEB_PUSH_DELIVERY"] == "off" and started == []


def test_a_committed_notification_is_pushed_in_the_background(tmp_path, fresh_app, push_service, browser_keys):
    """The whole path on a database of its own: commit, background task, push service, bookkeeping."""
    app = fresh_app(f"sqlite:///{tmp_path / 'push.db'}")
    assert app.config["WEB_PUSH_DELIVERY"] == "background"
    with app.app_context():
        db.create_all()
        user = UserFactory()
        db.session.commit()
        subscription_id = services.subscribe_push(user, push_service.url("/phone"), browser_keys.p256dh,
                                                  browser_keys.auth).id
        services.notify(user.id, "offer", "A chat is waiting", url="/expert")
        db.session.commit()

        [request] = push_service.wait_for(1)
        plain = http_ece.decrypt(request.body, private_key=browser_keys.private_key,
                                 auth_secret=browser_keys.auth_secret, version="aes128gcm")
        assert json.loads(plain)["title"] == "A chat is waiting"

        def recorded() -> bool:
            try:
                return db.session.get(PushSubscription, subscription_id).last_success_at is not None
            finally:
                db.session.rollback()  # SQLite's transactions take the write lock: let the task write meanwhile

        assert wait_until(recorded), "the background task did not record the delivery"
