"""A conversation's place in the brand's count: let in or refused at the door, and given back when it ends.

Both hold the brand's lock and move the load counters in the same transaction as the status, so the counters
always equal the live rows; every end of a conversation goes through `end_conversation`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from marketplace.brands import opening
from marketplace.brands.models import Brand
from marketplace.core import clock, lifecycles
from marketplace.core import routing as rules
from marketplace.database import db, unit_of_work, utcnow
from marketplace.errors import NotFound
from marketplace.experts import services as experts
from marketplace.routing import events
from marketplace.routing.models import (
    ASSIGNED_STATUSES,
    LIVE_STATUSES,
    BrandLoad,
    Conversation,
    ConversationStatus,
    EndReason,
    Message,
    Offer,
    OfferStatus,
    Sender,
    set_status,
    status_after,
)
from marketplace.routing.router.decisions import after_freed
from marketplace.routing.router.loads import brand_caps, lock_brand, move_expert_load, usage_of


def refusal(load: BrandLoad, brand: Brand, now: dt.datetime) -> str | None:
    """Why the door refuses a newcomer now (an `EndReason` value: closed, or a cap reached); None to let them in."""
    if not opening.is_open(brand, now):
        return EndReason.CLOSED_HOURS.value
    # Live and accepted already (active, or handed back to the queue after an acceptance): counted once, then.
    accepted = db.session.scalar(sa.select(sa.func.count()).where(
        Conversation.brand_id == brand.id, Conversation.status.in_(LIVE_STATUSES),
        Conversation.accepted_at.is_not(None)))
    usage = dataclasses.replace(usage_of(load), accepted_open=accepted)
    return rules.door_refusal(brand_caps(brand, now), usage)


def admit(conversation: Conversation) -> bool:
    """Let a new conversation in, counted in the brand's load, or refuse it at the door as capped (never
    silently), under the brand's lock; True when let in. Part of the caller's unit of work, which routes the
    brand (`route_brand`) once it has committed, when the conversation was let in.

    Raises IntegrityError when the database refuses the row: the visitor's other tab started their one live
    conversation with the brand at the same moment.
    """
    now = utcnow()
    load, brand = lock_brand(conversation.brand_id, now)
    conversation.created_at = conversation.queued_at = now
    conversation.visitor_seen_at = conversation.last_activity_at = now
    refused = refusal(load, brand, now)
    if refused is None:
        conversation.status = status_after(lifecycles.CONVERSATION_ARRIVING, "admit")
        load.open_conversations += 1
    else:
        conversation.status = status_after(lifecycles.CONVERSATION_ARRIVING, "refuse")
        conversation.end_reason = EndReason(refused)
        conversation.closed_at = now
        load.refusals += 1
    db.session.add(conversation)
    db.session.flush()
    events.conversation_changed(conversation, brand)
    return refused is None


def meet_bot(conversation: Conversation) -> None:
    """Start a new conversation with the brand's FAQ bot: no place in the brand's count and no expert until it is
    handed over (`hand_over`). Part of the caller's unit of work."""
    now = utcnow()
    conversation.created_at = conversation.queued_at = now
    conversation.visitor_seen_at = conversation.last_activity_at = now
    conversation.status = status_after(lifecycles.CONVERSATION_ARRIVING, "meet_bot")
    db.session.add(conversation)
    db.session.flush()
    events.conversation_changed(conversation, db.session.get(Brand, conversation.brand_id))


def hand_over(conversation_id: int) -> Conversation | None:
    """The bot steps aside: the conversation comes to the door as a newcomer would, let in (queued from now) or refused
    as capped (never silently), under the brand's lock; None when it is no longer with the bot. Part of the caller's
    unit of work, which routes the brand once committed when the status is waiting."""
    now = utcnow()
    conversation, load, brand = lock_conversation(conversation_id, now)
    if conversation.status != ConversationStatus.BOT:
        return None
    refused = refusal(load, brand, now)
    if refused is None:
        conversation.status = status_after(conversation.status, "admit")
        conversation.queued_at = conversation.visitor_seen_at = now
        load.open_conversations += 1
    else:
        conversation.status = status_after(conversation.status, "refuse")
        conversation.end_reason, conversation.closed_at = EndReason(refused), now
        load.refusals += 1
    conversation.last_activity_at = conversation.handed_over_at = now
    events.conversation_changed(conversation, brand)
    return conversation


def end_with_bot(conversation_id: int, reason: EndReason | None = None, now: dt.datetime | None = None, *,
                 quiet_since: dt.datetime | None = None) -> Conversation | None:
    """End a conversation the bot still has (resolved: it helped, the visitor asked nothing more, or left before
    asking anything); None when it is no longer with the bot. It never held a place: no counter moves. `reason`
    None: the visitor went, which counts as asking nothing more once the bot has answered (`bot_unconfirmed`).
    `quiet_since`: a sweep's decision, taken on what it read before this lock: nothing is ended when anything was
    written in the conversation after that moment (the visitor's new question stays the bot's to answer)."""
    now = now or utcnow()
    with unit_of_work():
        conversation, _load, brand = lock_conversation(conversation_id, now)
        if conversation.status != ConversationStatus.BOT:
            return None
        if quiet_since is not None and conversation.last_activity_at > quiet_since:
            return None
        if reason is None:
            answered = db.session.scalar(sa.select(sa.exists().where(Message.conversation_id == conversation_id,
                                                                     Message.sender == Sender.BOT)))
            reason = EndReason.BOT_UNCONFIRMED if answered else EndReason.LEFT
        conversation.status = status_after(conversation.status, "resolve")
        conversation.end_reason, conversation.closed_at = reason, now
        events.conversation_changed(conversation, brand)
    return conversation


def end_conversation(conversation_id: int, outcome: ConversationStatus, reason: EndReason, *,
                     expert_id: int | None = None, now: dt.datetime | None = None) -> Conversation | None:
    """End an open conversation: closed (it was active or asynchronous), abandoned or missed (it was still queued).

    A compare-and-set on the status: of two racing ends only one moves the counters; None for the loser.
    """
    with unit_of_work():
        ended = _end(conversation_id, outcome, reason, expert_id, now or utcnow())
    if ended is not None:
        conversation, brand_id, freed_expert = ended
        after_freed(brand_id, freed_expert)
        return conversation
    return None


def _end(conversation_id: int, outcome: ConversationStatus, reason: EndReason, expert_id: int | None,
         now: dt.datetime) -> tuple[Conversation, int, int | None] | None:
    """End the conversation under the brand's lock: it, its brand and the expert freed; None when not live."""
    conversation, load, brand = lock_conversation(conversation_id, now)
    if (not lifecycles.may_move(lifecycles.CONVERSATION_TRANSITIONS, conversation.status, outcome)
            or (expert_id is not None and conversation.expert_id != expert_id)):
        return None
    was = conversation.status
    freed_expert = conversation.expert_id if was in ASSIGNED_STATUSES else None
    if was == ConversationStatus.OFFERED:
        freed_expert = rescind_pending(conversation, load, now)
    elif was == ConversationStatus.ACTIVE:
        move_expert_load(conversation.expert_id, open_chats=-1)
    elif was == ConversationStatus.ASYNCHRONOUS:
        move_expert_load(conversation.expert_id, async_chats=-1)
    if (conversation.accepted_at is not None and conversation.first_reply_at is None
            and _same_month(brand, conversation.accepted_at, load.month)):
        # Accepted (it may since have gone back to the queue) but never answered, so never paid: its price no
        # longer counts against the month's budget.
        load.month_committed_cents -= conversation.rate_cents or 0
    set_status(conversation, outcome, now)
    conversation.end_reason, conversation.closed_at = reason, now
    if was == ConversationStatus.ASYNCHRONOUS:
        load.async_conversations -= 1
    else:
        load.open_conversations -= 1
    tell_both_sides(conversation, brand)
    return conversation, brand.id, freed_expert


def lock_conversation(conversation_id: int, now: dt.datetime) -> tuple[Conversation, BrandLoad, Brand]:
    """Begin a change of the conversation's status: lock its brand's load row, then its own row, read afresh."""
    conversation = db.session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound(_l("No such conversation."))
    load, brand = lock_brand(conversation.brand_id, now)
    conversation = db.session.get(Conversation, conversation_id, populate_existing=True, with_for_update=True)
    return conversation, load, brand


def tell_both_sides(conversation: Conversation, brand: Brand) -> None:
    """Once committed, tell its expert (when it has one) and the visitor and brand that the conversation moved."""
    name = None
    if conversation.expert_id is not None:
        profile = experts.get_profile(conversation.expert_id)
        name = profile.display_name
        events.chat_changed(conversation, brand, profile.user_id)
    events.conversation_changed(conversation, brand, expert_name=name)


def rescind_pending(conversation: Conversation, load: BrandLoad, now: dt.datetime) -> int | None:
    """Take back the offered conversation's pending offer (it is leaving the queue); the expert it reserved.

    The caller holds the brand's lock (`load` is its row) and the conversation's, and moves the conversation.
    """
    offer = db.session.scalar(sa.select(Offer).where(Offer.conversation_id == conversation.id,
                                                     Offer.status == OfferStatus.PENDING).with_for_update())
    if offer is None:
        return None
    offer.status, offer.decided_at = OfferStatus.RESCINDED, now
    move_expert_load(offer.expert_id, pending_offers=-1)
    load.pending_offers -= 1
    events.offer_gone(offer, experts.get_profile(offer.expert_id).user_id, OfferStatus.RESCINDED.value)
    return offer.expert_id


def _same_month(brand: Brand, at: dt.datetime | None, month: str) -> bool:
    return at is not None and clock.local_time(at, brand.timezone).strftime("%Y-%m") == month
