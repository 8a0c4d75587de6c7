"""Chats offered to other experts while an expert was online: the "not offered" decisions (Directive art. 9-11).

The router offers each chat to one expert at a time (rules 4 and 5); every other expert online for that brand at
that moment was passed over. A row per passed-over expert and offer would multiply the router's writes by the
number of experts online, so an hourly pass records instead one decision per expert, brand and clock hour in
which the brand's chats were offered to others while the expert was online: how many went to others, how many
to them, and how long they were online. It reads only what is kept anyway (offers, presence sessions,
enrolments), so each pass also looks again at the hours before (CATCH_UP) that a stopped scheduler missed; an
hour already recorded is not recorded again (one pass at a time under the scheduler's lease, and a unique index
should two run at once).
"""

from __future__ import annotations

import bisect
import datetime as dt
import logging
from collections import defaultdict

import sqlalchemy as sa

from marketplace.database import begin_read_only, db, end_read, unit_of_work, utcnow
from marketplace.decisions import services as decisions
from marketplace.decisions.models import ExpertDecision
from marketplace.experts import enrolments, presence
from marketplace.routing.models import Offer

log = logging.getLogger(__name__)
HOUR = dt.timedelta(hours=1)
CATCH_UP = 3  # complete hours each pass looks at, the last first
REASON = "not_offered"
SUBJECT = "hour"


def hour_number(start: dt.datetime) -> int:
    """The hour's number since 1970-01-01 00:00 UTC: the decision's subject."""
    return int(start.timestamp()) // 3600


def record_recent_hours(now: dt.datetime | None = None) -> int:
    """Record the last CATCH_UP complete hours' "not offered" decisions not recorded yet; how many were."""
    now = now or utcnow()
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    recorded = 0
    for back in range(1, CATCH_UP + 1):
        start = this_hour - back * HOUR
        try:
            recorded += record_hour(start)
        except sa.exc.IntegrityError:  # another pass recorded this hour at the same moment
            log.info("another pass recorded the hour from %s", start.isoformat())
    return recorded


def record_hour(start: dt.datetime) -> int:
    """For the hour [start, start + 1 h): each expert online in it, approved by a brand whose chats were offered
    to other experts while they were online, gets one decision saying so; how many did. The hour is read in a
    read-only transaction (no write lock on SQLite while it reads), the decisions written in a short one."""
    begin_read_only()
    try:
        passed = _passed_over(start, start + HOUR)
    finally:
        end_read()
    if not passed:
        return 0
    subject = hour_number(start)
    with unit_of_work():
        done = set(db.session.execute(
            sa.select(ExpertDecision.expert_id, ExpertDecision.brand_id)
            .where(ExpertDecision.reason_code == REASON, ExpertDecision.subject_type == SUBJECT,
                   ExpertDecision.subject_id == subject)).tuples())
        recorded = 0
        for (expert_id, brand_id), params in sorted(passed.items()):
            if (expert_id, brand_id) in done:
                continue
            decisions.record(expert_id, REASON, {**params, "hour_start": start.isoformat()}, brand_id=brand_id,
                             subject=(SUBJECT, subject), now=start + HOUR)
            recorded += 1
    return recorded


def _passed_over(start: dt.datetime, end: dt.datetime) -> dict[tuple[int, int], dict[str, int]]:
    """(expert, brand) → the figures of each expert passed over for a brand's chats in [start, end)."""
    offers = db.session.execute(
        sa.select(Offer.brand_id, Offer.expert_id, Offer.created_at)
        .where(Offer.created_at >= start, Offer.created_at < end).order_by(Offer.created_at)).all()
    if not offers:
        return {}
    by_brand: dict[int, list[dt.datetime]] = defaultdict(list)  # each brand's offer times, in order
    by_expert: dict[tuple[int, int], list[dt.datetime]] = defaultdict(list)  # (brand, expert) → theirs, in order
    for offer in offers:
        by_brand[offer.brand_id].append(offer.created_at)
        by_expert[(offer.brand_id, offer.expert_id)].append(offer.created_at)
    approved = {brand_id: enrolments.approved_expert_ids(brand_id) for brand_id in by_brand}
    online = presence.online_intervals(set().union(*approved.values()), start, end)
    passed = {}
    for brand_id, times in by_brand.items():
        for expert_id in approved[brand_id] & online.keys():
            stretches = [(max(begun, start), min(ended or end, end)) for begun, ended in online[expert_id]]
            stretches = [(begun, ended) for begun, ended in stretches if begun < ended]
            own = by_expert.get((brand_id, expert_id), [])
            to_others = sum(_count_within(times, begun, ended) - _count_within(own, begun, ended)
                            for begun, ended in stretches)
            if to_others > 0:
                minutes = round(sum((ended - begun).total_seconds() for begun, ended in stretches) / 60)
                passed[(expert_id, brand_id)] = {"offers_to_others": to_others, "offers_to_you": len(own),
                                                 "online_minutes": minutes}
    return passed


def _count_within(times: list[dt.datetime], begun: dt.datetime, ended: dt.datetime) -> int:
    """How many of the ordered times fall in [begun, ended)."""
    return bisect.bisect_left(times, ended) - bisect.bisect_left(times, begun)
