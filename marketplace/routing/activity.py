"""What an expert's chat list tells of each chat beyond its row: unread count, last message, the visitor's last word.

Loaded for all of an expert's chats at once, in two statements whatever their number (an inbox of many chats must
not cost a query per chat), and for a single chat when one changes (the `chat` event).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from marketplace.database import db
from marketplace.routing.models import Attachment, Conversation, Message, Sender

PREVIEW_LENGTH = 140  # characters of the last message the list shows (it shows its first line of those)


@dataclass(frozen=True)
class LastMessage:
    sender: str
    body: str  # the first PREVIEW_LENGTH characters
    created_at: dt.datetime


@dataclass(frozen=True)
class ChatActivity:
    unread: int = 0  # the visitor's messages after the expert's read mark
    last_message: LastMessage | None = None
    last_visitor_message_at: dt.datetime | None = None


def visitor_label(conversation_id: int) -> str:
    """Four letters that tell one visitor from another in the expert's list, the same for the whole conversation.

    Keyed, so it says nothing of the conversation's number (how many chats the platform has had), and made
    from the conversation rather than the visitor, so it never links one visitor's chats with two brands.
    """
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"visitor-label:{conversation_id}".encode(), hashlib.sha256).hexdigest()[:4].upper()


def chat_activity(conversations: Sequence[Conversation]) -> dict[int, ChatActivity]:
    """Each conversation's activity, by id, in two statements for any number of conversations."""
    ids = [conversation.id for conversation in conversations]
    if not ids:
        return {}
    # The visitor's side: when they last wrote, and how much of it the expert has not read.
    visitor = dict((row.conversation_id, row) for row in db.session.execute(
        sa.select(Message.conversation_id, sa.func.max(Message.created_at).label("last_at"),
                  sa.func.count(sa.case((Message.seq > Conversation.expert_read_seq, 1))).label("unread"))
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.conversation_id.in_(ids), Message.sender == Sender.VISITOR)
        .group_by(Message.conversation_id)
    ))
    # A conversation's last message is the one numbered last_seq (numbered and stored in one transaction); a file
    # sent without a caption shows as its name.
    last = {row.conversation_id: LastMessage(row.sender.value, (row.body or row.filename or "")[:PREVIEW_LENGTH],
                                             row.created_at)
            for row in db.session.execute(
                sa.select(Message.conversation_id, Message.sender, Message.body, Message.created_at,
                          Attachment.filename)
                .join(Conversation, sa.and_(Conversation.id == Message.conversation_id,
                                            Message.seq == Conversation.last_seq))
                .outerjoin(Attachment, Attachment.message_id == Message.id)
                .where(Conversation.id.in_(ids)))}
    return {conversation_id: ChatActivity(
        unread=int(visitor[conversation_id].unread) if conversation_id in visitor else 0,
        last_message=last.get(conversation_id),
        last_visitor_message_at=visitor[conversation_id].last_at if conversation_id in visitor else None,
    ) for conversation_id in ids}
