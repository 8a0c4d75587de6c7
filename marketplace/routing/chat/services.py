"""The expert's side of their chats: their inbox, one chat as their list shows it, and what they have read."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from marketplace.brands import services as brands
from marketplace.brands.models import Brand
from marketplace.database import db, end_read, use_case, utcnow
from marketplace.errors import InvalidInput, NotFound
from marketplace.routing import activity, events
from marketplace.routing.models import (
    ASSIGNED_STATUSES,
    ATTACHMENT_TYPES,
    Conversation,
    ConversationStatus,
    Offer,
    OfferStatus,
)


def expert_conversation(expert_id: int, conversation_id: int) -> Conversation:
    """A conversation this expert answered (or answers); anyone else's is not found."""
    conversation = db.session.get(Conversation, conversation_id)
    if conversation is None or conversation.expert_id != expert_id:
        raise NotFound(_l("No such conversation."))
    return conversation


@use_case
def mark_read(expert_id: int, conversation_id: int, seq: object) -> None:
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        raise InvalidInput(_l("Give the last sequence number you have read."), "seq")
    expert_conversation(expert_id, conversation_id)
    db.session.execute(
        sa.update(Conversation).where(Conversation.id == conversation_id)
        .where(Conversation.expert_read_seq < seq, Conversation.last_seq >= seq)
        .values(expert_read_seq=seq)
        .execution_options(synchronize_session=False)
    )


# A closed chat stays in the expert's list this long (until they dismiss it): a page reloaded meanwhile still
# shows how it ended, and the visitor's rating when it comes.
RECENTLY_CLOSED = dt.timedelta(minutes=30)


def expert_inbox(expert_id: int) -> dict:
    """The expert's pending offers, chats (active, asynchronous: the visitor away, and recently closed), and their
    brands' canned answers.

    A fixed number of statements however many chats there are: the chats' unread counts and last messages
    are loaded together (`activity.chat_activity`).
    """
    now = utcnow()
    offers = db.session.execute(
        sa.select(Offer, Conversation).join(Conversation, Conversation.id == Offer.conversation_id)
        .where(Offer.expert_id == expert_id, Offer.status == OfferStatus.PENDING, Offer.expires_at > now)
        .order_by(Offer.expires_at)
    ).all()
    chats = list(db.session.scalars(
        sa.select(Conversation).where(Conversation.expert_id == expert_id, sa.or_(
            Conversation.status.in_(ASSIGNED_STATUSES),
            sa.and_(Conversation.status == ConversationStatus.CLOSED, Conversation.closed_at >= now - RECENTLY_CLOSED)))
        .order_by(Conversation.accepted_at, Conversation.id)
    ))
    brand_ids = {offer.brand_id for offer, _ in offers} | {chat.brand_id for chat in chats}
    by_id = brands.brands_by_id(brand_ids)
    chat_activity = activity.chat_activity(chats)
    answers = brands.canned_answers(brand_ids)
    inbox = {
        "offers": [events.offer_payload(offer, conversation, by_id[offer.brand_id]) for offer, conversation in offers],
        "chats": [events.chat_payload(chat, by_id[chat.brand_id], chat_activity[chat.id]) for chat in chats],
        "canned_answers": {str(brand_id): [{"title": a.title, "body": a.body} for a in answers[brand_id]]
                           for brand_id in sorted(brand_ids)},
        "attachment_types": list(ATTACHMENT_TYPES),
    }
    end_read()
    return inbox


def chat_summary(conversation: Conversation) -> dict:
    """One chat as its expert's list shows it (the `chat` event's payload)."""
    summary = events.chat_payload(conversation, db.session.get(Brand, conversation.brand_id))
    end_read()
    return summary
