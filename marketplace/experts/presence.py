"""Presence: offline, available or away; one service that routing, shifts and the planner read."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import sqlalchemy as sa

from marketplace.database import db
from marketplace.experts.models import PresenceSession


def online_intervals(expert_ids: set[int], start: dt.datetime, end: dt.datetime
                     ) -> dict[int, list[tuple[dt.datetime, dt.datetime | None]]]:
    """The stretches each expert was online (available or away) overlapping [start, end); None = still online."""
    if not expert_ids:
        return {}
    rows = db.session.execute(
        sa.select(PresenceSession.expert_id, PresenceSession.started_at, PresenceSession.ended_at)
        .where(PresenceSession.expert_id.in_(expert_ids), PresenceSession.started_at < end,
               sa.or_(PresenceSession.ended_at.is_(None), PresenceSession.ended_at > start))
        .order_by(PresenceSession.started_at)
    ).all()
    intervals: dict[int, list[tuple[dt.datetime, dt.datetime | None]]] = defaultdict(list)
    for row in rows:
        intervals[row.expert_id].append((row.started_at, row.ended_at))
    return dict(intervals)
