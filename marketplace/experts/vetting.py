"""Vetting by ops: the queue of applications, and every decision on an expert, with its reason."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role, User
from marketplace.core.lifecycles import EXPERT_TRANSITIONS, next_status
from marketplace.database import db, utcnow
from marketplace.errors import Conflict, Forbidden, InvalidInput, NotFound, clean_text
from marketplace.experts import presence
from marketplace.experts.models import ExpertProfile, ExpertStatus
from marketplace.mail import send_after_commit
from marketplace.notifications import services as notifications
from marketplace.web.links import absolute_url, path_for

ACTIONS = tuple(EXPERT_TRANSITIONS)
REASON_REQUIRED = {"reject", "suspend", "reinstate"}
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
    """The queue, oldest application first (ops)."""
    _require_ops(actor)
    query = sa.select(ExpertProfile).order_by(ExpertProfile.created_at, ExpertProfile.id).limit(limit)
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
               _l("Hello %(name)s,\n\nThank you for applying. Our team could not accept your application this "
                  "time, for this reason:\n\n%(reason)s\n\n%(link)s")),
    "suspend": (_l("Your expert account is suspended"),
                _l("Hello %(name)s,\n\nOur team suspended your expert account, for this reason:\n\n%(reason)s\n\n"
                   "You cannot go online or book shifts until it is lifted. Reply to this e-mail to discuss it.")),
    "reinstate": (_l("Your expert account is active again"),
                  _l("Hello %(name)s,\n\nOur team lifted the suspension of your account:\n\n%(reason)s\n\n"
                     "You can go online and book shifts again.\n\n%(link)s")),
}


def _tell_expert(user: User, action: str, reason: str) -> None:
    """E-mail and notify the expert in their own language, once the decision is committed."""
    with force_locale(user.locale or "fr"):
        subject, body = _MAILS[action]
        link = absolute_url("experts.home")
        text = str(body) % {"name": user.full_name, "reason": reason, "link": link}
        send_after_commit(user.email, str(subject), text)
        notifications.notify(user.id, f"expert_{action}", str(subject), reason or "", url=path_for("experts.home"))


def decide(actor: User, expert_id: int, action: str, reason: str = "", *, ip: str | None = None) -> ExpertProfile:
    """Approve, reject, suspend or reinstate an expert (ops); the expert sees the reason and gets an e-mail."""
    _require_ops(actor)
    if action not in ACTIONS:
        raise InvalidInput(_l("Choose approve, reject, suspend or reinstate."), "action")
    reason = clean_text(reason, "reason", max_length=500,
                        required=_l("Give the reason: the expert will read it.") if action in REASON_REQUIRED else None)
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
        .values(status=ExpertStatus(target), status_reason=reason or None, status_changed_at=utcnow(),
                status_changed_by_id=actor.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        db.session.rollback()
        raise Conflict(_l("Someone else decided on this expert just now; reload to see it."), "action")
    if ExpertStatus(target) == ExpertStatus.SUSPENDED:
        presence.force_offline(expert_id)
    user = accounts.get_user(profile.user_id)
    accounts.record_audit(f"expert_{action}", actor_id=actor.id, subject_id=user.id, ip=ip,
                          expert_id=expert_id, previous=current.value, status=target, reason=reason)
    _tell_expert(user, action, reason)
    db.session.commit()
    db.session.refresh(profile)
    return profile
