"""Asynchronous conversations: the visitor left a way back and went, then writes again (DESIGN section 9).

An answered chat whose visitor leaves, having left a way back (an address given with consent, or a browser that
takes Web Push: `reachable`), moves to its expert's asynchronous list: it holds no live slot (ExpertLoad.open_chats,
BrandLoad.open_conversations) but one of the brand's asynchronous places per expert (`async_chats`,
`async_conversations`), so the router offers the freed slot at once. When the visitor writes again it goes back to
the same expert if they are online with room, else to the queue, routed like a new one with its history (never to
the experts it was already offered to). A visitor's message on an answered chat closed within the brand's reopen
window continues it the same way; one that came by e-mail continues it with the visitor still away (back in its
expert's asynchronous list when there is room there).

Each move is one transaction under the brand's lock (lock order as everywhere: brand load, conversation and offer,
expert load) and a compare-and-set on the status; the caller routes once it has committed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from marketplace.brands.models import Brand
from marketplace.core import routing as rules
from marketplace.database import unit_of_work, utcnow
from marketplace.errors import Conflict, Unavailable
from marketplace.routing.models import (
    QUEUED_STATUSES,
    BrandLoad,
    Channel,
    Conversation,
    ConversationStatus,
    may_reopen,
    set_status,
    status_after,
)
from marketplace.routing.router.admission import lock_conversation, rescind_pending, tell_both_sides
from marketplace.routing.router.decisions import after_freed, route_brand
from marketplace.routing.router.eligibility import has_async_room, has_live_room
from marketplace.routing.router.loads import brand_caps, move_expert_load, usage_of


@dataclass(frozen=True)
class Moved:
    conversation: Conversation
    brand_id: int
    freed_expert: int | None = None  # an expert whose live slot or offer came free


def reachable(conversation: Conversation) -> bool:
    """Whether the visitor left a way back: an address given with consent, a browser that takes Web Push, or a
    messaging app (WhatsApp, Messenger), which is always its own way back.

    Read off the conversation's own row (no query): it is asked on every visitor's departure.
    """
    if conversation.channel != Channel.WEB:
        return True
    return reachable_by_email(conversation) or conversation.visitor_push_at is not None


def reachable_by_email(conversation: Conversation) -> bool:
    """Whether the visitor gave an address with consent to be written to about this conversation."""
    return conversation.visitor_email is not None and conversation.visitor_email_consent_at is not None


def visitor_away(conversation_id: int, now: dt.datetime | None = None, *,
                 seen_before: dt.datetime | None = None) -> Conversation | None:
    """The visitor's page went: an answered chat (or one handed back to the queue) whose visitor left an address
    becomes asynchronous with its expert, when that expert has room in their asynchronous list.

    `seen_before`: only if the visitor was last seen then or earlier (they did not come back meanwhile). None when
    it did not move (not reachable, no room, or moved by someone else first): the caller treats it as today.
    Routes the brand and the freed expert once committed.
    """
    now = now or utcnow()
    with unit_of_work():
        moved = _go_away(conversation_id, now, seen_before)
    if moved is None:
        return None
    after_freed(moved.brand_id, moved.freed_expert)
    return moved.conversation


def _go_away(conversation_id: int, now: dt.datetime, seen_before: dt.datetime | None) -> Moved | None:
    conversation, load, brand = lock_conversation(conversation_id, now)
    was = conversation.status
    handed_back = was in QUEUED_STATUSES and conversation.accepted_at is not None
    if ((was != ConversationStatus.ACTIVE and not handed_back) or not reachable(conversation)
            or conversation.expert_id is None
            or (seen_before is not None and conversation.visitor_seen_at > seen_before)
            or not has_async_room(brand, conversation.expert_id)):
        return None
    freed = None
    if was == ConversationStatus.ACTIVE:
        move_expert_load(conversation.expert_id, open_chats=-1, async_chats=1)
        freed = conversation.expert_id
    else:
        if was == ConversationStatus.OFFERED:
            freed = rescind_pending(conversation, load, now)
        move_expert_load(conversation.expert_id, async_chats=1)
        conversation.handed_back -= 1  # nobody else took it: back with the expert who held it, as before
    set_status(conversation, status_after(was, "go_asynchronous"), now)
    conversation.visitor_left_at = now
    load.open_conversations -= 1
    load.async_conversations += 1
    tell_both_sides(conversation, brand)
    return Moved(conversation, brand.id, freed)


def visitor_back(conversation_id: int, now: dt.datetime | None = None, *, present: bool = True) -> Conversation | None:
    """The visitor wrote in an asynchronous conversation, or in an answered one closed within the brand's reopen
    window: it goes back to its expert if they are online with room, else to the queue (routed at once).

    `present`: False when the message did not come from their page (an e-mail reply). A closed conversation then
    continues with the visitor still away: back in its expert's asynchronous list when they have room there, else
    to the queue, routed with its history like one whose visitor is there (an asynchronous one stays as it is).
    None when it stays as it is: not asynchronous nor reopenable, or (asynchronous) the brand has no live place
    free; its expert still answers it there. Raises Conflict when a closed chat cannot be continued now (from the
    page), Unavailable when it cannot for the moment (by e-mail: the brand has no live place free).
    """
    now = now or utcnow()
    try:
        with unit_of_work():
            moved = _come_back(conversation_id, now, present)
    except IntegrityError:
        # Reopening it would give the visitor two open conversations with the brand (a unique index): they
        # started another since; nothing of this attempt stays.
        raise Conflict(_l("This chat has ended: you have another one open."), "body") from None
    if moved is None:
        return None
    if moved.conversation.status == ConversationStatus.WAITING:
        route_brand(moved.brand_id)
    return moved.conversation


def _come_back(conversation_id: int, now: dt.datetime, present: bool) -> Moved | None:
    conversation, load, brand = lock_conversation(conversation_id, now)
    was = conversation.status
    closed = was == ConversationStatus.CLOSED
    if closed and not may_reopen(conversation, brand.reopen_window_hours, now):
        return None
    if was != ConversationStatus.ASYNCHRONOUS and not closed:
        return None
    if not present:
        return _reopen_away(conversation, load, brand, now) if closed else None
    if not rules.may_go_live(brand_caps(brand, now), usage_of(load)):
        if closed:
            raise Conflict(_l("All our experts are busy: leave us a message and we will answer by e-mail."), "body")
        return None
    expert_id = conversation.expert_id
    if has_live_room(brand, expert_id, now):
        set_status(conversation, status_after(was, "reopen" if closed else "resume"), now)
        move_expert_load(expert_id, open_chats=1, **({} if closed else {"async_chats": -1}))
    else:
        _to_queue(conversation, now)
        if not closed:
            move_expert_load(expert_id, async_chats=-1)
    if not closed:
        load.async_conversations -= 1
    load.open_conversations += 1
    conversation.end_reason = conversation.closed_at = conversation.visitor_left_at = None
    conversation.visitor_seen_at = conversation.last_activity_at = now
    # Back on the page, they see the replies there: no e-mail of them follows (continuation/digest.py).
    conversation.continuation_due_at = None
    conversation.continuation_sent_seq = conversation.last_seq
    tell_both_sides(conversation, brand)
    return Moved(conversation, brand.id)


def _to_queue(conversation: Conversation, now: dt.datetime) -> None:
    """Hand it back: routed like a new one, behind those already waiting, with its history."""
    set_status(conversation, status_after(conversation.status, "hand_back"), now)
    conversation.handed_back += 1
    conversation.queued_at = now


def _reopen_away(conversation: Conversation, load: BrandLoad, brand: Brand, now: dt.datetime) -> Moved:
    """A closed conversation continued by a visitor who is not on the page (an e-mail reply): asynchronous with
    its expert when their asynchronous list has room, else queued with the visitor marked away (the sweep does not
    take a page that never opened for a visitor who left, and an expert who accepts it keeps it asynchronous)."""
    expert_id = conversation.expert_id
    if has_async_room(brand, expert_id):
        set_status(conversation, status_after(conversation.status, "reopen_away"), now)
        move_expert_load(expert_id, async_chats=1)
        load.async_conversations += 1
    elif rules.may_go_live(brand_caps(brand, now), usage_of(load)):
        _to_queue(conversation, now)
        load.open_conversations += 1
    else:
        raise Unavailable(_l("All our experts are busy: try again later."), "body")
    conversation.end_reason = conversation.closed_at = None
    conversation.visitor_left_at = conversation.last_activity_at = now
    # They wrote from their mailbox, answering what they were sent: the expert's next reply is the next e-mail.
    conversation.continuation_due_at = None
    conversation.continuation_sent_seq = conversation.last_seq
    tell_both_sides(conversation, brand)
    return Moved(conversation, brand.id)
