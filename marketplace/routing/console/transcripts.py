"""The brand's conversations after the fact: search, transcripts and CSV export.

Every list covers all the brand's conversations, refused and missed ones included, newest first. Days are
the brand's own (a day filter runs from its local midnight to the next). The text filter is a plain
case-insensitive LIKE on message bodies (an EXISTS per conversation), not a full-text index; SQLite folds
the case of ASCII letters only, so there "É" does not find "é".
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from marketplace.brands import services as brands
from marketplace.brands.models import Actor, Brand
from marketplace.core import clock
from marketplace.database import ID_MAX, db, end_read
from marketplace.errors import InvalidInput, NotFound, clean_text
from marketplace.experts import services as experts
from marketplace.routing import events
from marketplace.routing.left_messages.services import LeftMessageState, left_message_of
from marketplace.routing.models import Conversation, ConversationStatus, Message
from marketplace.routing.ratings import services as ratings
from marketplace.shared import spreadsheets
from marketplace.shared.paging import ResultPage

PER_PAGE = 50
EXPORT_BATCH = 500
TEXT_LENGTH = 200
# A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection").
CSV_COLUMNS = ("id", "created", "status", "end_reason", "topic", "expert", "accepted", "first_reply_seconds",
               "closed", "rating", "rating_comment", "rate_cents", "messages", "page_url", "anonymised")


@dataclass(frozen=True)
class Filters:
    """Which conversations to show; None means any."""

    date_from: dt.date | None = None  # the brand's local day, inclusive
    date_to: dt.date | None = None  # the brand's local day, inclusive
    expert_id: int | None = None
    rating: int | None = None  # exactly
    min_rating: int | None = None  # at least
    topic: str | None = None
    status: ConversationStatus | None = None
    text: str | None = None  # in any message of the conversation


@dataclass(frozen=True)
class ConversationRow:
    id: int
    created_at: dt.datetime
    status: str
    end_reason: str | None
    channel: str  # web, whatsapp, messenger
    topic: str | None
    page_url: str | None
    expert_id: int | None
    expert_name: str | None
    accepted_at: dt.datetime | None
    first_reply_seconds: int | None  # from the expert's acceptance to their first message
    closed_at: dt.datetime | None
    rating: int | None  # the counted rating: None when unrated or removed after the expert contested it
    rating_comment: str | None
    rate_cents: int | None  # the brand's price for this chat, in its currency's minor units
    message_count: int
    rating_removed: bool = False  # the brand removed the visitor's rating (routing/ratings/)
    reported: bool = False  # the expert reported the visitor as abusive (routing/ratings/)
    # When its text, files and the visitor's identifiers were removed (routing/retention/); None while kept.
    anonymised_at: dt.datetime | None = None


@dataclass(frozen=True)
class TranscriptMessage:
    seq: int
    sender: str
    body: str
    created_at: dt.datetime
    attachment: dict[str, Any] | None = None  # events.attachment_payload: its file, shown through a fresh link


@dataclass(frozen=True)
class Transcript:
    conversation: ConversationRow
    messages: list[TranscriptMessage]
    left_message: LeftMessageState | None


# Filters.

def _optional_int(values: Mapping[str, Any], field: str, low: int, high: int) -> int | None:
    value = values.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(_l("Enter a whole number from %(low)s to %(high)s.", low=low, high=high), field)
    return value


def _optional_day(values: Mapping[str, Any], field: str) -> dt.date | None:
    value = values.get(field)
    if value is None:
        return None
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise InvalidInput(_l("Enter a date."), field)
    return value


def clean_filters(values: Mapping[str, Any]) -> Filters:
    """Check search filters given as plain values (dates, whole numbers, text); unknown keys are ignored."""
    date_from, date_to = _optional_day(values, "date_from"), _optional_day(values, "date_to")
    if date_from and date_to and date_to < date_from:
        raise InvalidInput(_l("The last day comes before the first one."), "date_to")
    status = values.get("status") or None
    if status is not None:
        try:
            status = ConversationStatus(status)
        except ValueError:
            raise InvalidInput(_l("Choose a status from the list."), "status") from None
    topic = values.get("topic")
    text = values.get("text")
    return Filters(
        date_from=date_from, date_to=date_to,
        expert_id=_optional_int(values, "expert_id", 1, ID_MAX),
        rating=_optional_int(values, "rating", 1, 5), min_rating=_optional_int(values, "min_rating", 1, 5),
        topic=clean_text(topic if isinstance(topic, str) else None, "topic", max_length=80) or None,
        status=status,
        text=clean_text(text if isinstance(text, str) else None, "text", max_length=TEXT_LENGTH) or None,
    )


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _conditions(brand: Brand, filters: Filters) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = [Conversation.brand_id == brand.id]
    if filters.date_from:
        conditions.append(Conversation.created_at >= clock.day_start(filters.date_from, brand.timezone))
    if filters.date_to:
        next_day = filters.date_to + dt.timedelta(days=1)
        conditions.append(Conversation.created_at < clock.day_start(next_day, brand.timezone))
    if filters.expert_id:
        conditions.append(Conversation.expert_id == filters.expert_id)
    if filters.rating:
        conditions.append(Conversation.counted_rating == filters.rating)
    if filters.min_rating:
        conditions.append(Conversation.counted_rating >= filters.min_rating)
    if filters.topic:
        conditions.append(Conversation.topic == filters.topic)
    if filters.status:
        conditions.append(Conversation.status == filters.status)
    if filters.text:
        conditions.append(sa.exists().where(Message.conversation_id == Conversation.id,
                                            Message.body.ilike(_like_pattern(filters.text), escape="\\")))
    return conditions


def _newest_first() -> tuple[sa.UnaryExpression, sa.UnaryExpression]:
    return Conversation.created_at.desc(), Conversation.id.desc()


def _rows(conversations: list[Conversation]) -> list[ConversationRow]:
    names = {p.id: p.display_name
             for p in experts.profiles_by_id({c.expert_id for c in conversations if c.expert_id}).values()}
    reported = ratings.reported_conversations([c.id for c in conversations])
    rows = []
    for c in conversations:
        first_reply = None
        if c.first_reply_at and c.accepted_at:
            first_reply = max(0, round((c.first_reply_at - c.accepted_at).total_seconds()))
        rows.append(ConversationRow(
            id=c.id, created_at=c.created_at, status=c.status.value,
            end_reason=c.end_reason.value if c.end_reason else None, channel=c.channel.value, topic=c.topic,
            page_url=c.page_url,
            expert_id=c.expert_id, expert_name=names.get(c.expert_id), accepted_at=c.accepted_at,
            first_reply_seconds=first_reply, closed_at=c.closed_at, rating=c.counted_rating,
            rating_comment=c.rating_comment if c.counted_rating is not None else None, rate_cents=c.rate_cents,
            message_count=c.last_seq,  # messages are numbered from 1 without gaps
            rating_removed=c.rating_removed_at is not None, reported=c.id in reported,
            anonymised_at=c.anonymised_at,
        ))
    return rows


# Search and transcripts.

def search_conversations(actor: Actor, brand_id: int, filters: Mapping[str, Any],
                         page: int = 1) -> ResultPage[ConversationRow]:
    """One page of the brand's conversations matching `filters`, newest first, with the total."""
    brand = brands.get_brand(actor, brand_id)
    clean = clean_filters(filters)
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        raise InvalidInput(_l("Enter a page number, 1 or more."), "page")
    conditions = _conditions(brand, clean)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Conversation).where(*conditions)) or 0
    found = list(db.session.scalars(
        sa.select(Conversation).where(*conditions).order_by(*_newest_first())
        .limit(PER_PAGE).offset((page - 1) * PER_PAGE)
    ))
    result = ResultPage(_rows(found), total, page, PER_PAGE)
    end_read()
    return result


def handling_experts(actor: Actor, brand_id: int) -> list[tuple[int, str]]:
    """(id, display name) of the experts who took the brand's chats, by name: the expert filter's choices."""
    brands.get_brand(actor, brand_id)
    expert_ids = set(db.session.scalars(
        sa.select(Conversation.expert_id).distinct()
        .where(Conversation.brand_id == brand_id, Conversation.expert_id.is_not(None))
    ))
    choices = sorted(((p.id, p.display_name) for p in experts.profiles_by_id(expert_ids).values()),
                     key=lambda choice: (choice[1].casefold(), choice[0]))
    end_read()
    return choices


def transcript(actor: Actor, brand_id: int, conversation_id: int) -> Transcript:
    """One of the brand's conversations with its messages in order (another brand's is not found); none once it
    was anonymised (`anonymised_at` says so): their text and files are gone, only the figures stay."""
    brands.get_brand(actor, brand_id)
    conversation = db.session.scalar(
        sa.select(Conversation).where(Conversation.id == conversation_id, Conversation.brand_id == brand_id))
    if conversation is None:
        raise NotFound(_l("No such conversation."))
    messages = [] if conversation.anonymised_at is not None else [
        TranscriptMessage(m.seq, m.sender.value, m.body, m.created_at, events.attachment_payload(m.attachment))
        for m in db.session.scalars(
            sa.select(Message).options(so.selectinload(Message.attachment))
            .where(Message.conversation_id == conversation.id).order_by(Message.seq))
    ]
    result = Transcript(_rows([conversation])[0], messages, left_message_of(conversation.id))
    end_read()
    return result


# CSV export.

def _local(value: dt.datetime | None, zone: zoneinfo.ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _csv_line(row: ConversationRow, zone: zoneinfo.ZoneInfo) -> list[object]:
    return [row.id, _local(row.created_at, zone), row.status, row.end_reason or "", row.topic or "",
            row.expert_name or "", _local(row.accepted_at, zone),
            "" if row.first_reply_seconds is None else row.first_reply_seconds, _local(row.closed_at, zone),
            row.rating or "", row.rating_comment or "", "" if row.rate_cents is None else row.rate_cents,
            row.message_count, row.page_url or "", _local(row.anonymised_at, zone)]


def export_csv(actor: Actor, brand_id: int, filters: Mapping[str, Any]) -> Iterator[str]:
    """The brand's conversations matching `filters` as CSV text, newest first, produced in batches.

    For spreadsheets set to French: `;` between cells and a UTF-8 byte order mark first, so accents open
    right. Times are on the brand's clock as "YYYY-MM-DD HH:MM:SS" (`anonymised`: when the retention policy removed
    the conversation's text and identifiers, empty while kept); `rate_cents` is the price in the
    currency's minor units (an integer, e.g. 750 for 7.50 EUR); `first_reply_seconds` runs from the
    expert's acceptance; `status` and `end_reason` are the API's codes. Access and filters are checked
    at once, before the first line, so a refusal is an error answer rather than a broken file.
    """
    brand = brands.get_brand(actor, brand_id)
    conditions = _conditions(brand, clean_filters(filters))
    zone = clock.zone(brand.timezone)
    end_read()
    return _csv_batches(conditions, zone)


def _csv_batches(conditions: list[sa.ColumnElement[bool]], zone: zoneinfo.ZoneInfo) -> Iterator[str]:
    return spreadsheets.stream(CSV_COLUMNS, _csv_rows(conditions, zone))


def _csv_rows(conditions: list[sa.ColumnElement[bool]], zone: zoneinfo.ZoneInfo) -> Iterator[list[list[object]]]:
    after: tuple[dt.datetime, int] | None = None
    while True:
        query = sa.select(Conversation).where(*conditions).order_by(*_newest_first()).limit(EXPORT_BATCH)
        if after is not None:
            query = query.where(sa.or_(Conversation.created_at < after[0],
                                       sa.and_(Conversation.created_at == after[0], Conversation.id < after[1])))
        batch = _rows(list(db.session.scalars(query)))
        # Each batch is its own short transaction: a long download must not hold the database (SQLite's
        # transactions take the write lock).
        end_read()
        if not batch:
            return
        yield [_csv_line(row, zone) for row in batch]
        if len(batch) < EXPORT_BATCH:
            return
        after = (batch[-1].created_at, batch[-1].id)
