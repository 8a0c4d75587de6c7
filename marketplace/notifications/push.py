"""Web Push delivery: one signed and encrypted request per subscribed browser (a person's devices, a visitor's
browsers), once what it carries is committed."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
import sqlalchemy as sa
from flask import Flask, current_app
from pywebpush import WebPushException, webpush

from marketplace.database import db, unit_of_work, utcnow
from marketplace.notifications.models import Notification, PushSubscription

log = logging.getLogger("marketplace.notifications")

# Invitations and offers are stale within the hour: a phone offline for longer need not get them later.
TTL_SECONDS = 3600
TIMEOUT_SECONDS = 10
GONE = frozenset({404, 410})  # the push service no longer knows this subscription


@dataclass(frozen=True)
class Target:
    id: int
    endpoint: str
    p256dh: str
    auth: str


def push_payload(notification: Notification) -> dict[str, object]:
    """What the service worker receives in its `push` event."""
    return {"id": notification.id, "kind": notification.kind, "title": notification.title,
            "body": notification.body, "url": notification.url}


def deliver_push(notification_id: int) -> int:
    """Push a committed notification to each device of its user; return how many push services accepted it.

    Runs its own short transactions, and none while waiting on the network, so call it outside other work.
    """
    with unit_of_work():  # ends the read: SQLite would keep its write lock for the whole round of requests
        notification = db.session.get(Notification, notification_id)
        if notification is None:
            return 0
        data = json.dumps(push_payload(notification))
        targets = [Target(s.id, s.endpoint, s.p256dh, s.auth) for s in db.session.scalars(
            sa.select(PushSubscription).where(PushSubscription.user_id == notification.user_id)
            .order_by(PushSubscription.id))]
    return send_to(PushSubscription, targets, data).accepted


@dataclass(frozen=True)
class Outcome:
    accepted: int  # how many push services took the push
    gone: int  # subscriptions the push services no longer know: deleted


def send_to(table: Any, targets: list[Target], data: str, ttl: int = TTL_SECONDS) -> Outcome:
    """Send `data` to each target, then note on its row how it went: a success, a failure more, or gone (404, 410:
    the row is deleted). `table`: the model of the targets' rows, with `id`, `last_success_at` and `failure_count`
    (a person's devices, a visitor's browsers). Call it outside a transaction: none is held while on the network."""
    if not targets:
        return Outcome(0, 0)
    with requests.Session() as http:
        http.max_redirects = 0  # a push service answers itself; following it elsewhere is not our business
        statuses = {target.id: _send(http, target, data, ttl) for target in targets}
    accepted = [target_id for target_id, status in statuses.items() if status is not None and status < 300]
    gone = [target_id for target_id, status in statuses.items() if status in GONE]
    failed = [target_id for target_id in statuses if target_id not in accepted and target_id not in gone]
    with unit_of_work():
        if accepted:
            db.session.execute(sa.update(table).where(table.id.in_(accepted)).values(last_success_at=utcnow(),
                                                                                     failure_count=0))
        if gone:
            db.session.execute(sa.delete(table).where(table.id.in_(gone)))
        if failed:
            db.session.execute(sa.update(table).where(table.id.in_(failed))
                               .values(failure_count=table.failure_count + 1))
    return Outcome(len(accepted), len(gone))


def in_background(app: Flask, deliver: Callable[[int], object], item_id: int) -> None:
    """Run `deliver(item_id)` in an app context of its own, so a slow push service never holds up a request."""
    with app.app_context():
        try:
            deliver(item_id)
        except Exception:
            # Nobody waits on this task: the log is the only place a failure can go.
            log.exception("Web Push of %s %s failed", getattr(deliver, "__name__", deliver), item_id)


def deliver_in_background(app: Flask, notification_id: int) -> None:
    """Push a notification from a background task (`in_background`)."""
    in_background(app, deliver_push, notification_id)


def _send(http: requests.Session, target: Target, data: str, ttl: int) -> int | None:
    """POST one push; return the push service's status, or None when it could not be reached."""
    try:
        response = webpush(
            {"endpoint": target.endpoint, "keys": {"p256dh": target.p256dh, "auth": target.auth}},
            data=data,
            vapid_private_key=current_app.extensions["vapid"],
            vapid_claims={"sub": current_app.config["VAPID_SUBJECT"]},  # a new dict: webpush adds `aud` to it
            timeout=TIMEOUT_SECONDS,
            ttl=ttl,
            requests_session=http,
        )
    except WebPushException as error:
        log.warning("push service refused subscription %s: %s", target.id, error.status_code)
        return error.status_code
    except requests.RequestException as error:
        log.warning("push service of subscription %s unreachable: %s", target.id, error)
        return None
    return response.status_code  # type: ignore[union-attr]  # a Response, since curl mode is off
