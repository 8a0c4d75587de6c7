"""The scaling loop: bring off-shift experts online when a brand needs more, let them go when it passes.

Every minute, for each brand: desired = the most experts required over the next lead time (its forecast,
and what the last quarter hour's arrivals call for, whichever is more), within what its caps can use;
`core.scaling.decide` turns that into invitations or releases, and the decision is kept with its reason.
An invitation is answered on the expert's phone: accepting gives them a one-seat planner shift from now
for the stated window (so shift-only brands route to them) and brings them online. A release ends that
seat early; the expert finishes their open chats and is told they may go.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from marketplace.accounts import services as accounts
from marketplace.accounts.language import in_language_of
from marketplace.accounts.models import User
from marketplace.brands import opening
from marketplace.brands import services as brands
from marketplace.brands.models import Brand
from marketplace.capacity import planning
from marketplace.capacity.models import Invitation, InvitationStatus, ScalingDecision
from marketplace.core import clock, scaling
from marketplace.database import db, unit_of_work, use_case, utcnow
from marketplace.decisions import services as decisions
from marketplace.errors import Conflict, NotFound
from marketplace.experts import enrolments, presence
from marketplace.experts import services as experts
from marketplace.experts.models import ExpertProfile
from marketplace.notifications import services as notifications
from marketplace.routing import history
from marketplace.shared.links import path_for
from marketplace.shifts import seats as shifts

MAX_WINDOW_MINUTES = 480
DECISIONS_KEPT = dt.timedelta(days=30)
ACCEPTANCE_HISTORY = dt.timedelta(days=28)
INVITATION_GONE = _l("This invitation is no longer open: it expired or the need has passed.")


@dataclass(frozen=True)
class InvitationView:
    invitation: Invitation
    brand: Brand


def _routable_now(brand: Brand, now: dt.datetime) -> set[int]:
    """The experts the router could offer the brand's chats to right now (the pool that is online)."""
    online = set(db.session.scalars(presence.routable_expert_ids(brand.id)))
    if not brand.allow_unbooked_online:
        online &= set(db.session.scalars(shifts.on_shift_expert_ids(brand.id, now)))
    return online


def desired_now(brand: Brand, now: dt.datetime) -> tuple[int, dict[str, int | str]]:
    """The experts wanted over [now, now + lead]: forecast or the last quarter hour's arrivals, within the caps;
    with where the need came from, as the figures of the decision's reason (capacity.reasons)."""
    row = planning.current_forecast(brand.id, now)
    handle_s = row.handle_s
    lead = dt.timedelta(minutes=current_app.config["CAPACITY_LEAD_MINUTES"])
    zone = clock.zone(brand.timezone)
    starts = []
    at = clock.quarter_start(now, brand.timezone)
    while at <= now + lead:
        starts.append(at)
        at += planning.QUARTER
    expected = []
    for start, is_open in zip(starts, opening.open_at(brand, starts), strict=True):
        local = start.astimezone(zone)
        by_slot = planning.forecast_for_day(row, local.date())
        expected.append(by_slot[(local.hour * 60 + local.minute) // 15] if is_open else 0.0)
    # Visitors refused because the brand is closed need no expert: only while it is open do arrivals count.
    recent = history.arrivals_between(brand.id, now - planning.QUARTER, now) if opening.is_open(brand, now) else 0
    required = planning.required_by_quarter(brand, [*expected, float(recent)], handle_s)
    by_forecast, by_arrivals = max(required[:-1], default=0), required[-1]
    usable = planning.usable_experts(brand)
    desired = scaling.desired_experts([by_forecast, by_arrivals], usable)
    need: dict[str, int | str] = ({"source": "arrivals", "arrivals": recent} if by_arrivals > by_forecast
                                  else {"source": "forecast"})
    if max(by_forecast, by_arrivals) > usable:
        need["cap"] = usable
    return desired, need


def _acceptance(brand_id: int, now: dt.datetime) -> float:
    answered, accepted = db.session.execute(
        sa.select(sa.func.count(), sa.func.count().filter(Invitation.status == InvitationStatus.ACCEPTED))
        .where(Invitation.brand_id == brand_id, Invitation.created_at >= now - ACCEPTANCE_HISTORY,
               Invitation.status.in_((InvitationStatus.ACCEPTED, InvitationStatus.DECLINED,
                                      InvitationStatus.EXPIRED)))
    ).one()
    return scaling.acceptance_rate(int(accepted), int(answered))


def _candidates(brand: Brand, pool: set[int], now: dt.datetime) -> list[scaling.Candidate]:
    """Experts the brand approved who are not in its pool, hold no seat now and have no open (or just refused)
    invitation from it, best first."""
    # An expert who said "not now" (or did not answer) to this brand is left alone for a while.
    rest = dt.timedelta(minutes=current_app.config["CAPACITY_REINVITE_MINUTES"])
    invited = set(db.session.scalars(sa.select(Invitation.expert_id).where(
        Invitation.brand_id == brand.id,
        sa.or_(Invitation.status == InvitationStatus.PENDING,
               sa.and_(Invitation.status.in_((InvitationStatus.DECLINED, InvitationStatus.EXPIRED)),
                       Invitation.answered_at > now - rest)))))
    ids = enrolments.approved_expert_ids(brand.id) - pool - invited
    ids -= shifts.seated_expert_ids(ids, now)
    if not ids:
        return []
    stats = {row.expert_id: row for row in db.session.execute(
        sa.select(Invitation.expert_id,
                  sa.func.count().filter(Invitation.status != InvitationStatus.PENDING).label("answered"),
                  sa.func.count().filter(Invitation.status == InvitationStatus.ACCEPTED).label("accepted"),
                  sa.func.max(Invitation.released_at).label("released_at"))
        .where(Invitation.expert_id.in_(ids), Invitation.status != InvitationStatus.CANCELLED)
        .group_by(Invitation.expert_id))}
    ratings = history.ratings_of(ids)
    made = []
    for expert_id in ids:
        row = stats.get(expert_id)
        rating_sum, rated = ratings.get(expert_id, (0.0, 0))
        made.append(scaling.Candidate(expert_id, row.answered if row else 0, row.accepted if row else 0,
                                      rating_sum, rated, row.released_at if row else None))
    return scaling.invitation_order(made, now)


def _releasable(brand: Brand, pool: set[int], now: dt.datetime) -> list[tuple[scaling.Online, Invitation]]:
    """Experts in the pool only because they accepted an invitation of the brand, with it."""
    accepted = db.session.scalars(sa.select(Invitation).where(
        Invitation.brand_id == brand.id, Invitation.status == InvitationStatus.ACCEPTED,
        Invitation.released_at.is_(None), Invitation.expert_id.in_(pool),
        Invitation.answered_at > now - dt.timedelta(minutes=MAX_WINDOW_MINUTES))).all()
    chats = history.open_chats_of({invitation.expert_id for invitation in accepted})
    return [(scaling.Online(invitation.expert_id, chats.get(invitation.expert_id, 0), invitation.answered_at,
                            releasable=now - invitation.answered_at >= scaling.WINDOW), invitation)
            for invitation in accepted]


def _user_of(expert_id: int) -> User:
    return accounts.get_user(experts.get_profile(expert_id).user_id)


def _invite(brand: Brand, expert_id: int, now: dt.datetime) -> Invitation:
    window = min(MAX_WINDOW_MINUTES, current_app.config["CAPACITY_WINDOW_MINUTES"])
    invitation = Invitation(brand_id=brand.id, expert_id=expert_id, status=InvitationStatus.PENDING, created_at=now,
                            expires_at=now + dt.timedelta(minutes=current_app.config["CAPACITY_INVITATION_MINUTES"]),
                            window_minutes=window)
    db.session.add(invitation)
    db.session.flush()
    user = _user_of(expert_id)
    with in_language_of(user):
        title = gettext("%(brand)s needs you now", brand=brand.name)
        body = gettext("Come online for %(minutes)d minutes to answer %(brand)s's visitors. Answer within "
                       "%(expiry)d minutes.", minutes=window, brand=brand.name,
                       expiry=current_app.config["CAPACITY_INVITATION_MINUTES"])
    notifications.notify(user.id, "capacity_invitation", title, body, url=path_for("capacity.invitations"),
                         data={"invitation_id": invitation.id, "brand_id": brand.id,
                               "expires_at": invitation.expires_at.isoformat()})
    return invitation


def _release(brand: Brand, invitation: Invitation, now: dt.datetime, why: dict[str, int]) -> None:
    """End the invitation's seat early and tell the expert; the decision is kept with its reason for them."""
    invitation.released_at = now
    decisions.record(invitation.expert_id, "released", why, brand_id=brand.id, subject=("invitation", invitation.id),
                     now=now)
    if invitation.slot_id is not None:
        shifts.end_planned_seat(invitation.slot_id, now)
    user = _user_of(invitation.expert_id)
    with in_language_of(user):
        title = gettext("Thank you: %(brand)s is quiet again", brand=brand.name)
        body = gettext("You may go offline once your open chats are over; %(brand)s will send no new chats "
                       "for this invitation.", brand=brand.name)
    notifications.notify(user.id, "capacity_released", title, body, url=path_for("experts.home"),
                         data={"invitation_id": invitation.id, "brand_id": brand.id})


@use_case
def scale_brand(brand_id: int, now: dt.datetime | None = None) -> ScalingDecision | None:
    """One run of the loop for one brand; one transaction. None when there is nothing to decide."""
    now = now or utcnow()
    brand = brands.brands_by_id({brand_id})[brand_id]
    desired, need = desired_now(brand, now)
    pool = _routable_now(brand, now)
    pending = db.session.scalar(sa.select(sa.func.count()).where(
        Invitation.brand_id == brand_id, Invitation.status == InvitationStatus.PENDING)) or 0
    if desired == 0 and not pool and not pending:
        return None
    recent = db.session.execute(
        sa.select(ScalingDecision.decided_at, ScalingDecision.desired)
        .where(ScalingDecision.brand_id == brand_id, ScalingDecision.decided_at >= now - 2 * scaling.WINDOW)
        .order_by(ScalingDecision.decided_at)).all()
    acceptance = _acceptance(brand_id, now)
    decision = scaling.decide(now, desired, [(at, value) for at, value in recent], len(pool), pending, acceptance)
    invited = released = 0
    for candidate in _candidates(brand, pool, now)[:decision.invite]:
        _invite(brand, candidate.expert_id, now)
        invited += 1
    if decision.release:
        releasable = _releasable(brand, pool, now)
        by_expert = {online.expert_id: invitation for online, invitation in releasable}
        for online in scaling.release_order([online for online, _ in releasable])[:decision.release]:
            _release(brand, by_expert[online.expert_id], now,
                     {"desired": desired, "online": len(pool), "open_chats": online.open_chats,
                      "online_minutes": int((now - online.online_since).total_seconds() // 60)})
            released += 1
    params = {**decision.params, **need}
    if decision.invite > invited:
        params["not_invited"] = decision.invite - invited
    if decision.release > released:
        params["not_released"] = decision.release - released
    record = ScalingDecision(brand_id=brand_id, decided_at=now, desired=desired, online=len(pool), pending=pending,
                             acceptance=round(acceptance, 4), invited=invited, released=released,
                             reason_code=decision.reason, reason_params=params)
    db.session.add(record)
    return record


def scale_all(now: dt.datetime | None = None) -> dict[str, int]:
    """The scheduler's minute: expire invitations, then run the loop for every brand."""
    now = now or utcnow()
    expired = expire_invitations(now)
    with unit_of_work():
        brand_ids = [brand.id for brand in brands.brand_directory()]
        db.session.execute(sa.delete(ScalingDecision).where(ScalingDecision.decided_at < now - DECISIONS_KEPT))
    invited = released = 0
    for brand_id in brand_ids:
        record = scale_brand(brand_id, now)
        if record is not None:
            invited += record.invited
            released += record.released
    return {"expired": expired, "invited": invited, "released": released}


@use_case
def expire_invitations(now: dt.datetime | None = None) -> int:
    now = now or utcnow()
    return db.session.execute(
        sa.update(Invitation).where(Invitation.status == InvitationStatus.PENDING, Invitation.expires_at <= now)
        .values(status=InvitationStatus.EXPIRED, answered_at=now).execution_options(synchronize_session=False)
    ).rowcount


# The expert's side: see, accept and decline.

@use_case
def own_invitations(actor: User, now: dt.datetime | None = None) -> list[InvitationView]:
    """The calling expert's open invitations, and those accepted whose window still runs (the read ends here)."""
    profile = experts.own_profile(actor)
    now = now or utcnow()
    rows = db.session.scalars(sa.select(Invitation).where(
        Invitation.expert_id == profile.id,
        sa.or_(sa.and_(Invitation.status == InvitationStatus.PENDING, Invitation.expires_at > now),
               sa.and_(Invitation.status == InvitationStatus.ACCEPTED, Invitation.released_at.is_(None),
                       Invitation.answered_at > now - dt.timedelta(minutes=MAX_WINDOW_MINUTES))))
        .order_by(Invitation.created_at.desc())).all()
    rows = [row for row in rows if row.status == InvitationStatus.PENDING
            or row.answered_at + dt.timedelta(minutes=row.window_minutes) > now]
    by_id = brands.brands_by_id({row.brand_id for row in rows})
    return [InvitationView(row, by_id[row.brand_id]) for row in rows]


def _own_pending(actor: User, invitation_id: int) -> tuple[Invitation, ExpertProfile]:
    profile = experts.own_profile(actor)
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.expert_id != profile.id:
        raise NotFound(_l("No such invitation."))
    return invitation, profile


def _settle(invitation_id: int, outcome: InvitationStatus, now: dt.datetime) -> bool:
    """Compare-and-set: only a pending, unexpired invitation moves; True for the one caller that moved it."""
    return db.session.execute(
        sa.update(Invitation).where(Invitation.id == invitation_id, Invitation.status == InvitationStatus.PENDING,
                                    Invitation.expires_at > now)
        .values(status=outcome, answered_at=now).execution_options(synchronize_session=False)
    ).rowcount == 1


def accept_invitation(actor: User, invitation_id: int) -> Invitation:
    """Take the invitation: a seat from now for its window, then online (the router offers chats at once)."""
    with unit_of_work():
        invitation, profile = _own_pending(actor, invitation_id)
        experts.require_approved(profile)
        now = utcnow()
        if not _settle(invitation_id, InvitationStatus.ACCEPTED, now):
            raise Conflict(INVITATION_GONE)
        db.session.refresh(invitation)
        slot = shifts.grant_planned_seat(invitation.brand_id, profile.id, now,
                                         now + dt.timedelta(minutes=invitation.window_minutes))
        invitation.slot_id = slot.id
    presence.go_online(actor)  # a unit of its own: the router hears of it once it is committed
    return invitation


@use_case
def decline_invitation(actor: User, invitation_id: int) -> Invitation:
    invitation, _ = _own_pending(actor, invitation_id)
    if not _settle(invitation_id, InvitationStatus.DECLINED, utcnow()):
        raise Conflict(INVITATION_GONE)
    db.session.refresh(invitation)
    return invitation


def window_ends_at(invitation: Invitation) -> dt.datetime | None:
    if invitation.answered_at is None or invitation.status != InvitationStatus.ACCEPTED:
        return None
    return invitation.answered_at + dt.timedelta(minutes=invitation.window_minutes)


def minutes_left(invitation: Invitation, now: dt.datetime) -> int:
    return max(0, math.ceil((invitation.expires_at - now).total_seconds() / 60))


# What staff read: a brand's recent decisions, and the network at a glance.

def recent_decisions(actor, brand_id: int, limit: int = 30) -> list[ScalingDecision]:
    """The brand's latest scaling decisions that changed something, newest first (members see their brand only).

    The loop runs every minute; a run that invites nobody, releases nobody and wants as many experts as the
    run before it says nothing new, so it is left out.
    """
    with unit_of_work():  # ends the read
        brands.get_brand(actor, brand_id)
        rows = db.session.scalars(sa.select(ScalingDecision).where(ScalingDecision.brand_id == brand_id)
                                  .order_by(ScalingDecision.decided_at, ScalingDecision.id)
                                  .where(ScalingDecision.decided_at >= utcnow() - dt.timedelta(days=1))).all()
    changed, previous = [], None
    for row in rows:
        if row.invited or row.released or previous is None or row.desired != previous.desired:
            changed.append(row)
        previous = row
    return changed[::-1][:limit]


@dataclass(frozen=True)
class NetworkRow:
    brand: Brand
    expected_today: float
    peak_required: int
    online_now: int
    pending_invitations: int
    last_decision: ScalingDecision | None


@use_case
def network_overview(actor: User, now: dt.datetime | None = None) -> list[NetworkRow]:
    """Every brand's day at a glance for ops: forecast, peak need, pool online now, invitations out."""
    now = now or utcnow()
    rows = []
    for brand in brands.visible_brands(actor):
        today = clock.local_day(now, brand.timezone)
        forecast = planning.current_forecast(brand.id, now)
        expected = planning.forecast_for_day(forecast, today)
        starts, slots = planning.wall_clock_quarters(brand, today)
        required = planning.required_by_quarter(
            brand, planning.expected_while_open(brand, forecast, today, starts, slots), forecast.handle_s)
        pending = db.session.scalar(sa.select(sa.func.count()).where(
            Invitation.brand_id == brand.id, Invitation.status == InvitationStatus.PENDING)) or 0
        last = db.session.scalar(sa.select(ScalingDecision).where(ScalingDecision.brand_id == brand.id)
                                 .order_by(ScalingDecision.decided_at.desc(), ScalingDecision.id.desc()).limit(1))
        rows.append(NetworkRow(brand, sum(expected), min(max(required, default=0), planning.usable_experts(brand)),
                               len(_routable_now(brand, now)), pending, last))
    return rows
