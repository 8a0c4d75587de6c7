"""What is shown of contacts: the brand's list and contact pages, and the expert's view of a visitor's earlier
conversations beside the chat they hold.

Every query names the brand (the brand's people's, through `brands.get_brand`; the expert's, the brand of the chat
they hold), so no contact or conversation of another brand is ever read, even for the same address (rule 14).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from marketplace.brands import services as brands
from marketplace.brands.models import Actor
from marketplace.database import db, end_read
from marketplace.errors import Forbidden, InvalidInput, NotFound, clean_text
from marketplace.routing.models import ASSIGNED_STATUSES, Contact, Conversation, Message, Sender
from marketplace.shared.paging import ResultPage

PER_PAGE = 50
EARLIER_SHOWN = 20  # the expert sees this many of the contact's latest other conversations
FIRST_LINES = 140
SEARCH_LENGTH = 254
PHONE_SEARCH_DIGITS = 4  # fewer digits would find half the numbers


@dataclass(frozen=True)
class ContactRow:
    id: int
    email: str | None  # a contact proved by WhatsApp alone has none
    phone: str | None  # E.164, proved by WhatsApp
    display_name: str | None
    first_seen: dt.datetime | None  # its first conversation with the brand
    last_seen: dt.datetime | None  # its latest
    conversation_count: int

    @property
    def label(self) -> str:
        """What names the contact in a list: the address, else the number, else the name."""
        return self.email or self.phone or self.display_name or f"#{self.id}"


@dataclass(frozen=True)
class ConversationLine:
    """One conversation of a contact, as a list shows it."""

    id: int
    channel: str  # web, whatsapp, messenger: where the customer wrote
    created_at: dt.datetime
    closed_at: dt.datetime | None
    status: str
    topic: str | None
    rating: int | None
    first_lines: str  # the visitor's first message, cut
    message_count: int


@dataclass(frozen=True)
class ContactDetail:
    contact: ContactRow
    proved_at: dt.datetime
    merged_into_id: int | None
    conversations: list[ConversationLine]


@dataclass(frozen=True)
class HistoryMessage:
    seq: int
    sender: str
    body: str
    created_at: dt.datetime
    attachment_name: str | None  # the file is not shown here: only its name


@dataclass(frozen=True)
class History:
    known: bool  # the visitor is one of the brand's contacts (a proved address or WhatsApp number)
    conversations: list[ConversationLine]


def _first_lines(conversation_ids: list[int]) -> dict[int, str]:
    """The visitor's first message of each conversation, cut to FIRST_LINES characters."""
    if not conversation_ids:
        return {}
    first = (sa.select(Message.conversation_id, sa.func.min(Message.seq).label("seq"))
             .where(Message.conversation_id.in_(conversation_ids), Message.sender == Sender.VISITOR)
             .group_by(Message.conversation_id).subquery())
    rows = db.session.execute(sa.select(Message.conversation_id, Message.body).join(
        first, sa.and_(Message.conversation_id == first.c.conversation_id, Message.seq == first.c.seq)))
    return {row.conversation_id: row.body[:FIRST_LINES] for row in rows}


def _lines(conversations: list[Conversation]) -> list[ConversationLine]:
    firsts = _first_lines([c.id for c in conversations])
    return [ConversationLine(c.id, c.channel.value, c.created_at, c.closed_at, c.status.value, c.topic,
                             c.counted_rating, firsts.get(c.id, ""), c.last_seq) for c in conversations]


def _contact_rows(brand_id: int, *conditions: sa.ColumnElement[bool], page: int = 1) -> tuple[list[ContactRow], int]:
    """The brand's contacts (not merged) matching `conditions`, latest seen first, with how many match."""
    where = (Contact.brand_id == brand_id, Contact.merged_into_id.is_(None), *conditions)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Contact).where(*where)) or 0
    seen = (sa.select(Conversation.contact_id, sa.func.min(Conversation.created_at).label("first"),
                      sa.func.max(Conversation.created_at).label("last"), sa.func.count().label("count"))
            .where(Conversation.brand_id == brand_id, Conversation.contact_id.is_not(None))
            .group_by(Conversation.contact_id).subquery())
    rows = db.session.execute(
        sa.select(Contact, seen.c.first, seen.c.last, seen.c.count)
        .outerjoin(seen, seen.c.contact_id == Contact.id).where(*where)
        .order_by(sa.func.coalesce(seen.c.last, Contact.created_at).desc(), Contact.id.desc())
        .limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    return [ContactRow(c.id, c.email, c.phone, c.display_name, first, last, count or 0)
            for c, first, last, count in rows], total


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# The brand's people.

def search_contacts(actor: Actor, brand_id: int, text: object = None, page: object = 1) -> ResultPage[ContactRow]:
    """One page of the brand's contacts, latest seen first; `text` finds it in the address, the number or the
    name."""
    brands.get_brand(actor, brand_id)
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        raise InvalidInput(_l("Enter a page number, 1 or more."), "page")
    text = clean_text(text if isinstance(text, str) else None, "q", max_length=SEARCH_LENGTH)
    conditions = []
    if text:
        pattern = _like(text.lower())
        found = [Contact.email_normalised.like(pattern, escape="\\"),
                 sa.func.lower(Contact.email).like(pattern, escape="\\"),
                 sa.func.lower(Contact.display_name).like(pattern, escape="\\")]
        digits = "".join(c for c in text if c.isascii() and c.isdigit())
        if len(digits) >= PHONE_SEARCH_DIGITS:  # "+33 6 12", "06 12 34": the digits, wherever they are
            found.append(Contact.phone.like(_like(digits), escape="\\"))
        conditions.append(sa.or_(*found))
    rows, total = _contact_rows(brand_id, *conditions, page=page)
    end_read()
    return ResultPage(rows, total, page, PER_PAGE)


def contact_detail(actor: Actor, brand_id: int, contact_id: int) -> ContactDetail:
    """One of the brand's contacts with its conversations, newest first (another brand's is not found)."""
    brands.get_brand(actor, brand_id)
    contact = db.session.scalar(sa.select(Contact).where(Contact.brand_id == brand_id, Contact.id == contact_id))
    if contact is None:
        raise NotFound(_l("No such contact."))
    conversations = list(db.session.scalars(
        sa.select(Conversation).where(Conversation.brand_id == brand_id, Conversation.contact_id == contact.id)
        .order_by(Conversation.created_at.desc(), Conversation.id.desc())))
    lines = _lines(conversations)
    row = ContactRow(contact.id, contact.email, contact.phone, contact.display_name,
                     min((c.created_at for c in conversations), default=None),
                     max((c.created_at for c in conversations), default=None), len(conversations))
    detail = ContactDetail(row, contact.proved_at, contact.merged_into_id, lines)
    end_read()
    return detail


def merge_candidates(actor: Actor, brand_id: int, contact_id: int, limit: int = 200) -> list[ContactRow]:
    """The brand's other contacts (not merged), latest seen first: what may be merged with `contact_id`."""
    brands.get_brand(actor, brand_id)
    rows, _ = _contact_rows(brand_id, Contact.id != contact_id)
    end_read()
    return rows[:limit]


# The expert beside the chat they hold.

def _held(expert_id: int, conversation_id: int) -> Conversation:
    """The conversation if this expert holds it now (404 if it was never theirs, 403 once they no longer hold it)."""
    conversation = db.session.get(Conversation, conversation_id)
    if conversation is None or conversation.expert_id != expert_id:
        raise NotFound(_l("No such conversation."))
    if conversation.status not in ASSIGNED_STATUSES:
        raise Forbidden(_l("The visitor's history is shown only while you hold the chat."))
    return conversation


def expert_history(expert_id: int, conversation_id: int) -> History:
    """The earlier conversations of the held chat's contact with the same brand, newest first (the latest 20), from
    every channel the contact wrote on (web, WhatsApp), each with its channel."""
    held = _held(expert_id, conversation_id)
    if held.contact_id is None:
        end_read()
        return History(False, [])
    earlier = list(db.session.scalars(
        sa.select(Conversation)
        .where(Conversation.brand_id == held.brand_id, Conversation.contact_id == held.contact_id,
               Conversation.id != held.id)
        .order_by(Conversation.created_at.desc(), Conversation.id.desc()).limit(EARLIER_SHOWN)))
    history = History(True, _lines(earlier))
    end_read()
    return history


def expert_history_transcript(expert_id: int, conversation_id: int, earlier_id: int) -> list[HistoryMessage]:
    """The messages of one of the held chat's contact's earlier conversations with the brand, read-only."""
    held = _held(expert_id, conversation_id)
    earlier = None
    if held.contact_id is not None and earlier_id != held.id:
        earlier = db.session.scalar(sa.select(Conversation.id).where(
            Conversation.id == earlier_id, Conversation.brand_id == held.brand_id,
            Conversation.contact_id == held.contact_id))
    if earlier is None:
        raise NotFound(_l("No such conversation."))
    messages = [
        HistoryMessage(m.seq, m.sender.value, m.body, m.created_at, m.attachment.filename if m.attachment else None)
        for m in db.session.scalars(sa.select(Message).options(so.selectinload(Message.attachment))
                                    .where(Message.conversation_id == earlier).order_by(Message.seq))]
    end_read()
    return messages
