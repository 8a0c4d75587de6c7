"""The visitor's side of a conversation: they arrive at the door, wait, come and go, leave, rate.

The visitor is known only by a random token their browser keeps; only its hash is stored. Letting them in
and every end of a conversation go through the router (`router/admission.py`), which keeps the load counters
equal to the live rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from marketplace.brands import opening
from marketplace.brands import services as brands
from marketplace.brands.models import Brand
from marketplace.database import db, end_read, unit_of_work, use_case, utcnow
from marketplace.errors import Conflict, InvalidInput, NotFound, clean_text
from marketplace.experts import services as experts
from marketplace.routing import events, networks
from marketplace.routing.models import OPEN_STATUSES, QUEUED_STATUSES, Conversation, ConversationStatus, EndReason
from marketplace.routing.router.admission import admit, end_conversation
from marketplace.routing.router.decisions import route_brand

TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,128}$")


@dataclass(frozen=True)
class WidgetInfo:
    name: str
    topics: list[str]
    open: bool
    attachment_max_bytes: int


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_token(token: str | None) -> str:
    if not token or not TOKEN.match(token):
        raise InvalidInput(_l("The chat lost its visitor token; reload the page."), "visitor_token")
    return token


def widget_info(widget_key: str) -> WidgetInfo:
    brand = brands.brand_for_widget(widget_key)
    info = WidgetInfo(brand.name, list(brand.topics or []), opening.is_open(brand), brand.attachment_max_bytes)
    end_read()
    return info


def _clean_topic(brand: Brand, topic: str | None) -> str | None:
    topic = clean_text(topic, "topic", max_length=80) or None
    if topic is not None and brand.topics and topic not in brand.topics:
        raise InvalidInput(_l("Choose one of the topics offered."), "topic")
    return topic


def _clean_page_url(page_url: str | None) -> str | None:
    page_url = (page_url or "").strip()
    if not page_url:
        return None
    if len(page_url) > 500:
        page_url = page_url[:500]
    try:
        scheme = urlsplit(page_url).scheme
    except ValueError:  # a malformed host ("http://[x"): no page anyone could open
        scheme = None
    if scheme not in ("http", "https"):
        raise InvalidInput(_l("The page address must start with http:// or https://."), "page_url")
    return page_url


def _clean_locale(locale: str | None) -> str | None:
    locale = (locale or "").strip()[:10]
    return locale if re.match(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})?$", locale) else None


def start_conversation(widget_key: str, token: str | None, *, topic: str | None = None,
                       page_url: str | None = None, locale: str | None = None,
                       network: str | None = None) -> Conversation:
    """Let a visitor in (or refuse them at the door as capped, never silently); resumes their live one.

    One transaction (the router's decisions for the brand follow, each in its own, when they were let in).
    """
    try:
        with unit_of_work():
            brand = brands.brand_for_widget(widget_key)
            token_hash = hash_token(_check_token(token))
            topic, page_url, locale = _clean_topic(brand, topic), _clean_page_url(page_url), _clean_locale(locale)
            brand_id = brand.id
            live = _live_conversation(brand_id, token_hash)
            if live is not None:
                return live
            conversation = Conversation(brand_id=brand_id, topic=topic, page_url=page_url, locale=locale,
                                        visitor_token_hash=token_hash, visitor_network=networks.fingerprint(network))
            let_in = admit(conversation)
    except sa.exc.IntegrityError:
        # The visitor's other tab started one at the same moment (one live conversation per visitor, a unique
        # index): nothing of this attempt stays (the unit rolled back), and the visitor resumes that one, as a
        # second request would.
        with unit_of_work():
            live = _live_conversation(brand_id, token_hash)
            if live is None:
                raise
            return live
    if let_in:
        route_brand(brand_id)
        db.session.refresh(conversation)
    return conversation


def _live_conversation(brand_id: int, token_hash: str) -> Conversation | None:
    return db.session.scalar(
        sa.select(Conversation).where(Conversation.brand_id == brand_id, Conversation.visitor_token_hash == token_hash,
                                      Conversation.status.in_(OPEN_STATUSES))
        .order_by(Conversation.id.desc()).limit(1)
    )


def visitor_conversation(widget_key: str, token: str | None, conversation_id: int) -> Conversation:
    """The visitor's own conversation; another token, or another brand's key, finds nothing."""
    brand = brands.brand_for_widget(widget_key)
    conversation = db.session.get(Conversation, conversation_id)
    if (conversation is None or conversation.brand_id != brand.id
            or conversation.visitor_token_hash != hash_token(_check_token(token))):
        raise NotFound(_l("No such conversation."))
    return conversation


@use_case
def visitor_seen(conversation_id: int) -> None:
    """The visitor's page is still there (their status poll): waiting conversations are not abandoned.

    A visitor the expert was told had left is back: the expert is told that too.
    """
    db.session.execute(sa.update(Conversation).where(Conversation.id == conversation_id)
                       .values(visitor_seen_at=utcnow()).execution_options(synchronize_session=False))
    back = db.session.execute(
        sa.update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.visitor_left_at.is_not(None))
        .values(visitor_left_at=None).execution_options(synchronize_session=False)
    ).rowcount
    if back:
        _tell_expert(conversation_id)


def _tell_expert(conversation_id: int) -> None:
    """Send the assigned expert the chat as it now stands, once the transaction commits."""
    conversation = db.session.get(Conversation, conversation_id, populate_existing=True)
    if conversation is None or conversation.expert_id is None:
        return
    brand = db.session.get(Brand, conversation.brand_id)
    events.chat_changed(conversation, brand, experts.get_profile(conversation.expert_id).user_id)


@use_case
def _mark_visitor_gone(conversation_id: int, seen_before: dt.datetime, now: dt.datetime) -> bool:
    """Mark an active chat whose visitor's page went silent (a compare-and-set); True when this call marked it."""
    marked = db.session.execute(
        sa.update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.status == ConversationStatus.ACTIVE,
               Conversation.visitor_left_at.is_(None), Conversation.visitor_seen_at <= seen_before)
        .values(visitor_left_at=now).execution_options(synchronize_session=False)
    ).rowcount
    if marked:
        _tell_expert(conversation_id)
    return bool(marked)


def leave(widget_key: str, token: str | None, conversation_id: int) -> Conversation:
    """The visitor ends it: a queued conversation is abandoned, an active one closed."""
    conversation = visitor_conversation(widget_key, token, conversation_id)
    if conversation.status in QUEUED_STATUSES:
        end_conversation(conversation.id, ConversationStatus.ABANDONED, EndReason.LEFT)
    elif conversation.status == ConversationStatus.ACTIVE:
        end_conversation(conversation.id, ConversationStatus.CLOSED, EndReason.VISITOR)
    db.session.refresh(conversation)
    return conversation


@use_case
def rate(widget_key: str, token: str | None, conversation_id: int, rating: object, comment: str | None) -> Conversation:
    """The visitor's 1-5 rating of an answered conversation, once."""
    conversation = visitor_conversation(widget_key, token, conversation_id)
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InvalidInput(_l("Choose a rating from 1 to 5."), "rating")
    comment = clean_text(comment, "comment", max_length=1000) or None
    moved = db.session.execute(
        sa.update(Conversation)
        .where(Conversation.id == conversation.id, Conversation.status == ConversationStatus.CLOSED,
               Conversation.accepted_at.is_not(None), Conversation.rating.is_(None))
        .values(rating=rating, rating_comment=comment, rated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        raise Conflict(_l("Only a finished chat can be rated, and only once."), "rating")
    _tell_expert(conversation.id)  # the expert sees the rating and comment in the closed chat
    return conversation  # expired by the commit: read again, as it now stands, when it is next used


def sweep(now: dt.datetime | None = None) -> dict[str, int]:
    """Mark conversations missed (waited too long), abandoned (the visitor's page went) or closed (silent).

    An active chat whose visitor's page went is not ended (they may come back to it): `notice_gone_visitors`
    tells the expert.
    """
    now = now or utcnow()
    grace = dt.timedelta(seconds=current_app.config["VISITOR_GRACE_SECONDS"])
    rows = db.session.execute(
        sa.select(Conversation.id, Conversation.status, Conversation.created_at, Conversation.visitor_seen_at,
                  Conversation.last_activity_at, Brand.max_wait_seconds, Brand.inactivity_close_minutes)
        .join(Brand, Brand.id == Conversation.brand_id)
        .where(Conversation.status.in_(OPEN_STATUSES))
    ).all()
    end_read()
    counts = {"missed": 0, "abandoned": 0, "closed": 0}
    for row in rows:
        if row.status in QUEUED_STATUSES:
            if row.created_at + dt.timedelta(seconds=row.max_wait_seconds) <= now:
                counts["missed"] += end_conversation(row.id, ConversationStatus.MISSED, EndReason.MAX_WAIT,
                                                     now=now) is not None
            elif row.visitor_seen_at + grace <= now:
                counts["abandoned"] += end_conversation(row.id, ConversationStatus.ABANDONED, EndReason.LEFT,
                                                        now=now) is not None
        elif row.last_activity_at + dt.timedelta(minutes=row.inactivity_close_minutes) <= now:
            counts["closed"] += end_conversation(row.id, ConversationStatus.CLOSED, EndReason.INACTIVITY,
                                                 now=now) is not None
    return counts


def notice_gone_visitors(now: dt.datetime | None = None) -> int:
    """Mark the active chats whose visitor's page has been silent for VISITOR_GRACE_SECONDS; how many.

    Run with the routing sweep (every ROUTING_SWEEP_SECONDS), so the expert learns it soon after the grace.
    """
    now = now or utcnow()
    silent_since = now - dt.timedelta(seconds=current_app.config["VISITOR_GRACE_SECONDS"])
    gone = db.session.scalars(
        sa.select(Conversation.id)
        .where(Conversation.status == ConversationStatus.ACTIVE, Conversation.visitor_left_at.is_(None),
               Conversation.visitor_seen_at <= silent_since)
    ).all()
    end_read()
    return sum(_mark_visitor_gone(conversation_id, silent_since, now) for conversation_id in gone)
