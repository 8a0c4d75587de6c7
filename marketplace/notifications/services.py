"""Notifications: write them for a user, read and mark them, and the devices that receive them as Web Push."""

from __future__ import annotations

import functools
import logging
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from flask_babel import lazy_gettext as _l

from marketplace.accounts.models import User
from marketplace.database import after_commit, db, use_case, utcnow
from marketplace.errors import Forbidden, NotFound
from marketplace.extensions import socketio
from marketplace.notifications import push
from marketplace.notifications.models import Notification, PushSubscription
from marketplace.notifications.subscriptions import clean_subscription
from marketplace.shared.rooms import user_room

log = logging.getLogger("marketplace.notifications")

TITLE_LENGTH = 120
BODY_LENGTH = 500
MAX_LIMIT = 100
USER_AGENT_LENGTH = 300


def notify(user_id: int, kind: str, title: str, body: str = "", url: str | None = None,
           data: dict[str, Any] | None = None) -> Notification:
    """Add a notification to the caller's transaction; once it commits, show it live and push it.

    `title` and `body` are already in the user's language; `url` is a path on this site.
    """
    if url is not None and (not url.startswith("/") or url.startswith("//")):
        raise ValueError(f"a notification links to a path on this site, not {url!r}")
    notification = Notification(user_id=user_id, kind=kind, title=_fit(str(title), TITLE_LENGTH),
                                body=_fit(str(body or ""), BODY_LENGTH), url=url, data=data or {},
                                created_at=utcnow())
    db.session.add(notification)
    db.session.flush()  # the id goes into the live event and the push
    send_push = current_app.config["WEB_PUSH_DELIVERY"] == "background" and has_push_devices(user_id)
    app = current_app._get_current_object()  # the background task needs the app itself, not the proxy
    after_commit(functools.partial(_announce, app, user_id, live_event(notification), send_push))
    return notification


def live_event(notification: Notification) -> dict[str, Any]:
    """What the `notification` Socket.IO event carries."""
    return {"id": notification.id, "kind": notification.kind, "title": notification.title,
            "body": notification.body, "url": notification.url,
            "created_at": notification.created_at.isoformat()}


def list_notifications(actor: User, *, limit: int = 20) -> list[Notification]:
    """Return the actor's newest notifications, newest first."""
    _require_person(actor)
    query = (sa.select(Notification).where(Notification.user_id == actor.id)
             .order_by(Notification.created_at.desc(), Notification.id.desc())
             .limit(max(1, min(limit, MAX_LIMIT))))
    return list(db.session.scalars(query))


def unread_count(actor: User) -> int:
    """Count the actor's notifications not yet read."""
    _require_person(actor)
    query = sa.select(sa.func.count()).where(Notification.user_id == actor.id, Notification.read_at.is_(None))
    return db.session.scalar(query) or 0


@use_case
def mark_read(actor: User, notification_id: int) -> Notification:
    """Mark one of the actor's notifications read; someone else's is not found."""
    _require_person(actor)
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != actor.id:
        raise NotFound(_l("No such notification."))
    if notification.read_at is None:
        notification.read_at = utcnow()
    return notification


@use_case
def mark_all_read(actor: User) -> int:
    """Mark all the actor's notifications read; return how many were unread."""
    _require_person(actor)
    return db.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == actor.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    ).rowcount


@use_case
def subscribe_push(actor: User, endpoint: str, p256dh: str, auth: str, user_agent: str = "") -> PushSubscription:
    """Save this browser's push subscription for the actor; the same endpoint is updated, never doubled.

    An endpoint another user saved moves to the actor: the browser it belongs to says who is using it now.
    """
    _require_person(actor)
    browser = clean_subscription(endpoint, p256dh, auth)
    subscription = db.session.scalar(sa.select(PushSubscription).where(PushSubscription.endpoint == browser.endpoint))
    if subscription is None:
        subscription = PushSubscription(endpoint=browser.endpoint)
        db.session.add(subscription)
    subscription.user_id = actor.id
    subscription.p256dh = browser.p256dh
    subscription.auth = browser.auth
    subscription.user_agent = (user_agent or "")[:USER_AGENT_LENGTH]
    subscription.failure_count = 0
    return subscription


@use_case
def unsubscribe_push(actor: User, endpoint: str) -> None:
    """Forget the actor's subscription at this endpoint; nothing happens when there is none."""
    _require_person(actor)
    db.session.execute(sa.delete(PushSubscription).where(
        PushSubscription.endpoint == (endpoint or "").strip(), PushSubscription.user_id == actor.id))


def vapid_public_key() -> str:
    """Return the key browsers pass to `pushManager.subscribe` as `applicationServerKey`."""
    return current_app.extensions["vapid_public_key"]


def _announce(app: Flask, user_id: int, event: dict[str, Any], send_push: bool) -> None:
    try:
        socketio.emit("notification", event, to=user_room(user_id))
    except Exception:
        # The notification is committed and on the home page; a lost live event must not fail the request.
        log.exception("could not emit notification %s", event["id"])
    if send_push:
        socketio.start_background_task(push.deliver_in_background, app, event["id"])


def has_push_devices(user_id: int) -> bool:
    """Whether the user has a device that takes Web Push."""
    return bool(db.session.scalar(sa.select(sa.exists().where(PushSubscription.user_id == user_id))))


def takes_push(user_id: sa.ColumnElement[int]) -> sa.ColumnElement[bool]:
    """SQL: whether the user (a column of the caller's query) has a device that takes Web Push."""
    return sa.exists().where(PushSubscription.user_id == user_id)


def users_with_push_devices(user_ids: set[int]) -> set[int]:
    """Which of the users have a device that takes Web Push."""
    if not user_ids:
        return set()
    return set(db.session.scalars(sa.select(PushSubscription.user_id.distinct())
                                  .where(PushSubscription.user_id.in_(sorted(user_ids)))))


def _require_person(actor: User) -> None:
    if getattr(actor, "is_token", False) or getattr(actor, "id", None) is None:
        raise Forbidden(_l("Notifications belong to people, not to API tokens."))


def _fit(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


# A person's own data (the expert's export and account closure, experts/own_data/).

def own_data(user_id: int) -> dict[str, list[dict[str, Any]]]:
    """The user's notifications and push devices as they would export them: endpoints, never the keys."""
    notes = db.session.scalars(sa.select(Notification).where(Notification.user_id == user_id)
                               .order_by(Notification.created_at, Notification.id))
    devices = db.session.scalars(sa.select(PushSubscription).where(PushSubscription.user_id == user_id)
                                 .order_by(PushSubscription.id))
    return {
        "notifications": [{"id": n.id, "kind": n.kind, "title": n.title, "body": n.body, "url": n.url,
                           "created_at": n.created_at, "read_at": n.read_at} for n in notes],
        "push_subscriptions": [{"id": d.id, "endpoint": d.endpoint, "user_agent": d.user_agent,
                                "created_at": d.created_at, "last_success_at": d.last_success_at}
                               for d in devices],
    }


def forget_user(user_id: int) -> int:
    """Delete the user's notifications and push devices inside the caller's transaction; how many devices went."""
    db.session.execute(sa.delete(Notification).where(Notification.user_id == user_id))
    return db.session.execute(sa.delete(PushSubscription).where(PushSubscription.user_id == user_id)).rowcount
