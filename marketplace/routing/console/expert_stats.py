"""The routing side of a brand's Experts tab: how each expert did for the brand, and a removal's aftermath.

The experts layer lists the brand's experts but may not read conversations or offers, so `register`
hands it a stats provider and a listener (the router takes back the brand's offers to a removed expert)
through `app.extensions`, as presence listeners are handed.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask

from marketplace.brands import services as brands
from marketplace.database import db, end_read, utcnow
from marketplace.experts.enrolments import register_removal_listener
from marketplace.routing.models import Conversation, Offer, OfferStatus
from marketplace.routing.router import offers

# Fewer ratings than this say nothing fair about an expert: the average is then withheld.
MIN_RATINGS = 5
# The default window of the figures; None means all time.
DEFAULT_PERIOD_DAYS = 30


@dataclass(frozen=True)
class ExpertStats:
    """One expert's figures for one brand over a period."""

    expert_id: int
    answered: int  # accepted chats in which the expert sent at least one message
    median_first_reply_seconds: float | None  # over the answered chats; None when there are none
    ratings: int  # the sample size
    rating_average: float | None  # None while `ratings` < MIN_RATINGS: never judge on a handful
    missed_offers: int  # offers of this brand the expert let expire

    @property
    def rating_judged(self) -> bool:
        return self.ratings >= MIN_RATINGS

    @property
    def min_ratings(self) -> int:
        return MIN_RATINGS


def expert_stats(actor: brands.Actor, brand_id: int, expert_ids: set[int] | None = None,
                 now: dt.datetime | None = None, *, days: int | None = DEFAULT_PERIOD_DAYS) -> dict[int, ExpertStats]:
    """Each expert's figures for this brand only, over the last `days` (all time when None).

    With `expert_ids`, exactly those experts (zeros for the idle); without, every expert with any figure.
    Chats count by when they were accepted, missed offers by when they were made.
    """
    brands.get_brand(actor, brand_id)
    since = None if days is None else (now or utcnow()) - dt.timedelta(days=days)
    if expert_ids is not None and not expert_ids:
        return {}
    chats = _chat_figures(brand_id, expert_ids, since)
    medians = _median_first_replies(brand_id, expert_ids, since)
    missed = _missed_offers(brand_id, expert_ids, since)
    wanted = expert_ids if expert_ids is not None else set(chats) | set(missed)
    stats = {}
    for expert_id in wanted:
        answered, ratings, rating_sum = chats.get(expert_id, (0, 0, 0))
        judged = ratings >= MIN_RATINGS
        stats[expert_id] = ExpertStats(expert_id, answered, medians.get(expert_id), ratings,
                                       round(rating_sum / ratings, 2) if judged else None, missed.get(expert_id, 0))
    end_read()
    return stats


def _brand_chats(brand_id: int, expert_ids: set[int] | None, since: dt.datetime | None) -> list[sa.ColumnElement]:
    conditions = [Conversation.brand_id == brand_id, Conversation.expert_id.is_not(None),
                  Conversation.accepted_at.is_not(None)]
    if expert_ids is not None:
        conditions.append(Conversation.expert_id.in_(expert_ids))
    if since is not None:
        conditions.append(Conversation.accepted_at >= since)
    return conditions


def _chat_figures(brand_id: int, expert_ids: set[int] | None, since: dt.datetime | None
                  ) -> dict[int, tuple[int, int, int]]:
    """expert id -> (answered chats, ratings, sum of ratings)."""
    rows = db.session.execute(
        sa.select(Conversation.expert_id, sa.func.count(Conversation.first_reply_at),
                  sa.func.count(Conversation.counted_rating),
                  sa.func.coalesce(sa.func.sum(Conversation.counted_rating), 0))
        .where(*_brand_chats(brand_id, expert_ids, since))
        .group_by(Conversation.expert_id)
    ).all()
    return {expert_id: (answered, ratings, int(total)) for expert_id, answered, ratings, total in rows}


def _median_first_replies(brand_id: int, expert_ids: set[int] | None, since: dt.datetime | None
                          ) -> dict[int, float]:
    """expert id -> median seconds from accepting a chat to the first reply, over the answered chats.

    PostgreSQL computes the median itself; SQLite has no median, so only the one column of waits comes back.
    """
    conditions = [*_brand_chats(brand_id, expert_ids, since), Conversation.first_reply_at.is_not(None)]
    if db.session.get_bind().dialect.name == "postgresql":
        wait = sa.extract("epoch", Conversation.first_reply_at - Conversation.accepted_at)
        rows = db.session.execute(
            sa.select(Conversation.expert_id, sa.func.percentile_cont(0.5).within_group(wait))
            .where(*conditions).group_by(Conversation.expert_id)
        ).all()
        return {expert_id: round(float(median), 1) for expert_id, median in rows}
    wait = (sa.func.julianday(Conversation.first_reply_at) - sa.func.julianday(Conversation.accepted_at)) * 86400.0
    waits: dict[int, list[float]] = defaultdict(list)
    for expert_id, seconds in db.session.execute(sa.select(Conversation.expert_id, wait).where(*conditions)):
        waits[expert_id].append(seconds)
    return {expert_id: round(statistics.median(values), 1) for expert_id, values in waits.items()}


def _missed_offers(brand_id: int, expert_ids: set[int] | None, since: dt.datetime | None) -> dict[int, int]:
    conditions = [Offer.brand_id == brand_id, Offer.status == OfferStatus.EXPIRED]
    if expert_ids is not None:
        conditions.append(Offer.expert_id.in_(expert_ids))
    if since is not None:
        conditions.append(Offer.created_at >= since)
    return dict(db.session.execute(
        sa.select(Offer.expert_id, sa.func.count()).where(*conditions).group_by(Offer.expert_id)
    ).all())


def register(app: Flask) -> None:
    """Give the experts layer the stats provider and the removal listener (idempotent)."""
    app.extensions["expert_stats"] = expert_stats
    register_removal_listener(app, offers.rescind_brand_offers_of)
