"""A visitor's browsers that take Web Push for their conversation: letting one in, forgetting them.

The visitor has no account, so a subscription belongs to the conversation, checked by the same rules as a person's
device (notifications/subscriptions.py). The widget runs in a frame on the brand's site, where browsers refuse to
ask for the permission to notify: the frame asks for a link to a small page of ours (`opt_in_link`), opened at the
top, which asks, subscribes and sends the subscription with the link's short-lived token, never the visitor's own
token (which must not go in an address). Where the widget is itself the page (opened from a resume link) it
subscribes with the visitor's token, as its other calls do.

`Conversation.visitor_push_at` says, on the row every departure reads already, that a browser takes pushes: set by
the first subscription, cleared when the last one goes (the visitor's choice, or the push service's 404/410).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from marketplace.brands import services as brands
from marketplace.database import UTCDateTime, db, end_read, use_case, utcnow
from marketplace.errors import Conflict, NotFound
from marketplace.notifications.subscriptions import BrowserSubscription, clean_subscription
from marketplace.routing import events
from marketplace.routing.continuation import tokens
from marketplace.routing.door.services import visitor_conversation
from marketplace.routing.models import OPEN_STATUSES, Conversation, VisitorPushSubscription
from marketplace.shared.links import path_for

OPT_IN_LIFETIME = dt.timedelta(minutes=15)  # the page is opened at once; a link found later in a history is dead
MAX_BROWSERS = 5  # per conversation: each reply goes to each of them


@dataclass(frozen=True)
class OptInLink:
    url: str  # a path on this site
    expires_at: dt.datetime


def opt_in_link(widget_key: str, visitor_token: str | None, conversation_id: int,
                now: dt.datetime | None = None) -> OptInLink:
    """The address of the page where the visitor lets this browser take pushes for their open conversation."""
    now = now or utcnow()
    conversation = visitor_conversation(widget_key, visitor_token, conversation_id)
    _require_open(conversation)
    token = tokens.push_opt_in_token(conversation.id, conversation.visitor_token_hash, OPT_IN_LIFETIME, now)
    end_read()
    return OptInLink(path_for("visitor_push.opt_in", key=widget_key, t=token), now + OPT_IN_LIFETIME)


def opted_in_conversation(widget_key: str, token: str | None, now: dt.datetime | None = None) -> Conversation:
    """The conversation of an opt-in page's token; NotFound, saying no more, when forged, expired or another
    brand's."""
    brand = brands.brand_for_widget(widget_key)
    read = tokens.read(tokens.PUSH_OPT_IN, token or "", now or utcnow())
    conversation = db.session.get(Conversation, read.conversation_id) if read else None
    if (conversation is None or conversation.brand_id != brand.id
            or not read.holds_for(conversation.visitor_token_hash)):
        raise NotFound(_l("This link has expired or is not valid."))
    return conversation


@use_case
def subscribe(widget_key: str, visitor_token: str | None, conversation_id: int, endpoint: str, p256dh: str,
              auth: str) -> Conversation:
    """Let this browser take pushes for the visitor's own conversation (the widget, opened as a page)."""
    conversation = visitor_conversation(widget_key, visitor_token, conversation_id)
    return _subscribe(conversation, clean_subscription(endpoint, p256dh, auth))


@use_case
def subscribe_opted_in(widget_key: str, opt_in_token: str | None, endpoint: str, p256dh: str, auth: str,
                       now: dt.datetime | None = None) -> Conversation:
    """Let this browser take pushes for the conversation of the opt-in page's token."""
    conversation = opted_in_conversation(widget_key, opt_in_token, now)
    return _subscribe(conversation, clean_subscription(endpoint, p256dh, auth))


def _subscribe(conversation: Conversation, browser: BrowserSubscription) -> Conversation:
    """Keep the browser's subscription (the same endpoint again is updated, never doubled) and mark the conversation
    reachable by push, only while it is open; its visitor's pages hear of it."""
    _require_open(conversation)
    subscription = db.session.scalar(sa.select(VisitorPushSubscription).where(
        VisitorPushSubscription.conversation_id == conversation.id,
        VisitorPushSubscription.endpoint == browser.endpoint))
    if subscription is None:
        if _browser_count(conversation.id) >= MAX_BROWSERS:
            raise Conflict(_l("Notifications are on in %(count)d browsers for this chat already: turn one off first.",
                              count=MAX_BROWSERS), "endpoint")
        subscription = VisitorPushSubscription(conversation_id=conversation.id, endpoint=browser.endpoint)
        db.session.add(subscription)
    subscription.p256dh, subscription.auth, subscription.failure_count = browser.p256dh, browser.auth, 0
    # A compare-and-set on the status, as the address is given (door/services.give_email): a chat that ended
    # meanwhile keeps no new way back.
    marked = db.session.execute(
        sa.update(Conversation).where(Conversation.id == conversation.id, Conversation.status.in_(OPEN_STATUSES))
        .values(visitor_push_at=sa.func.coalesce(Conversation.visitor_push_at, sa.literal(utcnow(), UTCDateTime())))
        .execution_options(synchronize_session=False)
    ).rowcount
    if marked != 1:
        raise Conflict(_l("This chat has ended."), "endpoint")
    db.session.refresh(conversation)
    events.visitor_told(conversation)
    return conversation


@use_case
def unsubscribe(widget_key: str, visitor_token: str | None, conversation_id: int,
                endpoint: str | None = None) -> Conversation:
    """Stop pushes for the visitor's conversation: to the browser at `endpoint`, or to all of them when None."""
    conversation = visitor_conversation(widget_key, visitor_token, conversation_id)
    query = sa.delete(VisitorPushSubscription).where(VisitorPushSubscription.conversation_id == conversation.id)
    if endpoint is not None:
        query = query.where(VisitorPushSubscription.endpoint == endpoint.strip())
    db.session.execute(query)
    forget_if_no_browser(conversation.id)
    db.session.refresh(conversation)
    events.visitor_told(conversation)
    return conversation


def forget_if_no_browser(conversation_id: int) -> None:
    """Clear `visitor_push_at` when no subscription of the conversation is left (in the caller's transaction)."""
    subscriptions = VisitorPushSubscription
    db.session.execute(
        sa.update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.visitor_push_at.is_not(None),
               ~sa.exists().where(subscriptions.conversation_id == conversation_id))
        .values(visitor_push_at=None).execution_options(synchronize_session=False)
    )


def has_browsers(conversation_id: int) -> bool:
    """Whether a browser takes pushes for the conversation."""
    return bool(db.session.scalar(sa.select(sa.exists().where(
        VisitorPushSubscription.conversation_id == conversation_id))))


def _browser_count(conversation_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(VisitorPushSubscription)
                             .where(VisitorPushSubscription.conversation_id == conversation_id)) or 0


def _require_open(conversation: Conversation) -> None:
    if conversation.status not in OPEN_STATUSES:
        raise Conflict(_l("This chat has ended."), "endpoint")
