"""The visitor's side of a conversation: they arrive at the door, wait, come and go, leave, rate.

The visitor is known only by a random token their browser keeps; only its hash is stored. Letting them in
and every end of a conversation go through the router (`router/admission.py`), which keeps the load counters
equal to the live rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from marketplace.accounts import services as accounts
from marketplace.brands import opening
from marketplace.brands import services as brands
from marketplace.brands.models import Brand
from marketplace.database import db, end_read, unit_of_work, use_case, utcnow
from marketplace.decisions import services as decisions
from marketplace.errors import Conflict, InvalidInput, NotFound, Unavailable, clean_text
from marketplace.experts import services as experts
from marketplace.extensions import socketio
from marketplace.faq import answering
from marketplace.routing import activity, events, networks
from marketplace.routing.chat.messages import Posted
from marketplace.routing.contacts import services as contacts
from marketplace.routing.models import (
    ASSIGNED_STATUSES,
    OPEN_STATUSES,
    QUEUED_STATUSES,
    WITH_BOT_STATUSES,
    Channel,
    Conversation,
    ConversationStatus,
    EndReason,
)
from marketplace.routing.router import away
from marketplace.routing.router.admission import admit, end_conversation, end_with_bot, meet_bot
from marketplace.routing.router.decisions import route_brand

TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,128}$")
# The routing sweep's gone visitors (`notice_gone_visitors`): chats marked in one statement and transaction, chats
# tried asynchronous (a transaction and a routing each, about 10 ms) between two yields, and a run's most of each.
MARK_BATCH = 500
MOVE_BATCH = 10
MOST_MARKED_PER_RUN = 2_000
MOST_MOVED_PER_RUN = 100


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


def sweep(now: dt.datetime | None = None) -> dict[str, int]:
    """Mark conversations missed (waited too long), abandoned (the visitor's page went) or closed (silent).

    An active chat whose visitor's page went is not ended (they may come back to it): `notice_gone_visitors`
    tells the expert, or makes it asynchronous. An asynchronous one closes after the brand's quiet time. A
    conversation handed back to the queue (answered before) whose visitor goes, or which waits too long, goes back
    to its expert's asynchronous list when it can (`away.visitor_away`), else it ends as a queued one does. One
    queued while its visitor is away (they wrote by e-mail: `visitor_left_at`) has no page to go silent: it is only
    missed.
    """
    now = now or utcnow()
    grace = dt.timedelta(seconds=current_app.config["VISITOR_GRACE_SECONDS"])
    rows = db.session.execute(
        sa.select(Conversation.id, Conversation.status, Conversation.channel, Conversation.queued_at,
                  Conversation.visitor_seen_at, Conversation.visitor_left_at, Conversation.last_activity_at,
                  Conversation.accepted_at, Brand.max_wait_seconds, Brand.inactivity_close_minutes,
                  Brand.async_quiet_hours)
        .join(Brand, Brand.id == Conversation.brand_id)
        .where(Conversation.status.in_(OPEN_STATUSES))
    ).all()
    end_read()
    counts = {"missed": 0, "abandoned": 0, "closed": 0, "asynchronous": 0, "resolved": 0}
    for row in rows:
        if row.status in WITH_BOT_STATUSES:
            # The bot's visitor whose page went: resolved (unconfirmed when the bot had answered). A messaging app's
            # customer has no page: the bot's own sweep resolves theirs after the brand's resolution time.
            if row.channel == Channel.WEB and row.visitor_seen_at + grace <= now:
                counts["resolved"] += end_with_bot(row.id, now=now, quiet_since=row.last_activity_at) is not None
        elif row.status in QUEUED_STATUSES:
            # queued_at: when it joined the queue (its arrival, or when it was handed back).
            if row.queued_at + dt.timedelta(seconds=row.max_wait_seconds) <= now:
                outcome, status = "missed", ConversationStatus.MISSED
            elif row.channel == Channel.WEB and row.visitor_left_at is None and row.visitor_seen_at + grace <= now:
                # (A messaging app's customer has no page to leave: they wait, reachable, until max_wait.)
                outcome, status = "abandoned", ConversationStatus.ABANDONED
            else:
                continue
            if row.accepted_at is not None and away.visitor_away(row.id, now) is not None:
                counts["asynchronous"] += 1
            else:
                reason = EndReason.MAX_WAIT if outcome == "missed" else EndReason.LEFT
                counts[outcome] += end_conversation(row.id, status, reason, now=now) is not None
        elif row.status == ConversationStatus.ASYNCHRONOUS:
            if row.last_activity_at + dt.timedelta(hours=row.async_quiet_hours) <= now:
                counts["closed"] += end_conversation(row.id, ConversationStatus.CLOSED, EndReason.INACTIVITY,
                                                     now=now) is not None
        elif row.last_activity_at + dt.timedelta(minutes=row.inactivity_close_minutes) <= now:
            counts["closed"] += end_conversation(row.id, ConversationStatus.CLOSED, EndReason.INACTIVITY,
                                                 now=now) is not None
    return counts


def notice_gone_visitors(now: dt.datetime | None = None) -> int:
    """Handle the chats whose visitor's page has been silent for VISITOR_GRACE_SECONDS; how many.

    A messaging app's customer has no page: they count as present for CHANNEL_PRESENCE_SECONDS after their last
    message, then their chat goes asynchronous the same way (their channel is their way back), and their next
    message brings it back (`away.visitor_back`).
    Run with the routing sweep (every ROUTING_SWEEP_SECONDS), so the expert learns it soon after the grace. The
    sweep runs in the web process, and thousands of visitors can go at once (a network blip, a restart): the chats
    only marked are marked MARK_BATCH at a time in one statement, those that may go asynchronous (a transaction
    and a routing each) MOVE_BATCH at a time, the process's other work runs between batches, and one run takes
    at most MOST_MARKED_PER_RUN and MOST_MOVED_PER_RUN of them, those silent longest first: the next takes the rest.
    """
    now = now or utcnow()
    since = {True: now - dt.timedelta(seconds=current_app.config["VISITOR_GRACE_SECONDS"]),
             False: now - dt.timedelta(seconds=current_app.config["CHANNEL_PRESENCE_SECONDS"])}
    silent = _silent_since(since)
    web = Conversation.channel == Channel.WEB
    # Only an active chat whose visitor left a way back may go asynchronous; an asynchronous one whose visitor
    # looked in again (their page cleared `visitor_left_at`) and went is marked, as is one with no way back.
    may_go_away = sa.and_(Conversation.status == ConversationStatus.ACTIVE,
                          sa.or_(Conversation.visitor_email_consent_at.is_not(None),
                                 Conversation.visitor_push_at.is_not(None), sa.not_(web)))
    # All of them are read (no more than the chats experts hold): a run's share of each kind, silent longest first.
    gone = db.session.execute(
        sa.select(Conversation.id, web.label("web"), may_go_away.label("may_go_away"))
        .where(_gone(silent)).order_by(Conversation.visitor_seen_at, Conversation.id)
    ).all()
    end_read()
    marking = [row.id for row in gone if not row.may_go_away][:MOST_MARKED_PER_RUN]
    moving = [row for row in gone if row.may_go_away][:MOST_MOVED_PER_RUN]
    handled = 0
    for start in range(0, len(marking), MARK_BATCH):
        handled += len(_mark_gone(marking[start:start + MARK_BATCH], silent, now))
        _let_others_run()
    for start in range(0, len(moving), MOVE_BATCH):
        handled += _move_or_mark(moving[start:start + MOVE_BATCH], since, now)
        _let_others_run()
    return handled


def _silent_since(since: dict[bool, dt.datetime]) -> sa.ColumnElement[bool]:
    """The visitor's page (a messaging app's customer: their channel) last seen at `since` or earlier, by whether
    the chat is the web widget's: what the sweep reads, and what its writes compare again (a visitor who came back
    meanwhile moved `visitor_seen_at` past it)."""
    web = Conversation.channel == Channel.WEB
    return sa.or_(sa.and_(web, Conversation.visitor_seen_at <= since[True]),
                  sa.and_(sa.not_(web), Conversation.visitor_seen_at <= since[False]))


def _gone(silent: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    """A chat its expert holds whose visitor is `silent` and not marked as gone yet."""
    return sa.and_(Conversation.status.in_(ASSIGNED_STATUSES), Conversation.visitor_left_at.is_(None), silent)


def _move_or_mark(rows: Sequence[sa.Row], since: dict[bool, dt.datetime], now: dt.datetime) -> int:
    """Move each chat to its expert's asynchronous list (a transaction each, routing the freed slot), and mark
    those that did not move (no room there, or changed meanwhile); how many moved or were marked."""
    moved, stayed = 0, []
    for row in rows:
        if away.visitor_away(row.id, now, seen_before=since[bool(row.web)]) is not None:
            moved += 1
        else:
            stayed.append(row.id)
    return moved + len(_mark_gone(stayed, _silent_since(since), now))


def visitor_gone(conversation_id: int, seen_before: dt.datetime, now: dt.datetime, *, reachable: bool = True) -> bool:
    """An active chat's visitor page went silent (last seen at `seen_before` or earlier): asynchronous when they
    left a way back and their expert has room for it (the live slot is offered at once), else marked as left
    for the expert (`visitor_left_at`); True when this call moved or marked it. `reachable`: False when the
    caller read that the visitor left no way back (saves the attempt)."""
    if reachable and away.visitor_away(conversation_id, now, seen_before=seen_before) is not None:
        return True
    return bool(_mark_gone([conversation_id], Conversation.visitor_seen_at <= seen_before, now))


def _mark_gone(conversation_ids: Sequence[int], silent: sa.ColumnElement[bool], now: dt.datetime) -> list[int]:
    """Mark the chats whose visitor's page went silent, in one statement and one transaction, and tell their experts
    once it commits; the ids this call marked.

    A compare-and-set (`_gone`): a visitor who came back meanwhile is not marked, and of two runs only one marks a
    chat. On PostgreSQL the rows are taken with SKIP LOCKED: a row another transaction holds (a second run, the
    visitor coming back) is left to it rather than waited for while this one holds the others (nor can two runs
    then lock the same rows in opposite orders); the sweep's next run looks at it again.
    """
    if not conversation_ids:
        return []
    with unit_of_work():
        held = (sa.select(Conversation.id).where(Conversation.id.in_(conversation_ids), _gone(silent))
                .with_for_update(skip_locked=True))
        marked = list(db.session.scalars(
            sa.update(Conversation).where(Conversation.id.in_(held.scalar_subquery()))
            .values(visitor_left_at=now).returning(Conversation.id).execution_options(synchronize_session=False)))
        _tell_experts(marked)
    return marked


def _tell_experts(conversation_ids: Sequence[int]) -> None:
    """Send each chat's expert the chat as it now stands, once the transaction commits (`_tell_expert` for many
    chats, in the same few statements however many)."""
    if not conversation_ids:
        return
    chats = [conversation for conversation in db.session.scalars(
        sa.select(Conversation).where(Conversation.id.in_(conversation_ids)).order_by(Conversation.id)
        .execution_options(populate_existing=True)) if conversation.expert_id is not None]
    brands_by_id = brands.brands_by_id({chat.brand_id for chat in chats})
    profiles = experts.profiles_by_id({chat.expert_id for chat in chats})
    activities = activity.chat_activity(chats)
    for chat in chats:
        events.chat_changed(chat, brands_by_id[chat.brand_id], profiles[chat.expert_id].user_id, activities[chat.id])


def _let_others_run() -> None:
    """Yield between a sweep's batches: under gevent the scheduler is a greenlet of the web process, which answers
    nothing while the sweep holds on (the server's async mode's sleep, as group commit's; a thread's otherwise)."""
    socketio.sleep(0)
