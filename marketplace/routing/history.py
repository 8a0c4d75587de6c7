"""What the conversation history says about demand and handling, for the capacity planner.

Arrivals are counted per quarter hour of the brand's local day (96 quarters, wall-clock time: a quarter that
a daylight-saving change skips stays empty, one it repeats counts both), every arrival included: visitors
refused at the door wanted a chat too, and the planner forecasts demand, not what the caps let in.

A conversation the brand's FAQ bot resolved, or still has, never reached a person: it is no arrival for experts
(the planner forecasts the human demand, net of the automation measured), while one the bot handed over is an
arrival as any, once (`arrivals_for_experts`). `automation_between` measures the share the bot resolved.

Handle time is a chat's live time (`Conversation.live_seconds`: the seconds it was active, holding a live slot of
its expert), not acceptance to close: an asynchronous chat whose visitor was away for days held no slot meanwhile,
and counting those days would have the Erlang model staff for chats that last days.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

import sqlalchemy as sa

from marketplace.core import clock, lifecycles
from marketplace.database import db, use_case
from marketplace.faq.models import FaqEntry
from marketplace.routing.bot.models import BotTurn, TurnOutcome
from marketplace.routing.models import UNANSWERED_STATUSES, Channel, Conversation, ConversationStatus, EndReason

QUARTER = dt.timedelta(minutes=15)
SLOTS_PER_DAY = 96
# With the FAQ bot, or ended by it: before any person, so no demand for experts.
BEFORE_ANY_PERSON = tuple(ConversationStatus(status) for status in (*lifecycles.CONVERSATION_WITH_BOT,
                                                                    *lifecycles.CONVERSATION_RESOLVED_BY_BOT))


@dataclass(frozen=True)
class Handling:
    """How the brand's chats went over a stretch of time."""

    handle_s: float | None  # mean live time of answered chats (those whose live time is known); None without any
    answered: int
    arrivals: int
    abandoned: int  # left or missed before an answer
    mean_wait_abandoned_s: float | None  # how long those who left had waited (a floor for their patience)


def epoch_seconds(column: sa.ColumnElement[dt.datetime]) -> sa.ColumnElement[int]:
    """Whole seconds since 1970 of a stored (naive UTC) timestamp."""
    if db.session.get_bind().dialect.name == "postgresql":
        return sa.cast(sa.func.floor(sa.extract("epoch", column)), sa.BigInteger)
    return sa.cast(sa.func.strftime("%s", column), sa.BigInteger)


def arrivals_for_experts(brand_id: int) -> list[sa.ColumnElement[bool]]:
    """The brand's conversations that reached, or wait for, a person: refused ones included, the bot's own not."""
    return [Conversation.brand_id == brand_id, Conversation.status.not_in(BEFORE_ANY_PERSON)]


def arrivals_by_quarter(brand_id: int, timezone: str, first_day: dt.date,
                        last_day: dt.date) -> dict[dt.date, list[int]]:
    """Arrivals per local quarter hour for each day from `first_day` to `last_day` (inclusive), zeros included."""
    start, end = clock.day_bounds(first_day, timezone, days=(last_day - first_day).days + 1)
    origin = int(start.timestamp())
    bucket = (epoch_seconds(Conversation.created_at) - origin) // int(QUARTER.total_seconds())
    rows = db.session.execute(
        sa.select(bucket.label("bucket"), sa.func.count())
        .where(*arrivals_for_experts(brand_id), Conversation.created_at >= start, Conversation.created_at < end)
        .group_by(sa.text("bucket"))
    ).all()
    zone = clock.zone(timezone)
    days = {first_day + dt.timedelta(days=n): [0] * SLOTS_PER_DAY for n in range((last_day - first_day).days + 1)}
    for index, count in rows:
        local = (start + int(index) * QUARTER).astimezone(zone)
        slots = days.get(local.date())
        if slots is not None:
            slots[(local.hour * 60 + local.minute) // 15] += int(count)
    return days


def first_arrival_day(brand_id: int, timezone: str) -> dt.date | None:
    """The local day of the brand's first arrival for experts, or None when it has none."""
    first = db.session.scalar(sa.select(sa.func.min(Conversation.created_at)).where(*arrivals_for_experts(brand_id)))
    if first is None:
        return None
    return clock.local_day(first, timezone)


def handling(brand_id: int, since: dt.datetime, until: dt.datetime) -> Handling:
    """Handle time and abandonment of the brand's conversations created in [since, until)."""
    window = (*arrivals_for_experts(brand_id), Conversation.created_at >= since, Conversation.created_at < until)
    answered, mean_handle = db.session.execute(
        sa.select(sa.func.count(), sa.func.avg(Conversation.live_seconds)).where(  # the average skips unknown ones
            *window, Conversation.status == ConversationStatus.CLOSED, Conversation.accepted_at.is_not(None),
            Conversation.first_reply_at.is_not(None))
    ).one()
    waited = epoch_seconds(Conversation.closed_at) - epoch_seconds(Conversation.created_at)
    abandoned, mean_wait = db.session.execute(
        sa.select(sa.func.count(), sa.func.avg(waited)).where(*window, Conversation.status.in_(UNANSWERED_STATUSES))
    ).one()
    arrivals = db.session.scalar(sa.select(sa.func.count()).where(*window)) or 0
    return Handling(float(mean_handle) if mean_handle is not None else None, int(answered), int(arrivals),
                    int(abandoned), float(mean_wait) if mean_wait is not None else None)


def ratings_of(expert_ids: set[int]) -> dict[int, tuple[float, int]]:
    """Each expert's sum and number of counted chat ratings (all brands; a removed one is not counted)."""
    if not expert_ids:
        return {}
    rows = db.session.execute(
        sa.select(Conversation.expert_id, sa.func.sum(Conversation.counted_rating),
                  sa.func.count(Conversation.counted_rating))
        .where(Conversation.expert_id.in_(expert_ids), Conversation.counted_rating.is_not(None))
        .group_by(Conversation.expert_id)
    ).all()
    return {int(expert_id): (float(total or 0), int(count)) for expert_id, total, count in rows}


def open_chats_of(expert_ids: set[int]) -> dict[int, int]:
    """Each expert's chats under way now (all brands)."""
    if not expert_ids:
        return {}
    rows = db.session.execute(
        sa.select(Conversation.expert_id, sa.func.count())
        .where(Conversation.expert_id.in_(expert_ids), Conversation.status == ConversationStatus.ACTIVE)
        .group_by(Conversation.expert_id)
    ).all()
    return {int(expert_id): int(count) for expert_id, count in rows}


def arrivals_between(brand_id: int, since: dt.datetime, until: dt.datetime) -> int:
    """Visitors who arrived for an expert in [since, until), refused ones included."""
    return db.session.scalar(sa.select(sa.func.count()).where(
        *arrivals_for_experts(brand_id), Conversation.created_at >= since, Conversation.created_at < until)) or 0


@dataclass(frozen=True)
class PastChat:
    """A conversation that already happened, for demo data and simulations: answered, or left unanswered."""

    created_at: dt.datetime
    expert_id: int | None  # None: the visitor left before an answer
    wait_s: int
    handle_s: int
    rating: int | None = None
    rate_cents: int | None = None  # the price on the brand's card when it was accepted
    rate_card_id: int | None = None


@use_case
def record_past_chats(brand_id: int, chats: list[PastChat]) -> int:
    """Insert past conversations in bulk (demo history, never live traffic); one transaction."""
    rows = []
    for chat in chats:
        answered_at = chat.created_at + dt.timedelta(seconds=chat.wait_s)
        closed_at = answered_at + dt.timedelta(seconds=chat.handle_s) if chat.expert_id else answered_at
        rows.append({
            "brand_id": brand_id,
            "status": ConversationStatus.CLOSED if chat.expert_id else ConversationStatus.ABANDONED,
            "end_reason": EndReason.EXPERT if chat.expert_id else EndReason.LEFT, "priority": 0,
            "visitor_token_hash": secrets.token_hex(32), "created_at": chat.created_at, "queued_at": chat.created_at,
            "visitor_seen_at": closed_at, "last_activity_at": closed_at, "expert_id": chat.expert_id,
            "accepted_at": answered_at if chat.expert_id else None,
            "first_reply_at": answered_at + dt.timedelta(seconds=5) if chat.expert_id else None,
            "closed_at": closed_at, "rating": chat.rating, "rated_at": closed_at if chat.rating else None,
            "live_seconds": chat.handle_s if chat.expert_id else 0,
            "rate_cents": chat.rate_cents if chat.expert_id else None,
            "rate_card_id": chat.rate_card_id if chat.expert_id else None,
            "last_seq": 0, "expert_read_seq": 0, "channel": Channel.WEB,
        })
    if rows:  # a Core insert: the ORM's bulk path spends more on twelve thousand dicts than SQLite does on the rows
        db.session.execute(sa.insert(Conversation.__table__), rows)
    return len(rows)


@dataclass(frozen=True)
class AnsweredChat:
    """A closed chat the accepted expert answered: what the payouts domain needs to price it."""

    conversation_id: int
    brand_id: int
    expert_id: int
    rate_cents: int
    rate_card_id: int | None
    accepted_at: dt.datetime
    first_reply_at: dt.datetime
    closed_at: dt.datetime
    rating: int | None  # the counted rating: none once the brand removed it (routing/ratings/), so no bonus
    visitor_token_hash: str
    visitor_network: str | None = None
    expert_network: str | None = None


def answered_chats_closed(since: dt.datetime, until: dt.datetime, limit: int = 5_000) -> list[AnsweredChat]:
    """Answered chats closed in [since, until), oldest close first (an answered chat: DESIGN section 3)."""
    rows = db.session.execute(
        sa.select(Conversation.id, Conversation.brand_id, Conversation.expert_id, Conversation.rate_cents,
                  Conversation.rate_card_id, Conversation.accepted_at, Conversation.first_reply_at,
                  Conversation.closed_at, Conversation.counted_rating.label("rating"), Conversation.visitor_token_hash,
                  Conversation.visitor_network, Conversation.expert_network)
        .where(Conversation.status == ConversationStatus.CLOSED, Conversation.closed_at >= since,
               Conversation.closed_at < until, Conversation.expert_id.is_not(None),
               Conversation.first_reply_at.is_not(None), Conversation.accepted_at.is_not(None))
        .order_by(Conversation.closed_at, Conversation.id).limit(limit)
    ).all()
    return [AnsweredChat(row.id, row.brand_id, row.expert_id, row.rate_cents or 0, row.rate_card_id,
                         row.accepted_at, row.first_reply_at, row.closed_at, row.rating, row.visitor_token_hash,
                         row.visitor_network, row.expert_network)
            for row in rows]


def chats_between(expert_id: int, visitor_token_hash: str, since: dt.datetime) -> int:
    """How many chats this visitor had with this expert since `since` (a fraud check's input).

    Read by the visitor alone (their index; a visitor has few chats) and counted here: filtering on the expert
    in SQL lets SQLite walk the expert's index instead, every chat they ever had."""
    experts = db.session.scalars(sa.select(Conversation.expert_id).where(
        Conversation.visitor_token_hash == visitor_token_hash, Conversation.created_at >= since))
    return sum(1 for found in experts if found == expert_id)


def automation_between(brand_id: int, since: dt.datetime, until: dt.datetime) -> tuple[int, int]:
    """Of the brand's conversations created in [since, until) (every one, refused and the bot's included), how many
    the FAQ bot resolved, and how many there were: the automation the planner's demand is net of."""
    resolved, conversations = db.session.execute(
        sa.select(sa.func.count().filter(Conversation.status.in_(
                      [ConversationStatus(status) for status in lifecycles.CONVERSATION_RESOLVED_BY_BOT])),
                  sa.func.count())
        .where(Conversation.brand_id == brand_id, Conversation.created_at >= since, Conversation.created_at < until)
    ).one()
    return int(resolved), int(conversations)


@dataclass(frozen=True)
class BotResolution:
    """A conversation the brand's FAQ bot resolved with an entry an expert wrote: what the payouts domain needs to
    credit that expert."""

    conversation_id: int
    brand_id: int
    entry_id: int  # the entry of the bot's last answer: the one that resolved it
    author_expert_id: int  # the expert whose answer the entry came from
    resolved_at: dt.datetime


def bot_resolutions(since: dt.datetime, until: dt.datetime, *, brand_ids: set[int],
                    after: tuple[dt.datetime, int] | None = None, limit: int = 1_000) -> list[BotResolution]:
    """The brands' conversations the bot resolved in [since, until) (the visitor said its answer helped, or asked
    nothing more) whose resolving entry has an author, oldest first; `after` (resolved_at, conversation id) of a
    page's last one reads the next page.

    The entry that resolved a conversation is that of the bot's last answer in it, of the conversation's brand (a
    knowledge base never crosses brands); a conversation an expert took is handed over, never resolved.
    """
    if not brand_ids:
        return []
    last_answer = (sa.select(BotTurn.entry_id)
                   .where(BotTurn.conversation_id == Conversation.id, BotTurn.outcome == TurnOutcome.ANSWERED)
                   .order_by(BotTurn.visitor_seq.desc(), BotTurn.id.desc()).limit(1)
                   .correlate(Conversation).scalar_subquery())
    query = (sa.select(Conversation.id, Conversation.brand_id, FaqEntry.id.label("entry_id"),
                       FaqEntry.author_expert_id, Conversation.closed_at)
             .join(FaqEntry, sa.and_(FaqEntry.id == last_answer, FaqEntry.brand_id == Conversation.brand_id))
             .where(Conversation.status == ConversationStatus.RESOLVED,
                    Conversation.end_reason.in_((EndReason.BOT_CONFIRMED, EndReason.BOT_UNCONFIRMED)),
                    Conversation.expert_id.is_(None), Conversation.brand_id.in_(brand_ids),
                    Conversation.closed_at >= since, Conversation.closed_at < until,
                    FaqEntry.author_expert_id.is_not(None)))
    if after is not None:
        query = query.where(sa.tuple_(Conversation.closed_at, Conversation.id) > after)  # bound as the columns
    rows = db.session.execute(query.order_by(Conversation.closed_at, Conversation.id).limit(limit)).all()
    return [BotResolution(row.id, row.brand_id, row.entry_id, row.author_expert_id, row.closed_at) for row in rows]
