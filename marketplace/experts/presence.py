"""Presence: offline, available or away; the one service routing, shifts and the planner read it through.

A phone sends a heartbeat over its socket. A backgrounded app stops sending for a while, so a lost
heartbeat first makes the expert `away` (no new offers) after a grace period, and `offline` only after
a much longer wait. Missing several offers in a row also makes the expert `away`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask, current_app
from flask_babel import lazy_gettext as _l

from marketplace.accounts.models import User
from marketplace.database import after_commit, db, unit_of_work, use_case, utcnow
from marketplace.errors import Forbidden
from marketplace.experts import services as experts
from marketplace.experts.models import (
    AwayReason,
    Enrolment,
    EnrolmentStatus,
    ExpertPresence,
    ExpertProfile,
    ExpertStatus,
    PresenceSession,
    PresenceStatus,
)
from marketplace.extensions import socketio
from marketplace.shared.rooms import user_room

# Called as listener(expert_id, status) after an expert's presence change commits (routing re-routes).
PresenceListener = Callable[[int, str], None]


def register_presence_listener(app: Flask, listener: PresenceListener) -> None:
    app.extensions.setdefault("presence_listeners", []).append(listener)


# Called as recorder(expert_id, reason, params, subject) inside the transaction that sets an expert away on its
# own (missed offers, a silent phone), so the decision is recorded with its reason (decisions/ registers it).
AwayRecorder = Callable[[int, str, dict, "tuple[str, int] | None"], None]


def register_away_recorder(app: Flask, recorder: AwayRecorder) -> None:
    app.extensions.setdefault("presence_away_recorders", []).append(recorder)


def _record_away(expert_id: int, reason: AwayReason, params: dict, subject: tuple[str, int] | None = None) -> None:
    for recorder in current_app.extensions.get("presence_away_recorders", []):
        recorder(expert_id, reason.value, params, subject)


def changed(expert_id: int, status: PresenceStatus) -> None:
    """Tell the layers above of a committed change; call after the commit."""
    for listener in current_app.extensions.get("presence_listeners", []):
        listener(expert_id, status.value)


_changed = changed


@dataclass(frozen=True)
class PresenceInfo:
    expert_id: int
    status: PresenceStatus
    away_reason: AwayReason | None
    since: dt.datetime | None
    last_heartbeat_at: dt.datetime | None
    missed_offers_in_row: int

    def as_event(self) -> dict:
        return {"status": self.status.value, "away_reason": self.away_reason.value if self.away_reason else None,
                "since": self.since.isoformat() if self.since else None}


def _info(row: ExpertPresence | None, expert_id: int) -> PresenceInfo:
    if row is None:
        return PresenceInfo(expert_id, PresenceStatus.OFFLINE, None, None, None, 0)
    return PresenceInfo(row.expert_id, row.status, row.away_reason, row.changed_at, row.last_heartbeat_at,
                        row.missed_offers_in_row)


def _row(expert_id: int) -> ExpertPresence:
    """The expert's presence row, created on first use; call with the expert locked."""
    row = db.session.get(ExpertPresence, expert_id, populate_existing=True)
    if row is None:
        row = ExpertPresence(expert_id=expert_id, status=PresenceStatus.OFFLINE, changed_at=utcnow(),
                             missed_offers_in_row=0)
        db.session.add(row)
    return row


def _announce(user_id: int, info: PresenceInfo) -> None:
    """Tell every open page of the expert the new state, once it is committed."""
    after_commit(lambda: socketio.emit("presence", info.as_event(), to=user_room(user_id)))


def _move(row: ExpertPresence, status: PresenceStatus, now: dt.datetime, reason: AwayReason | None = None) -> None:
    """Change the state and keep the online sessions in step (a session spans available and away)."""
    was_online = row.status != PresenceStatus.OFFLINE
    now_online = status != PresenceStatus.OFFLINE
    if now_online and not was_online:
        db.session.add(PresenceSession(expert_id=row.expert_id, started_at=now))
    elif was_online and not now_online:
        db.session.execute(
            sa.update(PresenceSession)
            .where(PresenceSession.expert_id == row.expert_id, PresenceSession.ended_at.is_(None))
            .values(ended_at=now)
        )
    if row.status != status or row.away_reason != reason:
        row.changed_at = now
    row.status = status
    row.away_reason = reason


# The changes below commit in a unit of their own; the layers above are told (`_changed`) only once it has.

def go_online(actor: User) -> PresenceInfo:
    """Make the calling expert available for chats (approved experts with at least one brand)."""
    with unit_of_work():
        profile = experts.own_profile(actor)
        experts.require_approved(profile)
        approved = db.session.scalar(
            sa.select(sa.func.count()).select_from(Enrolment)
            .where(Enrolment.expert_id == profile.id, Enrolment.status == EnrolmentStatus.APPROVED)
        )
        if not approved:
            raise Forbidden(_l("No brand has approved you yet: apply to a brand and pass its quiz first."))
        experts.lock_expert(profile.id)
        row = _row(profile.id)
        now = utcnow()
        _move(row, PresenceStatus.AVAILABLE, now)
        row.last_heartbeat_at = now
        row.missed_offers_in_row = 0
        info = _info(row, profile.id)
        _announce(actor.id, info)
    _changed(info.expert_id, info.status)
    return info


def go_offline(actor: User) -> PresenceInfo:
    with unit_of_work():
        profile = experts.own_profile(actor)
        experts.lock_expert(profile.id)
        row = _row(profile.id)
        _move(row, PresenceStatus.OFFLINE, utcnow())
        info = _info(row, profile.id)
        _announce(actor.id, info)
    _changed(info.expert_id, info.status)
    return info


def pause(actor: User) -> PresenceInfo:
    """The expert stops new chats for a while, staying online (open chats go on); `go_online` resumes."""
    with unit_of_work():
        profile = experts.own_profile(actor)
        experts.lock_expert(profile.id)
        row = _row(profile.id)
        offline = row.status == PresenceStatus.OFFLINE
        if not offline:
            now = utcnow()
            _move(row, PresenceStatus.AWAY, now, AwayReason.PAUSED)
            row.last_heartbeat_at = now
            info = _info(row, profile.id)
            _announce(actor.id, info)
    if offline:
        raise Forbidden(_l("You are offline: go online first."))
    _changed(info.expert_id, info.status)
    return info


def force_offline(expert_id: int) -> None:
    """Take an expert offline inside the caller's transaction (e.g. on suspension); the caller commits."""
    row = db.session.get(ExpertPresence, expert_id)
    if row is not None and row.status != PresenceStatus.OFFLINE:
        _move(row, PresenceStatus.OFFLINE, utcnow())
        profile = experts.get_profile(expert_id)
        _announce(profile.user_id, _info(row, expert_id))


def heartbeat(actor: User) -> PresenceInfo:
    """Note that the expert's phone is still there; a lost heartbeat that comes back makes them available again."""
    with unit_of_work():
        profile = experts.own_profile(actor)
        row = db.session.get(ExpertPresence, profile.id, populate_existing=True)
        back = False
        if row is not None and row.status != PresenceStatus.OFFLINE:
            now = utcnow()
            row.last_heartbeat_at = now
            back = row.status == PresenceStatus.AWAY and row.away_reason == AwayReason.HEARTBEAT_LOST
            if back:
                _move(row, PresenceStatus.AVAILABLE, now)
                _announce(actor.id, _info(row, profile.id))
        info = _info(row, profile.id)
    if back:
        _changed(info.expert_id, info.status)
    return info


def record_missed_offer(expert_id: int, offer_id: int | None = None) -> PresenceInfo:
    """Count an offer the expert let expire; after PRESENCE_MISSED_OFFERS_AWAY in a row they turn away."""
    with unit_of_work():
        row = db.session.get(ExpertPresence, expert_id, populate_existing=True)
        away = False
        if row is not None:
            row.missed_offers_in_row += 1
            limit = current_app.config["PRESENCE_MISSED_OFFERS_AWAY"]
            away = row.status == PresenceStatus.AVAILABLE and row.missed_offers_in_row >= limit
            if away:
                _move(row, PresenceStatus.AWAY, utcnow(), AwayReason.MISSED_OFFERS)
                _record_away(expert_id, AwayReason.MISSED_OFFERS,
                             {"missed_offers": row.missed_offers_in_row, "limit": limit},
                             ("offer", offer_id) if offer_id is not None else None)
                _announce(experts.get_profile(expert_id).user_id, _info(row, expert_id))
        info = _info(row, expert_id)
    if away:
        _changed(expert_id, info.status)
    return info


@use_case
def record_answered_offer(expert_id: int) -> None:
    """An accepted offer ends a run of misses."""
    db.session.execute(
        sa.update(ExpertPresence).where(ExpertPresence.expert_id == expert_id).values(missed_offers_in_row=0)
    )


def sweep(now: dt.datetime | None = None) -> dict[str, int]:
    """Turn silent phones away after the grace period, and offline after the longer wait."""
    now = now or utcnow()
    config = current_app.config
    grace = dt.timedelta(seconds=config["PRESENCE_GRACE_SECONDS"])
    offline_after = dt.timedelta(minutes=config["PRESENCE_OFFLINE_AFTER_MINUTES"])
    silent = sa.or_(ExpertPresence.last_heartbeat_at.is_(None), ExpertPresence.last_heartbeat_at < now - grace)
    counts = {"away": 0, "offline": 0}
    moved: list[tuple[int, PresenceStatus]] = []
    with unit_of_work():
        rows = db.session.scalars(
            sa.select(ExpertPresence).where(ExpertPresence.status != PresenceStatus.OFFLINE, silent)
        ).all()
        profiles = experts.profiles_by_id({row.expert_id for row in rows})
        for row in rows:
            if row.status == PresenceStatus.AVAILABLE:
                _move(row, PresenceStatus.AWAY, now, AwayReason.HEARTBEAT_LOST)
                last = row.last_heartbeat_at
                silent_for = None if last is None else int((now - last).total_seconds())
                _record_away(row.expert_id, AwayReason.HEARTBEAT_LOST,
                             {"grace_seconds": config["PRESENCE_GRACE_SECONDS"], "silent_seconds": silent_for})
                counts["away"] += 1
            elif row.last_heartbeat_at is None or row.last_heartbeat_at < now - grace - offline_after:
                _move(row, PresenceStatus.OFFLINE, now)
                counts["offline"] += 1
            else:
                continue
            moved.append((row.expert_id, row.status))
            _announce(profiles[row.expert_id].user_id, _info(row, row.expert_id))
    for expert_id, status in moved:
        _changed(expert_id, status)
    return counts


def presence_of(expert_id: int) -> PresenceInfo:
    return snapshot({expert_id})[expert_id]


def snapshot(expert_ids: set[int] | None = None) -> dict[int, PresenceInfo]:
    """Presence of the given experts (all known ones when None); experts never seen are offline."""
    query = sa.select(ExpertPresence)
    if expert_ids is not None:
        if not expert_ids:
            return {}
        query = query.where(ExpertPresence.expert_id.in_(expert_ids))
    found = {row.expert_id: _info(row, row.expert_id) for row in db.session.scalars(query)}
    if expert_ids is None:
        return found
    return {expert_id: found.get(expert_id, _info(None, expert_id)) for expert_id in expert_ids}


def routable_expert_ids(brand_id: int | sa.BindParameter[int]) -> sa.Select:
    """A query of the experts who may be offered the brand's chats now: approved, approved by it, available.

    The router composes it into its own locking query, so it stays a query rather than a set; the router
    builds that query once, with the brand as a bound parameter.
    """
    return (
        sa.select(ExpertPresence.expert_id)
        .join(ExpertProfile, ExpertProfile.id == ExpertPresence.expert_id)
        .join(Enrolment, sa.and_(Enrolment.expert_id == ExpertPresence.expert_id, Enrolment.brand_id == brand_id))
        .where(ExpertPresence.status == PresenceStatus.AVAILABLE, ExpertProfile.status == ExpertStatus.APPROVED,
               Enrolment.status == EnrolmentStatus.APPROVED)
    )


def available_expert_ids() -> set[int]:
    return set(db.session.scalars(
        sa.select(ExpertPresence.expert_id).where(ExpertPresence.status == PresenceStatus.AVAILABLE)
    ))


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
