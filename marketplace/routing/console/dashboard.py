"""The brand's live dashboard: who waits and talks now, how today went, and how full each cap is.

"Today" is the brand's own day (its timezone), from local midnight to the next. Today's figures follow
the day's arrivals: a conversation counts on the day it was created, whatever happened to it later. A conversation
still with the brand's FAQ bot, or ended by it, never reached a person: it is no arrival, answered or unanswered
chat of the day; the bot's own figures (bot_figures.py) count it. One the bot handed over is an arrival as any.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa

from marketplace.brands import services as brands
from marketplace.brands.models import Actor
from marketplace.core import clock
from marketplace.database import db, end_read, utcnow
from marketplace.experts import presence
from marketplace.experts.models import Enrolment, EnrolmentStatus
from marketplace.routing.channels import fees
from marketplace.routing.console.bot_figures import BotFigures, bot_figures
from marketplace.routing.console.caps import REFUSAL_REASONS, CapUse, cap_uses
from marketplace.routing.history import BEFORE_ANY_PERSON, epoch_seconds
from marketplace.routing.models import (
    ENDED_STATUSES,
    LIVE_STATUSES,
    OPEN_STATUSES,
    QUEUED_STATUSES,
    WITH_BOT_STATUSES,
    BrandLoad,
    Conversation,
    ConversationStatus,
)

INTERVAL = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class ServiceLevel:
    """Today's share of chats answered within the brand's target, next to the share the brand aims for.

    Of the conversations let in today, those whose first expert reply came at most `target_seconds` after
    the visitor arrived (`within`), out of those already decided (`decided`): answered (in time or late),
    waiting unanswered past the target, or ended unanswered (abandoned, missed, or closed without a reply).
    A visitor still waiting inside the target is not decided yet and counts in neither.
    """

    within: int
    decided: int
    target_percent: int
    target_seconds: int

    @property
    def share(self) -> float | None:
        """0 to 1; None when no conversation is decided yet."""
        return self.within / self.decided if self.decided else None

    @property
    def met(self) -> bool | None:
        return None if self.share is None else self.share * 100 >= self.target_percent


@dataclass(frozen=True)
class Rating:
    """The visitors' average rating (1-5) of today's conversations, and how many rated."""

    average: float | None
    count: int


@dataclass(frozen=True)
class Interval:
    """A quarter of an hour of the brand's day; counts are None for a quarter that has not begun."""

    start: dt.datetime  # UTC
    arrivals: int | None
    answered_within_target: int | None
    experts_online: int | None


@dataclass(frozen=True)
class Dashboard:
    brand_id: int
    day: dt.date  # the brand's today
    timezone: str
    currency: str
    as_of: dt.datetime
    # Now.
    waiting: int  # waiting or being offered
    active: int
    away: int  # asynchronous: the visitor left an address and went (no live place)
    experts_online: int  # available and approved for the brand
    # Today's arrivals.
    arrivals: int  # let in (not refused at the door, nor still with or ended by the FAQ bot)
    answered: int  # got a first expert reply
    missed: int  # waited past the brand's maximum wait
    abandoned: int  # the visitor left before an answer
    refusals: dict[str, int]  # refused at the door, by reason (every reason present)
    service_level: ServiceLevel
    rating: Rating
    caps: list[CapUse]  # max_concurrent, max_active_experts, daily_cap, monthly_budget_cents (cents)
    intervals: list[Interval]  # 96 (92 or 100 on a daylight-saving change day)
    # The month so far: messaging apps' fees charged (cents, inside the monthly budget's spend), replies held by it.
    channel_fees_cents: int = 0
    channel_messages_held: int = 0
    # The FAQ bot's day (None: the brand never used it).
    bot: BotFigures | None = None

    @property
    def refused(self) -> int:
        return sum(self.refusals.values())

    @property
    def abandonment_share(self) -> float | None:
        """The share of today's arrivals who left before an answer (0 to 1); None before the first one."""
        return self.abandoned / self.arrivals if self.arrivals else None


def brand_dashboard(actor: Actor, brand_id: int, now: dt.datetime | None = None) -> Dashboard:
    """The brand's figures now and for its day so far; one read transaction (404 for outsiders)."""
    brand = brands.get_brand(actor, brand_id)
    now = now or utcnow()
    today = clock.local_day(now, brand.timezone)
    start, end = clock.day_bounds(today, brand.timezone)
    target = brand.service_level_seconds
    day = _day_totals(brand_id, start, end, now, target)
    open_now = _open_now(brand_id)
    channel_fees, held = fees.month_to_date(brand.id, brand.timezone, now)
    bot = bot_figures(brand.id, start, end, sum(open_now.get(status, 0) for status in WITH_BOT_STATUSES))
    board = Dashboard(
        brand_id=brand.id, day=today, timezone=brand.timezone, currency=brand.currency, as_of=now,
        waiting=sum(open_now.get(status, 0) for status in QUEUED_STATUSES),
        active=open_now.get(ConversationStatus.ACTIVE, 0),
        away=open_now.get(ConversationStatus.ASYNCHRONOUS, 0),
        experts_online=_count(presence.routable_expert_ids(brand_id)),
        arrivals=day.arrivals, answered=day.answered, missed=day.missed, abandoned=day.abandoned,
        refusals=day.refusals,
        service_level=ServiceLevel(day.within, day.decided, brand.service_level_percent, target),
        rating=Rating(round(day.rating_sum / day.rated, 2) if day.rated else None, day.rated),
        caps=cap_uses(brand, today, sum(open_now.get(status, 0) for status in LIVE_STATUSES),
                      db.session.get(BrandLoad, brand.id)),
        intervals=_intervals(brand_id, start, end, now, target),
        channel_fees_cents=channel_fees, channel_messages_held=held, bot=bot,
    )
    end_read()
    return board


def _count(query: sa.Select) -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0)


def _open_now(brand_id: int) -> dict[ConversationStatus, int]:
    return dict(db.session.execute(
        sa.select(Conversation.status, sa.func.count())
        .where(Conversation.brand_id == brand_id, Conversation.status.in_(OPEN_STATUSES))
        .group_by(Conversation.status)
    ).all())


# When a person could first answer: the visitor's arrival, or the FAQ bot's hand-over (its time is not the experts').
def _for_people_since() -> sa.ColumnElement[dt.datetime]:
    return sa.func.coalesce(Conversation.handed_over_at, Conversation.created_at)


def _seconds_to_first_reply() -> sa.ColumnElement[float]:
    """Seconds from the visitor's arrival (or the bot's hand-over) to the first expert reply (to the millisecond on
    SQLite)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return sa.extract("epoch", Conversation.first_reply_at - _for_people_since())
    # julianday keeps whole milliseconds; rounding drops the float noise of the subtraction.
    days = sa.func.julianday(Conversation.first_reply_at) - sa.func.julianday(_for_people_since())
    return sa.func.round(days * 86400.0, 3)


def _within_target(target_seconds: int) -> sa.ColumnElement[bool]:
    return sa.and_(Conversation.first_reply_at.is_not(None), _seconds_to_first_reply() <= target_seconds)


def _decided(now: dt.datetime, target_seconds: int) -> sa.ColumnElement[bool]:
    """Whether a let-in conversation's place in the service level is settled (see ServiceLevel)."""
    return sa.or_(Conversation.first_reply_at.is_not(None),
                  _for_people_since() < now - dt.timedelta(seconds=target_seconds),
                  Conversation.status.in_(ENDED_STATUSES))


def _created_between(brand_id: int, start: dt.datetime, end: dt.datetime) -> list[sa.ColumnElement[bool]]:
    return [Conversation.brand_id == brand_id, Conversation.created_at >= start, Conversation.created_at < end]


@dataclass
class _DayTotals:
    arrivals: int = 0
    answered: int = 0
    within: int = 0
    decided: int = 0
    missed: int = 0
    abandoned: int = 0
    rating_sum: int = 0
    rated: int = 0
    refusals: dict[str, int] = field(default_factory=lambda: {reason.value: 0 for reason in REFUSAL_REASONS})


def _day_totals(brand_id: int, start: dt.datetime, end: dt.datetime, now: dt.datetime, target: int) -> _DayTotals:
    """Today's arrivals, counted in the database by status and end reason (a handful of rows come back)."""
    rows = db.session.execute(
        sa.select(Conversation.status, Conversation.end_reason, sa.func.count(),
                  sa.func.count().filter(Conversation.first_reply_at.is_not(None)),
                  sa.func.count().filter(_within_target(target)),
                  sa.func.count().filter(_decided(now, target)),
                  sa.func.coalesce(sa.func.sum(Conversation.counted_rating), 0),
                  sa.func.count(Conversation.counted_rating))
        .where(*_created_between(brand_id, start, end))
        .group_by(Conversation.status, Conversation.end_reason)
    ).all()
    totals = _DayTotals()
    for status, reason, count, answered, within, decided, rating_sum, rated in rows:
        if status == ConversationStatus.CAPPED:
            key = reason.value if reason is not None else "unknown"
            totals.refusals[key] = totals.refusals.get(key, 0) + count
            continue
        if status in BEFORE_ANY_PERSON:
            continue
        totals.arrivals += count
        totals.answered += answered
        totals.within += within
        totals.decided += decided
        totals.rating_sum += int(rating_sum)
        totals.rated += rated
        if status == ConversationStatus.MISSED:
            totals.missed += count
        elif status == ConversationStatus.ABANDONED:
            totals.abandoned += count
    return totals


def _intervals(brand_id: int, start: dt.datetime, end: dt.datetime, now: dt.datetime,
               target: int) -> list[Interval]:
    """The day in quarters of an hour: arrivals and those answered within target (by arrival), experts online."""
    count = (end - start) // INTERVAL
    bucket = (epoch_seconds(Conversation.created_at) - int(start.timestamp())) // int(INTERVAL.total_seconds())
    rows = db.session.execute(
        sa.select(bucket.label("bucket"), sa.func.count(), sa.func.count().filter(_within_target(target)))
        .where(*_created_between(brand_id, start, end),
               Conversation.status.not_in((ConversationStatus.CAPPED, *BEFORE_ANY_PERSON)))
        .group_by(sa.text("bucket"))  # the label: PostgreSQL would see two expressions with their own parameters
    ).all()
    arrivals = {int(index): (int(arrived), int(within)) for index, arrived, within in rows}
    online = experts_online_by_quarter(brand_id, start, min(end, now), count)
    intervals = []
    for index in range(count):
        begins = start + index * INTERVAL
        if begins > now:
            intervals.append(Interval(begins, None, None, None))
            continue
        arrived, within = arrivals.get(index, (0, 0))
        intervals.append(Interval(begins, arrived, within, len(online[index])))
    return intervals


def _approved_expert_ids(brand_id: int) -> set[int]:
    """The experts the brand approved (as it stands now)."""
    return set(db.session.scalars(
        sa.select(Enrolment.expert_id).where(Enrolment.brand_id == brand_id,
                                             Enrolment.status == EnrolmentStatus.APPROVED)
    ))


def experts_online_by_quarter(brand_id: int, start: dt.datetime, until: dt.datetime,
                                count: int) -> list[set[int]]:
    """Per quarter, the brand's approved experts with an online session overlapping it, up to `until`.

    A session spans available and away (experts/presence.py): an expert briefly away still counts.
    """
    online: list[set[int]] = [set() for _ in range(count)]
    if until <= start:
        return online
    sessions = presence.online_intervals(_approved_expert_ids(brand_id), start, until)
    for expert_id, stretches in sessions.items():
        for began, ended in stretches:
            first = max(began, start)
            if ended is None or ended > until:
                last = until  # still online: they count in the quarter going on now
            elif ended > first:
                last = ended - dt.timedelta(microseconds=1)  # a session ending as a quarter begins is not in it
            else:
                continue
            for index in range((first - start) // INTERVAL, min((last - start) // INTERVAL, count - 1) + 1):
                online[index].add(expert_id)
    return online
