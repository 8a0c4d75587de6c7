"""Short-lived signed download links.

A link names the attachment, the file (the attachment or its thumbnail), its expiry, and whom it was given
to: a logged-in person (their user id; the download checks they are that person and may still see it) or
the conversation's visitor (the link itself is their proof: they have no account, and an <img> sends no
header). It is signed with the application's secret key, so it cannot be made up or changed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from marketplace.database import utcnow

SALT = "attachment-link"
VARIANTS = ("file", "thumbnail")


@dataclass(frozen=True)
class Grant:
    """What a valid link allows: one file of one attachment, to one user (None: the visitor)."""

    attachment_id: int
    variant: str
    user_id: int | None


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def expiry(now: dt.datetime | None = None) -> dt.datetime:
    return (now or utcnow()) + dt.timedelta(seconds=current_app.config["ATTACHMENT_LINK_SECONDS"])


def sign(attachment_id: int, variant: str, user_id: int | None, expires_at: dt.datetime) -> str:
    return _serializer().dumps({"a": attachment_id, "v": variant, "u": user_id, "e": int(expires_at.timestamp())})


def read(token: str, now: dt.datetime | None = None) -> Grant | None:
    """The grant of a valid, unexpired token; None for anything else."""
    try:
        payload = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(payload, dict) or payload.get("v") not in VARIANTS:
        return None
    expires, attachment_id, user_id = payload.get("e"), payload.get("a"), payload.get("u")
    if not isinstance(expires, int) or expires < (now or utcnow()).timestamp():
        return None
    if not isinstance(attachment_id, int) or not (user_id is None or isinstance(user_id, int)):
        return None
    return Grant(attachment_id, payload["v"], user_id)
