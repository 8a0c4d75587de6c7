"""The visitor's side of a conversation: they arrive at the door, wait, come and go, leave, rate.

The visitor is known only by a random token their browser keeps; only its hash is stored. Letting them in
and every end of a conversation go through the router (`router/admission.py`), which keeps the load counters
equal to the live rows. The visitors who go without a word, as the sweeps find them, are departures.py's.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from marketplace.accounts import services as accounts
from marketplace.brands import opening
from marketplace.brands import services as brands
from marketplace.brands.models import Brand
from marketplace.database import db, end_read, unit_of_work, use_case, utcnow
from marketplace.decisions import services as decisions
from marketplace.errors import Conflict, InvalidInput, NotFound, Unavailable, clean_text
from marketplace.experts import services as experts
from marketplace.faq import answering
from marketplace.routing import events, networks
from marketplace.routing.chat.messages import Posted
from marketplace.routing.contacts import services as contacts
from marketplace.routing.door.departures import visitor_gone  # noqa: F401 - a visitor gone without a word: the door's too
from marketplace.routing.models import (
    ASSIGNED_STATUSES,
    OPEN_STATUSES,
    QUEUED_STATUSES,
    WITH_BOT_STATUSES,
    Conversation,
    ConversationStatus,
    EndReason,
)
from marketplace.routing.router.admission import admit, end_conversation, end_with_bot, meet_bot
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


def visitor_token_hash(token: str | None) -> str:
    """The stored form of a visitor's token, refused (naming `visitor_token`) when malformed."""
    return hash_token(_check_token(token))


def start_conversation(widget_key: str, token: str | None, *, topic: str | None = None,
                       page_url: str | None = None, locale: str | None = None,
                       network: str | None = None) -> Conversation:
    """Let a visitor in (or refuse them at the door as capped, never silently); resumes their live one.

    One transaction (the router's decisions for the brand follow, each in its own, when they were let in).
    """
    with unit_of_work():
        brand = brands.brand_for_widget(widget_key)
        token_hash = hash_token(_check_token(token))
        fields = {"topic": _clean_topic(brand, topic), "page_url": _clean_page_url(page_url),
                  "locale": _clean_locale(locale), "visitor_network": networks.fingerprint(network)}
        brand_id = brand.id
    return enter(brand_id, token_hash, **fields)


def enter(brand_id: int, token_hash: str, **fields: object) -> Conversation:
    """A browser's visitor comes in (`come_in`), their new conversation routed once committed (they write in it once
    they are in)."""
    conversation, let_in = come_in(brand_id, token_hash, **fields)
    if let_in:
        route_brand(brand_id)
        db.session.refresh(conversation)
    return conversation


def come_in(brand_id: int, token_hash: str, **fields: object) -> tuple[Conversation, bool]:
    """The visitor known by `token_hash` (a browser's, or a messaging app customer's: channels/) comes in: their
    open conversation with the brand, else a new one let in (or refused at the door as capped, never silently)
    with `fields`; and True when a new one was let in: the caller routes the brand (`route_brand`) once committed.
    A messaging app's customer brings a message: it is stored first, then the brand routed (`first_message_stored`;
    the router offers no such conversation before it holds one), so the expert is never offered an empty chat, nor
    one they could close before it is there."""
    try:
        with unit_of_work():
            live = _live_conversation(brand_id, token_hash)
            if live is not None:
                return live, False
            # A visitor who proved an address before (their latest conversation with the brand has a contact)
            # starts a conversation of the same contact, after the reopen window too.
            conversation = Conversation(brand_id=brand_id, visitor_token_hash=token_hash,
                                        contact_id=contacts.contact_for_visitor(brand_id, token_hash), **fields)
            if answering.bot_answers_first(brand_id):
                meet_bot(conversation)  # the brand's FAQ bot first; a person when it hands over (routing/bot/)
                let_in = False
            else:
                let_in = admit(conversation)
    except sa.exc.IntegrityError:
        # The visitor's other tab started one at the same moment (one live conversation per visitor, a unique
        # index): nothing of this attempt stays (the unit rolled back), and the visitor resumes that one, as a
        # second request would.
        with unit_of_work():
            live = _live_conversation(brand_id, token_hash)
            if live is None:
                raise
            return live, False
    return conversation, let_in


def start_follow_up(earlier_id: int) -> tuple[int, bool]:
    """Start a conversation for the visitor of an ended one who wrote after its reopen window from elsewhere than
    the page (an e-mail reply): its id, and True when a new one was let in. The same brand, browser, contact, topic
    and language, their address and consent carried over; let in like any other, the visitor away
    (`visitor_left_at`: the sweep waits for no page of theirs, and the expert who takes it keeps it asynchronous),
    but not routed: the caller stores the visitor's message, then routes (`first_message_stored`), and the router
    offers no such conversation before it holds a message. When the visitor has an open conversation with the
    brand, that one (one per visitor and brand).

    Unavailable when the door refuses it now (closed hours, a cap): nothing stays, not even the refusal, so the
    sender may try again later without counting twice.
    """
    try:
        with unit_of_work():
            earlier = db.session.get(Conversation, earlier_id)
            if earlier is None:
                raise NotFound(_l("No such conversation."))
            brand_id, token_hash = earlier.brand_id, earlier.visitor_token_hash
            live = _live_conversation(brand_id, token_hash)
            if live is not None:
                return live.id, False
            conversation = Conversation(
                brand_id=brand_id, topic=earlier.topic, locale=earlier.locale, visitor_token_hash=token_hash,
                resumed_token_hash=earlier.resumed_token_hash, visitor_network=earlier.visitor_network,
                visitor_email=earlier.visitor_email, visitor_email_consent_at=earlier.visitor_email_consent_at,
                visitor_left_at=utcnow(), contact_id=contacts.contact_for_visitor(brand_id, token_hash))
            if not admit(conversation):
                raise Unavailable(_l("Nobody can take a conversation now; try again later."), "body")
            return conversation.id, True
    except sa.exc.IntegrityError:
        # The visitor started one on the page at the same moment: that one takes the message.
        with unit_of_work():
            live = _live_conversation(brand_id, token_hash)
            if live is None:
                raise
            return live.id, False


def first_message_stored(brand_id: int, conversation_id: int, let_in: bool, first: Posted) -> None:
    """Offer a conversation let in without routing (`come_in`, `start_follow_up`) once the visitor's message it was
    let in for is stored (`first`): route the brand when that is its first message and it waits, let in by this
    delivery or by an earlier one that failed before storing it. A crash before this call leaves it to the routing
    sweep (`route_all`), which offers it then."""
    if first.created and first.message.seq == 1 and (let_in or _waiting(conversation_id)):
        route_brand(brand_id)


def _waiting(conversation_id: int) -> bool:
    status = db.session.scalar(sa.select(Conversation.status).where(Conversation.id == conversation_id))
    end_read()
    return status == ConversationStatus.WAITING


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
    token_hash = hash_token(_check_token(token))
    # The browser that started it, or one the visitor bound through the e-mailed resume link (continuation/).
    if (conversation is None or conversation.brand_id != brand.id
            or token_hash not in (conversation.visitor_token_hash, conversation.resumed_token_hash)):
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
def give_email(widget_key: str, token: str | None, conversation_id: int, email: str | None,
               consent: object) -> Conversation:
    """The visitor gives an address, with their consent, where the chat may continue if they leave."""
    conversation = visitor_conversation(widget_key, token, conversation_id)
    email = accounts.normalize_email(email or "", "email")
    if consent is not True:
        raise InvalidInput(_l("Tick the box to agree that we write to you at this address."), "consent")
    moved = db.session.execute(
        sa.update(Conversation).where(Conversation.id == conversation.id, Conversation.status.in_(OPEN_STATUSES))
        .values(visitor_email=email, visitor_email_consent_at=utcnow()).execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        raise Conflict(_l("This chat has ended."), "email")
    return conversation  # expired by the commit: read again, as it now stands, when it is next used


def leave(widget_key: str, token: str | None, conversation_id: int) -> Conversation:
    """The visitor ends it: a queued conversation is abandoned, one an expert holds (active or asynchronous)
    closed, one the bot has resolved (unconfirmed, once the bot has answered)."""
    conversation = visitor_conversation(widget_key, token, conversation_id)
    if conversation.status in WITH_BOT_STATUSES:
        end_with_bot(conversation.id)
    elif conversation.status in QUEUED_STATUSES:
        end_conversation(conversation.id, ConversationStatus.ABANDONED, EndReason.LEFT)
    elif conversation.status in ASSIGNED_STATUSES:
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
    if conversation.expert_id is not None:  # it counts in their average (invitations, bonuses): they are told
        decisions.record(conversation.expert_id, "rating_counted", {"rating": rating}, brand_id=conversation.brand_id,
                         subject=("conversation", conversation.id))
    _tell_expert(conversation.id)  # the expert sees the rating and comment in the closed chat
    return conversation  # expired by the commit: read again, as it now stands, when it is next used
