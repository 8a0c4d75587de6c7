"""Record automated decisions about experts where the system takes them, show them to the expert, and let a
person review them on the expert's request.

`record` joins the deciding service's transaction: one row, written with that transaction's commit, so a
decision and its reason stand or fall together and routing pays one INSERT for it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from marketplace.accounts import services as accounts
from marketplace.accounts.language import in_language_of
from marketplace.accounts.models import Role, User
from marketplace.brands import services as brands
from marketplace.database import db, use_case, utcnow
from marketplace.decisions import reasons
from marketplace.decisions.models import DecisionReview, ExpertDecision, ReviewStatus
from marketplace.errors import Conflict, Forbidden, InvalidInput, NotFound, clean_text
from marketplace.experts import services as experts
from marketplace.notifications import services as notifications
from marketplace.shared.links import path_for

REVIEW_DEADLINE = dt.timedelta(days=14)  # the Directive's two weeks to answer a request for review
COMMENT_LENGTH = 2000
ANSWER_LENGTH = 4000
SHOWN = 200  # the newest decisions an expert's page and the API list


def record(expert_id: int, reason_code: str, params: dict[str, Any] | None = None, *, brand_id: int | None = None,
           subject: tuple[str, int] | None = None, now: dt.datetime | None = None) -> ExpertDecision:
    """Add the decision to the caller's transaction (the caller commits): one INSERT with its commit."""
    if reason_code not in reasons.REASONS:
        raise ValueError(f"unknown decision reason {reason_code!r}")
    decision = ExpertDecision(expert_id=expert_id, brand_id=brand_id, kind=reasons.REASONS[reason_code].kind,
                              reason_code=reason_code, params=dict(params or {}),
                              subject_type=subject[0] if subject else None, subject_id=subject[1] if subject else None,
                              created_at=now or utcnow())
    db.session.add(decision)
    return decision


def record_away(expert_id: int, reason: str, params: dict[str, Any], subject: tuple[str, int] | None) -> None:
    """Presence set the expert away (missed offers, a silent phone): its recorder, inside presence's transaction."""
    record(expert_id, reason, params, subject=subject)


@dataclass(frozen=True)
class DecisionView:
    """A decision as its expert reads it: in words, with the brand's name and any review."""

    decision: ExpertDecision
    brand_name: str | None
    title: str
    text: str
    team: str
    review: DecisionReview | None

    @property
    def id(self) -> int:
        return self.decision.id


def _views(rows: list[ExpertDecision]) -> list[DecisionView]:
    names = {b.id: b.name for b in brands.brands_by_id({r.brand_id for r in rows if r.brand_id}).values()}
    found = {review.decision_id: review for review in db.session.scalars(
        sa.select(DecisionReview).where(DecisionReview.decision_id.in_([r.id for r in rows])))} if rows else {}
    return [DecisionView(row, names.get(row.brand_id) if row.brand_id else None, reasons.title_of(row.reason_code),
                         reasons.text_of(row.reason_code, row.params or {}), reasons.team_of(row.reason_code),
                         found.get(row.id)) for row in rows]


@use_case
def own_decisions(actor: User, limit: int = SHOWN) -> list[DecisionView]:
    """The calling expert's decisions, newest first."""
    profile = experts.own_profile(actor)
    rows = db.session.scalars(sa.select(ExpertDecision).where(ExpertDecision.expert_id == profile.id)
                              .order_by(ExpertDecision.created_at.desc(), ExpertDecision.id.desc()).limit(limit)).all()
    return _views(list(rows))


def _own_decision(profile_id: int, decision_id: int) -> ExpertDecision:
    decision = db.session.get(ExpertDecision, decision_id)
    if decision is None or decision.expert_id != profile_id:
        raise NotFound(_l("No such decision about you."))
    return decision


@use_case
def own_decision(actor: User, decision_id: int) -> DecisionView:
    profile = experts.own_profile(actor)
    return _views([_own_decision(profile.id, decision_id)])[0]


@use_case
def request_review(actor: User, decision_id: int, comment: object = "", *, ip: str | None = None) -> DecisionReview:
    """The expert asks a person to look again at one decision about them, once; answered within two weeks.

    The comment may be empty: asking is enough for a person to look.
    """
    profile = experts.own_profile(actor)
    if comment is not None and not isinstance(comment, str):
        raise InvalidInput(_l("Write your comment as text."), "comment")
    text = clean_text(comment, "comment", max_length=COMMENT_LENGTH)
    decision = _own_decision(profile.id, decision_id)
    if db.session.scalar(sa.select(DecisionReview.id).where(DecisionReview.decision_id == decision.id)):
        raise Conflict(_l("You already asked for a review of this decision."), "decision_id")
    now = utcnow()
    review = DecisionReview(decision_id=decision.id, expert_id=profile.id, team=reasons.team_of(decision.reason_code),
                            comment=text, status=ReviewStatus.OPEN, requested_at=now, due_at=now + REVIEW_DEADLINE)
    db.session.add(review)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:  # asked twice at once: the unique decision holds
        raise Conflict(_l("You already asked for a review of this decision."), "decision_id") from None
    accounts.record_audit("decision_review_requested", actor_id=actor.id, subject_id=actor.id, ip=ip,
                          decision_id=decision.id, review_id=review.id)
    return review


def _reviewer_team(actor: User) -> str:
    if actor.is_token or actor.role not in (Role.OPS, Role.FINANCE):
        raise Forbidden(_l("Only ops and finance staff review decisions."))
    return str(actor.role)


@dataclass(frozen=True)
class QueuedReview:
    review: DecisionReview
    decision: DecisionView
    expert_name: str
    overdue: bool


@use_case
def review_queue(actor: User, *, answered: bool = False, limit: int = 200) -> list[QueuedReview]:
    """The reviews the caller's team answers (ops: work, finance: pay), nearest deadline first."""
    team = _reviewer_team(actor)
    status = ReviewStatus.ANSWERED if answered else ReviewStatus.OPEN
    order = (DecisionReview.answered_at.desc(),) if answered else (DecisionReview.due_at, DecisionReview.id)
    rows = db.session.scalars(sa.select(DecisionReview).where(DecisionReview.team == team,
                                                              DecisionReview.status == status)
                              .order_by(*order).limit(limit)).all()
    decisions = {d.decision.id: d for d in _views(list(db.session.scalars(
        sa.select(ExpertDecision).where(ExpertDecision.id.in_([r.decision_id for r in rows]))))) } if rows else {}
    names = {p.id: p.display_name for p in experts.profiles_by_id({r.expert_id for r in rows}).values()}
    now = utcnow()
    return [QueuedReview(r, decisions[r.decision_id], names.get(r.expert_id, ""),
                         r.status == ReviewStatus.OPEN and r.due_at < now) for r in rows]


@use_case
def answer_review(actor: User, review_id: int, answer: object, *, ip: str | None = None) -> DecisionReview:
    """A person of the right team answers in writing; the expert is told and reads it on their decisions page."""
    team = _reviewer_team(actor)
    if not isinstance(answer, str):
        raise InvalidInput(_l("Write the answer: the expert will read it."), "answer")
    text = clean_text(answer, "answer", max_length=ANSWER_LENGTH, required=_l("Write the answer: the expert will "
                                                                            "read it."))
    review = db.session.get(DecisionReview, review_id, with_for_update=True)
    if review is None or review.team != team:
        raise NotFound(_l("No such review in your queue."))
    if review.status != ReviewStatus.OPEN:
        raise Conflict(_l("This review is already answered."), "answer")
    review.status, review.answer, review.answered_by_id, review.answered_at = (ReviewStatus.ANSWERED, text, actor.id,
                                                                              utcnow())
    profile = experts.get_profile(review.expert_id)
    user = accounts.get_user(profile.user_id)
    accounts.record_audit("decision_review_answered", actor_id=actor.id, subject_id=user.id, ip=ip,
                          decision_id=review.decision_id, review_id=review.id)
    with in_language_of(user):
        title = gettext("Your review is answered")
        body = gettext("A person looked again at a decision about you and wrote an answer.")
    notifications.notify(user.id, "decision_review_answered", title, body,
                         url=path_for("decisions.mine", _anchor=f"decision-{review.decision_id}"),
                         data={"decision_id": review.decision_id, "review_id": review.id})
    return review


def decisions_for_export(expert_id: int) -> list[dict[str, Any]]:
    """Every decision about the expert with its reason and any review, for their data export (the caller's
    transaction; plain values)."""
    rows = db.session.scalars(sa.select(ExpertDecision).where(ExpertDecision.expert_id == expert_id)
                              .order_by(ExpertDecision.created_at, ExpertDecision.id)).all()
    return [{"id": view.decision.id, "created_at": view.decision.created_at.isoformat(), "kind": view.decision.kind,
             "reason_code": view.decision.reason_code, "reason": view.text, "parameters": view.decision.params,
             "brand_id": view.decision.brand_id, "brand": view.brand_name,
             "subject_type": view.decision.subject_type, "subject_id": view.decision.subject_id,
             "review": None if view.review is None else {
                 "requested_at": view.review.requested_at.isoformat(), "comment": view.review.comment,
                 "status": view.review.status.value, "due_at": view.review.due_at.isoformat(),
                 "answer": view.review.answer,
                 "answered_at": view.review.answered_at.isoformat() if view.review.answered_at else None}}
            for view in _views(list(rows))]
