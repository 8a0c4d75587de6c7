"""Left messages: what a visitor leaves for the brand when no expert answers, its inbox, and its replies by e-mail."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from marketplace.accounts import services as accounts
from marketplace.accounts.language import in_language
from marketplace.brands import services as brands
from marketplace.brands.models import Actor, Brand, BrandRole
from marketplace.database import db, end_read, unit_of_work, use_case, utcnow
from marketplace.errors import Conflict, NotFound, clean_text
from marketplace.mail import send_after_commit
from marketplace.routing.door.services import visitor_conversation
from marketplace.routing.models import (
    MAY_LEAVE_MESSAGE,
    QUEUED_STATUSES,
    Conversation,
    ConversationStatus,
    EndReason,
    LeftMessage,
)
from marketplace.routing.router.admission import end_conversation

REPLY_LENGTH = 4000  # LeftMessage.reply


@dataclass(frozen=True)
class LeftMessageView:
    id: int
    email: str
    body: str
    created_at: object
    conversation_topic: str | None
    read_at: object


@dataclass(frozen=True)
class LeftMessageState:
    """A message a visitor left, with the brand's reply once there is one."""

    id: int
    email: str
    body: str
    created_at: dt.datetime
    reply: str | None
    replied_at: dt.datetime | None
    replied_by_name: str | None  # None when nobody is named (an API token, or a deleted user)


# The visitor leaves one.

def leave_message(widget_key: str, token: str | None, conversation_id: int, email: str | None,
                  body: str | None) -> LeftMessage:
    """Leave a message and an address for the brand instead of waiting (or after being refused)."""
    conversation = visitor_conversation(widget_key, token, conversation_id)
    email = accounts.normalize_email(email or "", "email")
    body = clean_text(body, "body", max_length=4000, required=_l("Write your message."))
    if conversation.status not in MAY_LEAVE_MESSAGE:
        raise Conflict(_l("This chat is still going on: write in it instead."), "body")
    if db.session.scalar(sa.select(sa.exists().where(LeftMessage.conversation_id == conversation.id))):
        raise Conflict(_l("You have already left a message; the brand will answer by e-mail."), "body")
    if conversation.status in QUEUED_STATUSES:
        end_conversation(conversation.id, ConversationStatus.ABANDONED, EndReason.LEFT)
    left = LeftMessage(brand_id=conversation.brand_id, conversation_id=conversation.id, email=email, body=body,
                       created_at=utcnow())
    with unit_of_work():  # after the conversation's end, which is a transaction of its own
        db.session.add(left)
    return left


# The brand's inbox.

def left_messages(actor: Actor, brand_id: int, limit: int = 200) -> list[LeftMessageView]:
    """What visitors left for the brand, newest first."""
    brands.get_brand(actor, brand_id)
    rows = db.session.execute(
        sa.select(LeftMessage, Conversation.topic)
        .outerjoin(Conversation, Conversation.id == LeftMessage.conversation_id)
        .where(LeftMessage.brand_id == brand_id).order_by(LeftMessage.created_at.desc(), LeftMessage.id.desc())
        .limit(limit)
    ).all()
    end_read()
    return [LeftMessageView(m.id, m.email, m.body, m.created_at, topic, m.read_at) for m, topic in rows]


@use_case
def mark_left_messages_read(actor: Actor, brand_id: int, message_ids: list[int]) -> None:
    """A person of the brand has seen these messages: they are no longer new."""
    brands.get_brand(actor, brand_id)
    if message_ids:
        db.session.execute(
            sa.update(LeftMessage).where(LeftMessage.brand_id == brand_id, LeftMessage.id.in_(message_ids),
                                         LeftMessage.read_at.is_(None))
            .values(read_at=utcnow()).execution_options(synchronize_session=False)
        )


def _names(user_ids: set[int]) -> dict[int, str]:
    return {user.id: user.full_name for user in accounts.users_by_id(user_ids).values()}


def _left_state(left: LeftMessage, names: dict[int, str]) -> LeftMessageState:
    return LeftMessageState(left.id, left.email, left.body, left.created_at, left.reply, left.replied_at,
                            names.get(left.replied_by_id) if left.replied_by_id else None)


def left_message_of(conversation_id: int) -> LeftMessageState | None:
    """What the visitor of this conversation left, with the brand's reply; None when they left nothing.

    Part of the caller's transaction (a transcript's): the caller checks the brand and commits.
    """
    left = db.session.scalar(sa.select(LeftMessage).where(LeftMessage.conversation_id == conversation_id))
    names = _names({left.replied_by_id} if left and left.replied_by_id else set())
    return _left_state(left, names) if left else None


# The brand's replies.

def left_message_replies(actor: Actor, brand_id: int, message_ids: list[int]) -> dict[int, LeftMessageState]:
    """The state of these left messages of the brand, by id, for showing replies next to them."""
    brands.get_brand(actor, brand_id)
    found = list(db.session.scalars(
        sa.select(LeftMessage).where(LeftMessage.brand_id == brand_id, LeftMessage.id.in_(message_ids))
    )) if message_ids else []
    names = _names({m.replied_by_id for m in found if m.replied_by_id})
    states = {m.id: _left_state(m, names) for m in found}
    end_read()
    return states


def _visitor_locale(left: LeftMessage) -> str | None:
    """The visitor's language as their browser told the widget (the mail falls back to the default language)."""
    conversation = db.session.get(Conversation, left.conversation_id) if left.conversation_id else None
    return conversation.locale if conversation else None


def _mail_reply(brand: Brand, left: LeftMessage, reply: str) -> None:
    with in_language(_visitor_locale(left)):
        subject = gettext("Re: your message to %(brand)s", brand=brand.name)
        text = gettext("%(brand)s answered the message you left on its website:\n\n%(reply)s\n\n"
                       "Your message:\n%(message)s", brand=brand.name, reply=reply, message=left.body)
    send_after_commit(left.email, subject, text)


@use_case
def reply_to_left_message(actor: Actor, brand_id: int, left_message_id: int, body: str | None) -> LeftMessageState:
    """Answer a visitor's left message by e-mail (admins), once: the reply is kept with who sent it."""
    brand = brands.get_brand(actor, brand_id, need=BrandRole.ADMIN)
    reply = clean_text(body if isinstance(body, str) else None, "body", max_length=REPLY_LENGTH,
                       required=_l("Write your reply."))
    left = db.session.scalar(
        sa.select(LeftMessage).where(LeftMessage.id == left_message_id, LeftMessage.brand_id == brand_id))
    if left is None:
        raise NotFound(_l("No such message."))
    now = utcnow()
    actor_id = None if actor.is_token else actor.id
    # Compare-and-set: of two admins answering at once, only the first reply is sent.
    moved = db.session.execute(
        sa.update(LeftMessage)
        .where(LeftMessage.id == left.id, LeftMessage.replied_at.is_(None))
        .values(reply=reply, replied_at=now, replied_by_id=actor_id,
                read_at=sa.func.coalesce(LeftMessage.read_at, now))
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        raise Conflict(_l("This message already has a reply."), "body")
    accounts.record_audit("left_message_replied", actor_id=actor_id, brand_id=brand_id, left_message_id=left.id,
                          token_id=getattr(actor, "token_id", None))
    _mail_reply(brand, left, reply)
    db.session.refresh(left)
    return _left_state(left, _names({actor_id} if actor_id else set()))
