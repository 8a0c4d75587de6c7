"""What a waiting visitor is told: their place in the queue, a wait that can come true, or that nobody can take
their chat now (DESIGN rule 17: never a wait the system knows to be false)."""

from __future__ import annotations

import sqlalchemy as sa

from marketplace.brands.models import Brand
from marketplace.core import routing as rules
from marketplace.database import db
from marketplace.experts import services as experts
from marketplace.routing import events
from marketplace.routing.contacts import handover
from marketplace.routing.models import (
    QUEUED_STATUSES,
    Channel,
    Conversation,
    ConversationStatus,
    LeftMessage,
    Offer,
    OfferStatus,
)
from marketplace.routing.router.eligibility import anyone_could_take, serving_capacity

DEFAULT_HANDLE_SECONDS = 300
DEFAULT_SECONDS_TO_ACCEPT = 15
HANDLE_SAMPLE = 50


def queue_position(conversation: Conversation) -> int | None:
    """1 for the next conversation to be served, counting those offered and waiting ahead of it."""
    if conversation.status not in QUEUED_STATUSES:
        return None
    ahead = sa.or_(
        Conversation.priority > conversation.priority,
        sa.and_(Conversation.priority == conversation.priority, Conversation.queued_at < conversation.queued_at),
        sa.and_(Conversation.priority == conversation.priority, Conversation.queued_at == conversation.queued_at,
                Conversation.id < conversation.id),
    )
    return 1 + db.session.scalar(
        sa.select(sa.func.count()).select_from(Conversation)
        .where(Conversation.brand_id == conversation.brand_id, Conversation.status.in_(QUEUED_STATUSES), ahead)
    )


def estimated_wait(brand: Brand, position: int) -> int | None:
    """The wait at `position`, from the experts who may take the brand's chats now, their load and recent chats."""
    experts_online, load = serving_capacity(brand)
    free = max(0, experts_online * brand.expert_concurrency - load)
    # Live time, not acceptance to close: an expert's slot was free while an asynchronous chat's visitor was away.
    durations = list(db.session.scalars(
        sa.select(Conversation.live_seconds)
        .where(Conversation.brand_id == brand.id, Conversation.status == ConversationStatus.CLOSED,
               Conversation.accepted_at.is_not(None), Conversation.live_seconds.is_not(None))
        .order_by(Conversation.id.desc()).limit(HANDLE_SAMPLE)
    ))
    handle = sum(durations) / len(durations) if durations else DEFAULT_HANDLE_SECONDS
    return rules.estimate_wait_seconds(position, free, experts_online * brand.expert_concurrency,
                                       _seconds_to_accept(brand.id), handle)


def _seconds_to_accept(brand_id: int) -> float:
    """How long the brand's experts took to accept their recent offers (a default before there are any)."""
    answered = db.session.execute(
        sa.select(Offer.created_at, Offer.decided_at)
        .where(Offer.brand_id == brand_id, Offer.status == OfferStatus.ACCEPTED)
        .order_by(Offer.id.desc()).limit(HANDLE_SAMPLE)
    ).all()
    delays = [(decided - made).total_seconds() for made, decided in answered if decided is not None]
    return max(1.0, sum(delays) / len(delays)) if delays else DEFAULT_SECONDS_TO_ACCEPT


def nobody_can_take(conversation: Conversation) -> bool:
    """True when the conversation waits and no online expert could take it now.

    Everyone who may take it (the router's rule 4: approved, available, on shift where the brand wants it) has
    already been offered it and declined it or let it expire, or nobody eligible is online at all. An expert
    with no room now could still take it when a chat of theirs ends, so they count as able.
    """
    if conversation.status != ConversationStatus.WAITING:
        return False
    return not anyone_could_take(db.session.get(Brand, conversation.brand_id), conversation.id)


def visitor_view(conversation: Conversation) -> dict:
    """What the widget shows of the conversation: status, place in the queue, wait, the expert's name.

    A wait is shown only when it can come true: when nobody online could take the chat, the visitor is told
    so (and offered to leave a message) instead of a place in a queue nobody serves. A web chat of a brand with
    a known WhatsApp number carries the "Continue on WhatsApp" link (contacts/handover.py; only in these complete
    answers, not in socket events, so the widget keeps the last one it had).
    """
    brand = db.session.get(Brand, conversation.brand_id)
    position = queue_position(conversation)
    nobody = position is not None and nobody_can_take(conversation)
    estimate = estimated_wait(brand, position) if position is not None and not nobody else None
    name = experts.get_profile(conversation.expert_id).display_name if conversation.expert_id else None
    left = db.session.scalar(sa.select(sa.exists().where(LeftMessage.conversation_id == conversation.id)))
    payload = events.visitor_payload(conversation, position=position, estimate=estimate, expert_name=name,
                                     left_message=bool(left), nobody_available=nobody,
                                     reopen_window_hours=brand.reopen_window_hours)
    payload["whatsapp_link"] = handover.whatsapp_link(brand.id, conversation.id) \
        if conversation.channel == Channel.WEB else None
    return payload
