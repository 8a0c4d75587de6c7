"""An expert's reply to a visitor who is away, as one Web Push to each of the visitor's browsers.

`deliver_to_absent_visitor` hears of each expert message written while the visitor is away (routing/delivery.py),
inside its transaction; once that commits, `deliver` runs in a background task (WEB_PUSH_DELIVERY "background";
"off" sends nothing, and tests call `deliver` themselves). The push carries the expert's first name, the text
shortened and the path of a resume link signed for the conversation (continuation/tokens.py): clicked, the service
worker opens it, and the widget shows the whole conversation. A visitor back on the page meanwhile reads the reply
there: nothing is pushed. Browsers whose push service says they are gone are forgotten, and with the last one, the
way back.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext

from marketplace.accounts.language import in_language
from marketplace.brands.models import Brand
from marketplace.database import after_commit, db, unit_of_work, utcnow
from marketplace.experts import services as experts
from marketplace.extensions import socketio
from marketplace.notifications import push
from marketplace.notifications.push import Target
from marketplace.routing.continuation import letters, tokens
from marketplace.routing.models import (
    Attachment,
    Conversation,
    ConversationStatus,
    Message,
    VisitorPushSubscription,
)
from marketplace.routing.visitor_push.services import forget_if_no_browser, has_browsers
from marketplace.shared.links import path_for

TTL_SECONDS = 24 * 3600  # unlike an expert's offer, a reply is still worth reading the next morning
BODY_LENGTH = 200  # a notification shows two or three lines; the conversation holds the rest


def deliver_to_absent_visitor(message: Message) -> None:
    """An expert wrote while the visitor is away: once the message commits, push it to their browsers."""
    if current_app.config["WEB_PUSH_DELIVERY"] != "background" or not has_browsers(message.conversation_id):
        return
    app = current_app._get_current_object()  # the background task needs the app itself, not the proxy
    after_commit(functools.partial(socketio.start_background_task, push.in_background, app, deliver, message.id))


def deliver(message_id: int, now: dt.datetime | None = None) -> int:
    """Push a committed expert message to its visitor's browsers while they are away; how many push services took
    it. Its own short transactions, none held while on the network."""
    now = now or utcnow()
    with unit_of_work():
        message = db.session.get(Message, message_id)
        conversation = db.session.get(Conversation, message.conversation_id) if message else None
        if conversation is None or conversation.status != ConversationStatus.ASYNCHRONOUS:
            return 0
        targets = [Target(s.id, s.endpoint, s.p256dh, s.auth) for s in db.session.scalars(
            sa.select(VisitorPushSubscription).where(VisitorPushSubscription.conversation_id == conversation.id)
            .order_by(VisitorPushSubscription.id))]
        if not targets:
            return 0
        conversation_id = conversation.id
        data = json.dumps(push_payload(message, conversation, now))
    outcome = push.send_to(VisitorPushSubscription, targets, data, ttl=TTL_SECONDS)
    if outcome.gone:
        with unit_of_work():
            forget_if_no_browser(conversation_id)
    return outcome.accepted


def push_payload(message: Message, conversation: Conversation, now: dt.datetime) -> dict[str, Any]:
    """What the service worker shows (static/js/service-worker.js): who wrote, what, and the link back."""
    brand = db.session.get(Brand, conversation.brand_id)
    profile = experts.get_profile(conversation.expert_id) if conversation.expert_id else None
    name = letters.expert_first_name(profile.display_name if profile else None)
    with in_language(conversation.locale):
        title = gettext("%(name)s of %(brand)s replied to you", name=name or brand.name, brand=brand.name)
        body = _shorten(message.body)
        if not body:
            filename = db.session.scalar(sa.select(Attachment.filename).where(Attachment.message_id == message.id))
            body = gettext("Sent you a file: %(name)s", name=filename or "")
    token = tokens.push_resume_token(conversation.id, conversation.visitor_token_hash, now)
    return {"id": f"visitor-message-{message.id}", "kind": "visitor_reply", "title": title, "body": body,
            "url": path_for("continuation.resume", key=brand.widget_key, token=token)}


def _shorten(text: str | None) -> str:
    text = " ".join((text or "").split())  # a notification shows one paragraph
    return text if len(text) <= BODY_LENGTH else text[:BODY_LENGTH - 1].rstrip() + "…"
