"""Enrolments: an expert applies to brands, passes each brand's quiz, and the brand decides.

An applicant still under review may apply and take quizzes too, but a brand decides only on experts ops
approved: until then their enrolment stops at `quiz_passed`, out of the brand's sight, and is approved
when ops approve them if the brand approves automatically.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask, current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from marketplace.accounts import services as accounts
from marketplace.accounts.language import in_language_of
from marketplace.accounts.models import User
from marketplace.brands import quizzes
from marketplace.brands import services as brands
from marketplace.brands.models import Brand, BrandRole, EnrolmentApproval
from marketplace.core.lifecycles import ENROLMENT_TRANSITIONS, next_status
from marketplace.database import db, unit_of_work, use_case, utcnow
from marketplace.errors import Conflict, InvalidInput, NotFound, clean_text
from marketplace.experts import services as experts
from marketplace.experts.models import Enrolment, EnrolmentStatus, ExpertProfile, ExpertStatus, QuizAttempt
from marketplace.notifications import services as notifications
from marketplace.shared.links import path_for

# Called as listener(expert_id, brand_id) once a brand's removal of an approved expert has committed
# (routing takes back that brand's pending offers to them).
RemovalListener = Callable[[int, int], None]


def register_removal_listener(app: Flask, listener: RemovalListener) -> None:
    listeners = app.extensions.setdefault("expert_removed_listeners", [])
    if listener not in listeners:
        listeners.append(listener)


def _removed(expert_id: int, brand_id: int) -> None:
    """Tell the layers above of a committed removal; call after the commit."""
    for listener in current_app.extensions.get("expert_removed_listeners", []):
        listener(expert_id, brand_id)


@dataclass(frozen=True)
class BrandStanding:
    """A brand as an expert sees it when choosing where to apply."""

    brand: Brand
    enrolment: Enrolment | None
    has_quiz: bool


@dataclass(frozen=True)
class Applicant:
    enrolment: Enrolment
    profile: ExpertProfile
    best_score: int | None
    attempts: int = 0  # quiz attempts submitted
    pass_mark: int | None = None  # the brand's quiz pass mark now; None without a quiz


def approved_brand_ids(expert_id: int) -> set[int]:
    """The brands this expert may answer for."""
    return set(db.session.scalars(
        sa.select(Enrolment.brand_id).where(Enrolment.expert_id == expert_id,
                                            Enrolment.status == EnrolmentStatus.APPROVED)
    ))


def approved_expert_ids(brand_id: int) -> set[int]:
    """The experts who may answer for this brand now: approved by it, and not suspended or rejected."""
    return set(db.session.scalars(
        sa.select(Enrolment.expert_id).join(ExpertProfile, ExpertProfile.id == Enrolment.expert_id)
        .where(Enrolment.brand_id == brand_id, Enrolment.status == EnrolmentStatus.APPROVED,
               ExpertProfile.status == ExpertStatus.APPROVED)
    ))


def is_approved_for(expert_id: int, brand_id: int) -> bool:
    return brand_id in approved_brand_ids(expert_id)


def brand_standings(actor: User) -> list[BrandStanding]:
    """Every brand with the caller's enrolment in it, if any."""
    enrolments = {e.brand_id: e for e in own_enrolments(actor)}
    with_quiz = quizzes.brands_with_quiz()
    return [BrandStanding(brand, enrolments.get(brand.id), brand.id in with_quiz) for brand in brands.brand_directory()]


def own_enrolments(actor: User) -> list[Enrolment]:
    profile = experts.own_profile(actor)
    query = sa.select(Enrolment).where(Enrolment.expert_id == profile.id).order_by(Enrolment.id)
    return list(db.session.scalars(query))


def own_enrolment(profile: ExpertProfile, brand_id: int, *, lock: bool = False) -> Enrolment:
    """The expert's enrolment with the brand (locked when asked); NotFound when they never applied."""
    query = sa.select(Enrolment).where(Enrolment.expert_id == profile.id, Enrolment.brand_id == brand_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    enrolment = db.session.scalar(query)
    if enrolment is None:
        raise NotFound(_l("You have not applied to this brand."))
    return enrolment


def _set_status(enrolment: Enrolment, action: str, actor_id: int | None, reason: str | None = None) -> None:
    target = next_status(ENROLMENT_TRANSITIONS, action, enrolment.status.value)
    if target is None:
        raise Conflict(_l("This application cannot change that way now."), "action")
    enrolment.status = EnrolmentStatus(target)
    enrolment.status_changed_at = utcnow()
    enrolment.status_reason = reason or None
    enrolment.decided_by_id = actor_id if action in ("approve", "reject") else enrolment.decided_by_id


def _after_quiz_passed(enrolment: Enrolment, brand: Brand, profile: ExpertProfile) -> None:
    """Approve at once when the brand chose automatic approval, and ops have approved the expert."""
    if brand.enrolment_approval == EnrolmentApproval.AUTOMATIC and profile.status == ExpertStatus.APPROVED:
        _set_status(enrolment, "approve", None)
        _tell_expert(profile, "approve", brand, "")


def pass_quiz(enrolment: Enrolment, brand: Brand, profile: ExpertProfile) -> None:
    """Move an enrolment past the brand's quiz, and on to approved when nothing else waits."""
    _set_status(enrolment, "pass_quiz", None)
    _after_quiz_passed(enrolment, brand, profile)


def release_waiting_enrolments(expert_id: int) -> None:
    """Approve the enrolments that waited for the expert's vetting, with the brands that approve automatically.

    Vetting calls this inside its transaction once ops approve the expert; the brands that decide themselves
    now see the expert among their applicants.
    """
    profile = experts.lock_expert(expert_id)  # reloaded: vetting moved its status with a bulk update
    waiting = list(db.session.scalars(
        sa.select(Enrolment).where(Enrolment.expert_id == expert_id, Enrolment.status == EnrolmentStatus.QUIZ_PASSED)
        .order_by(Enrolment.id).with_for_update().execution_options(populate_existing=True)
    ))
    found = brands.brands_by_id({enrolment.brand_id for enrolment in waiting})
    for enrolment in waiting:
        _after_quiz_passed(enrolment, found[enrolment.brand_id], profile)


def _visible_to_brand() -> sa.ColumnElement[bool]:
    """A brand decides only on experts ops approved: the others' pending applications wait out of its sight."""
    return sa.or_(Enrolment.status.not_in([EnrolmentStatus.APPLIED, EnrolmentStatus.QUIZ_PASSED]),
                  ExpertProfile.status == ExpertStatus.APPROVED)


def _tell_expert(profile: ExpertProfile, action: str, brand: Brand, reason: str) -> None:
    """Notify the expert of a brand's decision, in the expert's language."""
    user = accounts.get_user(profile.user_id)
    with in_language_of(user):
        if action == "approve":
            title = gettext("%(brand)s approved you", brand=brand.name)
            body = gettext("You can now book %(brand)s shifts and answer its chats.", brand=brand.name)
        elif action == "remove":
            title = gettext("%(brand)s removed you from its experts", brand=brand.name)
            body = reason
        else:
            title = gettext("%(brand)s did not accept your application", brand=brand.name)
            body = reason
    notifications.notify(user.id, f"enrolment_{action}", title, body, url=path_for("experts.home"))


@use_case
def apply_to_brands(actor: User, brand_ids: list[int], *, ip: str | None = None) -> list[Enrolment]:
    """Apply to one or several brands at once; brands already applied to are left as they are."""
    profile = experts.lock_expert(experts.own_profile(actor).id)  # one request at a time; its status as of now
    experts.require_may_apply(profile)
    wanted = list(dict.fromkeys(brand_ids))
    if not wanted:
        raise InvalidInput(_l("Choose at least one brand."), "brand_ids")
    found = brands.brands_by_id(set(wanted))
    if missing := [brand_id for brand_id in wanted if brand_id not in found]:
        raise InvalidInput(_l("Unknown brand: %(ids)s.", ids=", ".join(map(str, missing))), "brand_ids")
    existing = {e.brand_id: e for e in db.session.scalars(
        sa.select(Enrolment).where(Enrolment.expert_id == profile.id, Enrolment.brand_id.in_(wanted)))}
    with_quiz = quizzes.brands_with_quiz(set(wanted))
    result = []
    for brand_id in wanted:
        enrolment = existing.get(brand_id)
        if enrolment is None:
            enrolment = Enrolment(expert_id=profile.id, brand_id=brand_id, status=EnrolmentStatus.APPLIED,
                                  status_changed_at=utcnow())
            db.session.add(enrolment)
            if brand_id not in with_quiz:  # nothing to prove: straight to the brand's decision
                pass_quiz(enrolment, found[brand_id], profile)
            accounts.record_audit("enrolment_applied", actor_id=actor.id, subject_id=actor.id, ip=ip,
                                  brand_id=brand_id)
        result.append(enrolment)
    return result


# The brand's side: its applicants and its decisions.

def list_applicants(actor: brands.Actor, brand_id: int, status: EnrolmentStatus | None = None) -> list[Applicant]:
    """The experts who applied to this brand, and only this brand (its members, ops); not those ops have yet
    to approve."""
    brands.get_brand(actor, brand_id)
    query = (sa.select(Enrolment).join(ExpertProfile, ExpertProfile.id == Enrolment.expert_id)
             .where(Enrolment.brand_id == brand_id, _visible_to_brand())
             .order_by(Enrolment.created_at, Enrolment.id))
    if status is not None:
        query = query.where(Enrolment.status == status)
    enrolments = list(db.session.scalars(query))
    profiles = experts.profiles_by_id({e.expert_id for e in enrolments})
    scores = {enrolment_id: (best, attempts) for enrolment_id, best, attempts in db.session.execute(
        sa.select(QuizAttempt.enrolment_id, sa.func.max(QuizAttempt.score_percent),
                  sa.func.count(QuizAttempt.submitted_at))
        .where(QuizAttempt.enrolment_id.in_([e.id for e in enrolments]))
        .group_by(QuizAttempt.enrolment_id)
    )} if enrolments else {}
    quiz = quizzes.quiz_of(brand_id)
    pass_mark = quiz.pass_mark_percent if quiz is not None else None
    return [Applicant(e, profiles[e.expert_id], *scores.get(e.id, (None, 0)), pass_mark=pass_mark)
            for e in enrolments]


def decide_enrolment(actor: brands.Actor, brand_id: int, enrolment_id: int, action: str, reason: str = "",
                     *, ip: str | None = None) -> Enrolment:
    """Approve or turn down an applicant, or remove an approved expert (the brand's admins, ops).

    The expert is told why. A removed expert gets no more of the brand's chats: once this commits, the
    removal listeners take back the brand's pending offers to them; chats they already hold stay theirs.
    """
    with unit_of_work():  # committed before the removal listeners take back offers
        brand = brands.get_brand(actor, brand_id, need=BrandRole.ADMIN)
        if action not in ("approve", "reject", "remove"):
            raise InvalidInput(_l("Choose approve, reject or remove."), "action")
        reason = clean_text(reason, "reason", max_length=500,
                            required=None if action == "approve" else _l("Give the reason: the expert will read it."))
        enrolment = db.session.scalar(
            sa.select(Enrolment).join(ExpertProfile, ExpertProfile.id == Enrolment.expert_id)
            .where(Enrolment.id == enrolment_id, Enrolment.brand_id == brand_id, _visible_to_brand())
            .with_for_update(of=Enrolment).execution_options(populate_existing=True)
        )
        if enrolment is None:
            raise NotFound(_l("No such applicant."))
        if action == "approve" and enrolment.status == EnrolmentStatus.APPLIED:
            raise Conflict(_l("This expert has not passed your quiz yet."), "action")
        if action == "remove" and enrolment.status != EnrolmentStatus.APPROVED:
            raise Conflict(_l("Only an approved expert can be removed."), "action")
        removing = action != "approve" and enrolment.status == EnrolmentStatus.APPROVED  # "reject" works too
        action = "remove" if removing else action
        _set_status(enrolment, "reject" if removing else action, getattr(actor, "id", None), reason)
        profile = experts.get_profile(enrolment.expert_id)
        accounts.record_audit(f"enrolment_{action}", actor_id=getattr(actor, "id", None), subject_id=profile.user_id,
                              ip=ip, brand_id=brand_id, enrolment_id=enrolment.id, reason=reason)
        _tell_expert(profile, action, brand, reason)
    if removing:
        _removed(enrolment.expert_id, brand_id)
    return enrolment
