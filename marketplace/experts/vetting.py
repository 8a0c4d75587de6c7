"""Vetting by ops: the queue of applications, and every decision on an expert, with its reason.

A rejected applicant corrects their application and resubmits it: it goes back to the queue, marked as a
resubmission, with the reason (and the fields) of the rejection kept for the reviewers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from marketplace.accounts import services as accounts
from marketplace.accounts.language import in_language_of
from marketplace.accounts.models import Role, User
from marketplace.core.lifecycles import EXPERT_DECISIONS, EXPERT_TRANSITIONS, next_status
from marketplace.database import db, use_case, utcnow
from marketplace.errors import Conflict, Forbidden, InvalidInput, NotFound, clean_text
from marketplace.experts import enrolments, presence
from marketplace.experts import services as experts
from marketplace.experts.models import ExpertProfile, ExpertStatus
from marketplace.mail import send_after_commit
from marketplace.notifications import services as notifications
from marketplace.shared.links import absolute_url, path_for

ACTIONS = EXPERT_DECISIONS
REASON_REQUIRED = {"reject", "suspend", "reinstate"}
# The parts of an application a rejection may point at: the profile the applicant can correct.
APPLICATION_FIELDS = ("display_name", "country", "phone", "languages", "skills", "bio", "business_id", "motivation")
STATUS_LABELS = {
    ExpertStatus.APPLIED: _l("application under review"),
    ExpertStatus.APPROVED: _l("approved"),
    ExpertStatus.REJECTED: _l("not accepted"),
    ExpertStatus.SUSPENDED: _l("suspended"),
}


@dataclass(frozen=True)
class Application:
    profile: ExpertProfile
    user: User


def _require_ops(actor: User) -> None:
    if actor.is_token or actor.role != Role.OPS:
        raise Forbidden(_l("Only ops staff vet experts."))


def list_applications(actor: User, status: ExpertStatus | None = ExpertStatus.APPLIED,
                      *, limit: int = 200) -> list[Application]:
    """The queue, longest waiting first: by when each entered its status (a resubmission, when resubmitted)."""
    _require_ops(actor)
    waiting_since = sa.func.coalesce(ExpertProfile.status_changed_at, ExpertProfile.created_at)
    query = sa.select(ExpertProfile).order_by(waiting_since, ExpertProfile.id).limit(limit)
    if status is not None:
        query = query.where(ExpertProfile.status == status)
    profiles = list(db.session.scalars(query))
    users = accounts.users_by_id({profile.user_id for profile in profiles})
    return [Application(profile, users[profile.user_id]) for profile in profiles]


def get_application(actor: User, expert_id: int) -> Application:
    _require_ops(actor)
    profile = db.session.get(ExpertProfile, expert_id)
    if profile is None:
        raise NotFound(_l("No such expert."))
    return Application(profile, accounts.get_user(profile.user_id))


_MAILS = {
    "approve": (_l("Welcome aboard: your expert application is approved"),
                _l("Hello %(name)s,\n\nGood news: our team approved your application. You can now apply to the "
                   "brands you know best, pass their quizzes and book your first shifts.\n\n%(link)s")),
    "reject": (_l("Your expert application"),
               _l("Hello %(name)s,\n\nThank you for applying. Our team could not accept your application as it "
                  "is, for this reason:\n\n%(reason)s\n\nYou can correct your application and send it to us "
                  "again from your profile:\n\n%(link)s")),
    "suspend": (_l("Your expert account is suspended"),
                _l("Hello %(name)s,\n\nOur team suspended your expert account, for this reason:\n\n%(reason)s\n\n"
                   "You cannot go online or book shifts until it is lifted. Reply to this e-mail to discuss it.")),
    "reinstate": (_l("Your expert account is active again"),
                  _l("Hello %(name)s,\n\nOur team lifted the suspension of your account:\n\n%(reason)s\n\n"
                     "You can go online and book shifts again.\n\n%(link)s")),
    "resubmit": (_l("We received your corrected application"),
                 _l("Hello %(name)s,\n\nThank you: your corrected application is back with our team, who will "
                    "review it again. You will get an e-mail as soon as it is decided. Meanwhile you can already "
                    "apply to brands and take their quizzes.\n\n%(link)s")),
}
# Where each mail's link leads: a rejected applicant corrects their application on their profile page.
_LINKS = {"reject": "experts.profile"}
# The notification's text when there is no reason to show.
_NOTICES = {"resubmit": _l("Our team will review it again and tell you as soon as it is decided.")}


def _tell_expert(user: User, action: str, reason: str) -> None:
    """E-mail and notify the expert in their own language, once the decision is committed."""
    endpoint = _LINKS.get(action, "experts.home")
    with in_language_of(user):
        subject, body = _MAILS[action]
        text = str(body) % {"name": user.full_name, "reason": reason, "link": absolute_url(endpoint)}
        send_after_commit(user.email, str(subject), text)
        notifications.notify(user.id, f"expert_{action}", str(subject), reason or str(_NOTICES.get(action, "")),
                             url=path_for(endpoint))


def _clean_fields(action: str, names: list[str] | None) -> list[str] | None:
    """The application fields a rejection points at (none: the reason concerns the whole application)."""
    if not names:
        return None
    if action != "reject":
        raise InvalidInput(_l("Name the fields to correct only when rejecting an application."), "fields")
    wanted = list(dict.fromkeys(str(name) for name in names))
    if unknown := [name for name in wanted if name not in APPLICATION_FIELDS]:
        raise InvalidInput(_l("Unknown field: %(names)s.", names=", ".join(unknown)), "fields")
    return wanted


@use_case
def decide(actor: User, expert_id: int, action: str, reason: str = "", *, fields: list[str] | None = None,
           ip: str | None = None) -> ExpertProfile:
    """Approve, reject, suspend or reinstate an expert (ops); the expert sees the reason and gets an e-mail.

    A rejection may name the application's `fields` the reason concerns: the applicant sees it next to them.
    Approving an applicant also approves the enrolments that waited for vetting with brands that approve
    automatically.
    """
    _require_ops(actor)
    if action not in ACTIONS:
        raise InvalidInput(_l("Choose approve, reject, suspend or reinstate."), "action")
    reason = clean_text(reason, "reason", max_length=500,
                        required=_l("Give the reason: the expert will read it.") if action in REASON_REQUIRED else None)
    named = _clean_fields(action, fields)
    profile = db.session.get(ExpertProfile, expert_id)
    if profile is None:
        raise NotFound(_l("No such expert."))
    current = profile.status
    target = next_status(EXPERT_TRANSITIONS, action, current.value)
    if target is None:
        raise Conflict(_l("Not possible while the expert's status is: %(status)s.",
                          status=STATUS_LABELS[current]), "action")
    # Compare-and-set: of two ops deciding at once, only the first moves the status.
    moved = db.session.execute(
        sa.update(ExpertProfile)
        .where(ExpertProfile.id == expert_id, ExpertProfile.status == current)
        .values(status=ExpertStatus(target), status_reason=reason or None, status_fields=named,
                status_changed_at=utcnow(), status_changed_by_id=actor.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        raise Conflict(_l("Someone else decided on this expert just now; reload to see it."), "action")
    if ExpertStatus(target) == ExpertStatus.SUSPENDED:
        presence.force_offline(expert_id)
    user = accounts.get_user(profile.user_id)
    accounts.record_audit(f"expert_{action}", actor_id=actor.id, subject_id=user.id, ip=ip,
                          expert_id=expert_id, previous=current.value, status=target, reason=reason,
                          **({"fields": named} if named else {}))
    _tell_expert(user, action, reason)
    if action == "approve":
        enrolments.release_waiting_enrolments(expert_id)
    db.session.refresh(profile)
    return profile


@use_case
def resubmit(actor: User, changes: dict[str, Any] | None = None, *, ip: str | None = None) -> ExpertProfile:
    """Send a rejected application, with its corrections, back to the vetting queue (the applicant).

    Every bad field is refused at once and nothing changes. The rejection's reason and fields stay on the
    profile, so the reviewers see what was to be corrected; the audit log keeps what changed.
    """
    profile = experts.own_profile(actor)
    if next_status(EXPERT_TRANSITIONS, "resubmit", profile.status.value) is None:
        raise Conflict(_l("Only a rejected application can be resubmitted; yours is: %(status)s.",
                          status=STATUS_LABELS[profile.status]), "status")
    changed = experts.apply_profile_changes(profile, changes or {})
    db.session.flush()
    # Compare-and-set: a double tap on the button resubmits once.
    moved = db.session.execute(
        sa.update(ExpertProfile)
        .where(ExpertProfile.id == profile.id, ExpertProfile.status == ExpertStatus.REJECTED)
        .values(status=ExpertStatus.APPLIED, status_changed_at=utcnow(), status_changed_by_id=actor.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        raise Conflict(_l("Your application is already back with our team."), "status")
    accounts.record_audit("expert_resubmit", actor_id=actor.id, subject_id=actor.id, ip=ip, expert_id=profile.id,
                          previous=ExpertStatus.REJECTED.value, status=ExpertStatus.APPLIED.value,
                          changed=changed, rejection_reason=profile.status_reason)
    _tell_expert(actor, "resubmit", "")
    db.session.refresh(profile)
    return profile
