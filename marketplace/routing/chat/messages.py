"""Messages: stored, numbered and delivered to both sides of a chat, and typing signals.

A message is stored, numbered, before anyone is told it exists (rule 8). Its number comes from the
conversation row (`last_seq + 1` in an UPDATE that locks the row), so numbers follow commit order and a
client asking for everything after its last number never misses one. A resend carries the same client
id and gets the stored message back.
"""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass

import nh3
import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from marketplace.database import DriverStatement, UTCDateTime, db, end_read, in_unit_of_work, unit_of_work, utcnow
from marketplace.errors import Conflict, Forbidden, InvalidInput
from marketplace.experts import services as experts
from marketplace.group_commit import NothingWritten, grouped_unit_of_work
from marketplace.routing import delivery, events
from marketplace.routing.models import (
    ASSIGNED_STATUSES,
    OPEN_STATUSES,
    Attachment,
    Channel,
    Conversation,
    ConversationStatus,
    Message,
    Sender,
)
from marketplace.routing.router import away

BODY_LENGTH = 2000
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# The only characters of a text that nh3 then unescaping change: markup, entities, NUL, CR, BOM (and lone surrogates,
# left to nh3). A text with none of them comes out as it went in (tests/routing/chat/test_messages.py checks this
# against nh3 for every character).
_CLEANED_BY_NH3 = re.compile(r"[<&\x00\r\ufeff\ud800-\udfff]")
MAX_BATCH = 500


class _ChatEnded(NothingWritten):
    """The conversation no longer takes this sender's messages: nothing was written (a transaction of its own rolls
    back; a shared one goes on without it)."""


@dataclass(frozen=True)
class Posted:
    message: Message
    created: bool  # False when this was a resend of a message already stored


def clean_body(body: object, *, caption: bool = False) -> str:
    """Plain text only: markup is stripped (not escaped), then the length is checked.

    A `caption` (the text of a message carrying an attachment) may be empty.
    """
    if caption and body is None:
        return ""
    if not isinstance(body, str):
        raise InvalidInput(_l("Write a message."), "body")
    if _CLEANED_BY_NH3.search(body):
        # nh3 drops the markup and escapes what is left; every client shows messages as text, so unescape.
        text = html.unescape(nh3.clean(body, tags=set(), attributes={})).strip()
    else:
        text = body.strip()  # what nh3 then unescaping would give, without parsing it as HTML
    if not text and not caption:
        raise InvalidInput(_l("Write a message."), "body")
    if len(text) > BODY_LENGTH:
        raise InvalidInput(_l("Use at most %(count)d characters.", count=BODY_LENGTH), "body")
    return text


def _clean_client_id(client_id: object) -> str:
    if not isinstance(client_id, str) or not CLIENT_ID.match(client_id):
        raise InvalidInput(_l("The message has no valid client id."), "client_id")
    return client_id


_SHOWN = (so.selectinload(Message.attachment), so.selectinload(Message.delivery))  # what a message's payload shows


def _stored(conversation_id: int, sender: Sender, client_id: str) -> Message | None:
    return _detached(db.session.scalar(sa.select(Message).options(*_SHOWN).where(
        Message.conversation_id == conversation_id, Message.sender == sender, Message.client_id == client_id)))


def _detached(message: Message | None) -> Message | None:
    """Take a loaded message out of the session, so the commit that ends the transaction does not expire it.

    Every caller reads the message after that commit (to answer or to emit it); an expired one would open
    a new transaction and select its row again, once per message.
    """
    if message is not None:
        db.session.expunge(message)
    return message


def _resent(conversation_id: int, sender: Sender, client_id: str) -> Posted | None:
    """After the transaction that tried to store the message rolled back: the copy stored before, if any."""
    existing = _stored(conversation_id, sender, client_id)
    end_read()
    return Posted(existing, False) if existing is not None else None


def _expert_user_id(expert_id: int | None, memo: dict[int, int] | None) -> int | None:
    """The user behind an expert profile (their sockets' room), from the caller's memo when it keeps one."""
    if expert_id is None:
        return None
    if memo is None:
        return experts.get_profile(expert_id).user_id
    if expert_id not in memo:
        memo[expert_id] = experts.get_profile(expert_id).user_id
    return memo[expert_id]


# A message's statements are built once, with parameters: building them and computing their cache keys
# on every message took a fifth of post_message's time. They are written on the tables, not the models,
# so they run as plain SQL: the session has no objects of theirs to keep in step, and the ORM's pass over
# each statement (which keys it again) took as long again. The two every message runs are compiled once and
# run on the driver's cursor (`DriverStatement`): SQLAlchemy's execution of them took three times the driver's.
_NOW = sa.bindparam("now", type_=UTCDateTime())
_CONVERSATION = Conversation.__table__.c


def _numbering(*condition: sa.ColumnElement[bool], **values: object) -> DriverStatement:
    """Take the conversation's next number, if the sender may still write (no row back otherwise)."""
    return DriverStatement(
        sa.update(Conversation.__table__).where(_CONVERSATION.id == sa.bindparam("conversation"), *condition)
        .values(last_seq=_CONVERSATION.last_seq + 1, last_activity_at=_NOW, **values)
        .returning(_CONVERSATION.last_seq, _CONVERSATION.expert_id, _CONVERSATION.status, _CONVERSATION.channel)
    )


# A visitor may write while the conversation is open, its expert while they hold it (the visitor there or away).
# Equalities rather than IN: an IN list is expanded again on every execution.
_NUMBER_VISITOR_MESSAGE = _numbering(sa.or_(*(_CONVERSATION.status == status for status in OPEN_STATUSES)))
# A messaging app's customer refused at the door wrote all the same: their message is kept with the refused
# conversation (`kept_if_refused`), so the brand sees it (rule 13), though nobody answers it there.
_NUMBER_REFUSED_VISITOR_MESSAGE = _numbering(sa.or_(*(_CONVERSATION.status == status
                                                      for status in (*OPEN_STATUSES, ConversationStatus.CAPPED))))
_NUMBER_EXPERT_MESSAGE = _numbering(sa.or_(*(_CONVERSATION.status == status for status in ASSIGNED_STATUSES)),
                                    _CONVERSATION.expert_id == sa.bindparam("expert"),
                                    first_reply_at=sa.func.coalesce(_CONVERSATION.first_reply_at, _NOW))
# The FAQ bot writes only while the conversation is still its own (rule 16): once handed over, never again.
_NUMBER_BOT_MESSAGE = _numbering(_CONVERSATION.status == ConversationStatus.BOT)
_MESSAGE_FIELDS = ["conversation_id", "seq", "sender", "author_id", "client_id", "body", "created_at"]
_INSERT_MESSAGE = DriverStatement(sa.insert(Message.__table__).returning(Message.__table__.c.id), _MESSAGE_FIELDS)
_INSERT_ATTACHMENT = sa.insert(Attachment.__table__).returning(Attachment.__table__.c.id)


_NEW_MESSAGE = sa.inspect(Message).class_manager.new_instance


def _as_stored(row: dict) -> Message:
    """The message as its row now stands, detached, so the unit's commit does not expire it: built as the ORM builds
    a row it loads (its values set, not assigned through the constructor, whose events and bookkeeping took a
    twentieth of a relayed message's time)."""
    message = _NEW_MESSAGE()
    message.__dict__.update(row)
    so.make_transient_to_detached(message)
    return message


def _attach(connection: sa.Connection, message: Message, attachment: dict | None) -> None:
    """Store the message's attachment row (the file is stored already) and hang it on the detached message."""
    row = None
    if attachment is not None:
        fields = {**attachment, "conversation_id": message.conversation_id, "message_id": message.id,
                  "created_at": message.created_at}
        row = Attachment(id=connection.execute(_INSERT_ATTACHMENT, fields).scalar_one(), **fields)
        so.make_transient_to_detached(row)
    so.attributes.set_committed_value(message, "attachment", row)
    so.attributes.set_committed_value(message, "delivery", None)  # a channel's reacher may note one next




def post_message(conversation_id: int, sender: Sender, client_id: object, body: object, *,
                 author_id: int | None = None, expert_id: int | None = None,
                 expert_users: dict[int, int] | None = None, sender_sid: str | None = None,
                 visitor_present: bool = True, attachment: dict | None = None,
                 kept_if_refused: bool = False) -> Posted:
    """Store a visitor's or the assigned expert's message and tell both sides; a resend is not a duplicate.

    A new message costs two statements in one transaction: number it on the conversation row, insert it.
    A resend is not looked up beforehand on every message: the unique client id refuses the second insert,
    and the rollback gives the number back. `expert_users` is a caller's memo of expert id -> user id (a
    socket keeps one for its lifetime; a profile's user never changes), saving a lookup per message.
    `sender_sid` is the socket the message came from: it answers with the message, so that socket is not
    sent it a second time as an event. A visitor writing in an asynchronous conversation is back (`away.visitor_back`,
    once the message is stored); one writing in an answered conversation closed within the brand's reopen window
    continues it first. Every new message goes to both sides through `delivery.deliver` (the away visitor's e-mail too).
    `visitor_present`: False for a visitor's message that did not come from their page (an e-mail reply): it stays
    in the asynchronous conversation, where the brand's first-reply target applies, and continues a closed one
    within the window with the visitor still away (Unavailable when the brand cannot take it back for now).
    `attachment` is the row of a file already stored (attachments/services.py): the message carries it, and its
    body is a caption that may be empty. `kept_if_refused`: a visitor's message is kept in a conversation refused at
    the door too (a messaging app's customer, who wrote it before anyone could refuse them).
    """
    client_id = _clean_client_id(client_id)
    body = clean_body(body, caption=attachment is not None)
    try:
        posted, status = _store(conversation_id, sender, client_id, body, author_id, expert_id, expert_users,
                                sender_sid, attachment, kept_if_refused)
    except _ChatEnded:
        # A resend of a message stored before the chat ended still gets its answer.
        resent = _resent(conversation_id, sender, client_id)
        if resent is not None:
            return resent
        # The visitor writes on a closed chat: within the brand's reopen window it continues (then this posts).
        if sender != Sender.VISITOR or away.visitor_back(conversation_id, present=visitor_present) is None:
            raise Conflict(_l("This chat has ended."), "body") from None
        try:
            posted, status = _store(conversation_id, sender, client_id, body, author_id, expert_id, expert_users,
                                    sender_sid, attachment)
        except _ChatEnded:
            raise Conflict(_l("This chat has ended."), "body") from None
    if posted.created and sender == Sender.VISITOR and visitor_present and status == ConversationStatus.ASYNCHRONOUS:
        away.visitor_back(conversation_id)  # they are back: to their expert, or to the queue
    if posted.created and status is not None and not in_unit_of_work():
        delivery.after_stored(posted.message, status)  # (inside a caller's unit, the bot's sweep reads it instead)
    return posted


def _store(conversation_id: int, sender: Sender, client_id: str, body: str, author_id: int | None,
           expert_id: int | None, expert_users: dict[int, int] | None, sender_sid: str | None,
           attachment: dict | None, kept_if_refused: bool = False) -> tuple[Posted, ConversationStatus | None]:
    """Number and store the message, and tell both sides once it commits; the conversation's status as it was
    written in. Raises _ChatEnded (nothing stored) when the sender may not write in it now.

    Messages arriving at the same instant share one transaction (`grouped_unit_of_work`: one commit for many, each
    answered once it has committed), unless a step before numbering concerns their sender: such a step may lock a
    row the router locks before a conversation's, and in a shared transaction another message would have locked
    its conversation first."""
    write = functools.partial(_write, conversation_id, sender, client_id, body, author_id, expert_id, expert_users,
                              sender_sid, attachment, kept_if_refused)
    try:
        if delivery.numbered_alone(sender):
            with unit_of_work():
                message, status = write()
        else:
            message, status = grouped_unit_of_work(write)
    except IntegrityError:
        # A resend, or the same message racing in twice: the stored copy holds the number (the rollback gave
        # this attempt's back).
        resent = _resent(conversation_id, sender, client_id)
        if resent is None:
            raise
        return resent, None
    return Posted(message, True), status


def _write(conversation_id: int, sender: Sender, client_id: str, body: str, author_id: int | None,
           expert_id: int | None, expert_users: dict[int, int] | None, sender_sid: str | None,
           attachment: dict | None, kept_if_refused: bool) -> tuple[Message, ConversationStatus]:
    """Inside the message's transaction (perhaps shared, perhaps in another caller's thread): number it, insert it,
    and hand it to delivery; the stored message and the conversation's status."""
    now = utcnow()
    if sender == Sender.EXPERT:
        numbering, parameters = _NUMBER_EXPERT_MESSAGE, {"conversation": conversation_id, "now": now,
                                                         "expert": expert_id}
    elif sender == Sender.BOT:
        numbering, parameters = _NUMBER_BOT_MESSAGE, {"conversation": conversation_id, "now": now}
    else:
        numbering = _NUMBER_REFUSED_VISITOR_MESSAGE if kept_if_refused else _NUMBER_VISITOR_MESSAGE
        parameters = {"conversation": conversation_id, "now": now}
    # Straight to the transaction's connection: the statements touch no ORM object, and the session's
    # pass over each one took a tenth of the message's time.
    connection = db.session.connection()
    delivery.before_numbering(conversation_id, sender)
    row = numbering.first_row(connection, parameters)
    if row is None:
        raise _ChatEnded  # nothing written: the numbering found no conversation the sender may write in
    seq, conversation_expert_id, status_value, channel = row
    fields = {"conversation_id": conversation_id, "seq": seq, "sender": sender,
              "author_id": author_id, "client_id": client_id, "body": body, "created_at": now}
    (message_id,) = _INSERT_MESSAGE.first_row(connection, fields)
    message = _as_stored({"id": message_id, **fields})
    _attach(connection, message, attachment)
    # Its expert hears of it while they hold it (a chat handed back to the queue is no longer theirs).
    status = ConversationStatus(status_value)
    holder = conversation_expert_id if status in ASSIGNED_STATUSES else None
    delivery.deliver(message, delivery.Route(status, _expert_user_id(holder, expert_users), sender_sid,
                                             Channel(channel)))
    return message, status


def messages_after(conversation_id: int, after_seq: object, limit: int = MAX_BATCH) -> list[Message]:
    """Everything after `after_seq`, in order (at most `limit`; ask again from the last one for more)."""
    if isinstance(after_seq, bool) or not isinstance(after_seq, int) or after_seq < 0:
        raise InvalidInput(_l("Give the last sequence number you have, 0 or more."), "after_seq")
    messages = list(db.session.scalars(
        sa.select(Message).options(*_SHOWN)
        .where(Message.conversation_id == conversation_id, Message.seq > after_seq)
        .order_by(Message.seq).limit(limit)
    ))
    for message in messages:
        _detached(message)
    end_read()
    return messages


def typing(conversation: Conversation, sender: Sender, expert_users: dict[int, int] | None = None) -> None:
    expert_user = _expert_user_id(conversation.expert_id, expert_users)
    end_read()
    events.typing(conversation.id, sender.value, expert_user)


_EXPERT_OF = DriverStatement(sa.select(_CONVERSATION.expert_id).where(_CONVERSATION.id == sa.bindparam("conversation")))


def visitor_typing(conversation_id: int, expert_users: dict[int, int]) -> None:
    """Relay that the visitor is typing to the expert holding their conversation: the row's expert is all it reads
    (a typing signal comes every few seconds while they write, and loading the whole conversation cost most of it).
    """
    row = _EXPERT_OF.first_row(db.session.connection(), {"conversation": conversation_id})
    if row is None:
        db.session.rollback()
        raise Forbidden(_l("Connect to a conversation first."))
    expert_user = _expert_user_id(row[0], expert_users)
    end_read()
    events.typing(conversation_id, Sender.VISITOR.value, expert_user)
