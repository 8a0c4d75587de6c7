"""Routing's part of an expert's own data: offers, the conversations they answered with the messages they saw
(the visitor's and their own, never another expert's), and their ratings; on closure, the chats they still held end.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from marketplace.database import db, end_read
from marketplace.experts.own_data import Holder
from marketplace.routing.models import (
    ASSIGNED_STATUSES,
    Conversation,
    ConversationStatus,
    EndReason,
    Message,
    Offer,
    OfferStatus,
    Sender,
)
from marketplace.routing.router.admission import end_conversation


def offers(holder: Holder) -> list[dict[str, Any]]:
    rows = db.session.scalars(sa.select(Offer).where(Offer.expert_id == holder.profile.id).order_by(Offer.id))
    return [{"id": offer.id, "conversation_id": offer.conversation_id, "brand_id": offer.brand_id,
             "outcome": offer.status.value, "created_at": offer.created_at, "expires_at": offer.expires_at,
             "decided_at": offer.decided_at} for offer in rows]


def _answered(expert_id: int) -> list[sa.Row]:
    """The conversations the expert holds or held (accepted an offer of), oldest first: the columns shown only
    (an expert may have answered tens of thousands)."""
    held_before = sa.select(Offer.conversation_id).where(Offer.expert_id == expert_id,
                                                         Offer.status == OfferStatus.ACCEPTED)
    columns = (Conversation.id, Conversation.brand_id, Conversation.channel, Conversation.topic,
               Conversation.created_at, Conversation.expert_id, Conversation.status, Conversation.end_reason,
               Conversation.accepted_at, Conversation.first_reply_at, Conversation.closed_at)
    held = sa.select(*columns).where(Conversation.expert_id == expert_id)
    handed_on = sa.select(*columns).where(Conversation.id.in_(held_before),
                                          sa.or_(Conversation.expert_id.is_(None),
                                                 Conversation.expert_id != expert_id))
    rows = [*db.session.execute(held), *db.session.execute(handed_on)]
    return sorted(rows, key=lambda row: row.id)


def conversations(holder: Holder) -> list[dict[str, Any]]:
    """What the expert's inbox showed of each chat they answered; one since answered by another is marked so."""
    expert_id = holder.profile.id
    found = []
    for chat in _answered(expert_id):
        theirs = chat.expert_id == expert_id
        found.append({"id": chat.id, "brand_id": chat.brand_id, "channel": chat.channel, "topic": chat.topic,
                      "created_at": chat.created_at, "held_by_you": theirs,
                      "status": chat.status if theirs else None,
                      "end_reason": chat.end_reason if theirs else None,
                      "accepted_at": chat.accepted_at if theirs else None,
                      "first_reply_at": chat.first_reply_at if theirs else None,
                      "closed_at": chat.closed_at if theirs else None})
    return found


def messages(holder: Holder) -> list[dict[str, Any]]:
    """The visitor's messages and the expert's own, as their inbox showed them: in a chat another expert answers
    now, the visitor's messages only up to the expert's last own one (what came after went to the other)."""
    expert_id, user_id = holder.profile.id, holder.user.id
    handed_on = {chat.id for chat in _answered(expert_id) if chat.expert_id != expert_id}
    held_before = sa.select(Offer.conversation_id).where(Offer.expert_id == expert_id,
                                                         Offer.status == OfferStatus.ACCEPTED)
    answered = sa.or_(Message.conversation_id.in_(sa.select(Conversation.id)
                                                  .where(Conversation.expert_id == expert_id)),
                      Message.conversation_id.in_(held_before))
    rows = db.session.execute(
        sa.select(Message.conversation_id, Message.seq, Message.sender, Message.body, Message.created_at)
        .where(answered, sa.or_(Message.sender == Sender.VISITOR,
                                sa.and_(Message.sender == Sender.EXPERT, Message.author_id == user_id)))
        .order_by(Message.conversation_id, Message.seq)).all()
    last_own: dict[int, int] = {}
    for row in rows:
        if row.sender == Sender.EXPERT:
            last_own[row.conversation_id] = row.seq
    return [{"conversation_id": row.conversation_id, "seq": row.seq,
             "from": "you" if row.sender == Sender.EXPERT else "visitor", "body": row.body,
             "created_at": row.created_at}
            for row in rows
            if row.sender == Sender.EXPERT or row.conversation_id not in handed_on
            or row.seq <= last_own.get(row.conversation_id, 0)]


def ratings(holder: Holder) -> list[dict[str, Any]]:
    rows = db.session.execute(
        sa.select(Conversation.id, Conversation.brand_id, Conversation.rating, Conversation.rating_comment,
                  Conversation.rated_at)
        .where(Conversation.expert_id == holder.profile.id, Conversation.rating.is_not(None))
        .order_by(Conversation.rated_at, Conversation.id))
    return [{"conversation_id": row.id, "brand_id": row.brand_id, "rating": row.rating,
             "comment": row.rating_comment, "rated_at": row.rated_at} for row in rows]


def end_held_chats(expert_id: int) -> int:
    """A closed expert's chats (live or asynchronous) end as if they had closed them: a visitor who writes again
    within the brand's reopen window is handed back to the queue (their expert has no room now), routed to others."""
    held = db.session.scalars(sa.select(Conversation.id).where(Conversation.expert_id == expert_id,
                                                               Conversation.status.in_(ASSIGNED_STATUSES))).all()
    end_read()  # each end is a unit of its own, under its brand's lock
    return sum(end_conversation(conversation_id, ConversationStatus.CLOSED, EndReason.EXPERT,
                                expert_id=expert_id) is not None for conversation_id in held)


def rating_contests(holder: Holder) -> list[dict[str, Any]]:
    from marketplace.routing.ratings.services import rating_contests_for_export

    return rating_contests_for_export(holder.profile.id)


def visitor_reports(holder: Holder) -> list[dict[str, Any]]:
    from marketplace.routing.ratings.services import visitor_reports_for_export

    return visitor_reports_for_export(holder.profile.id)
