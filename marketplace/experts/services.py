"""Expert use cases: each one a transaction, with an explicit actor."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role, User
from marketplace.database import db
from marketplace.errors import Forbidden, NotFound, clean_text
from marketplace.experts.models import ExpertProfile, ExpertStatus


def _clean_profile(changes: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    if "display_name" in changes:
        clean["display_name"] = clean_text(changes["display_name"], "display_name", max_length=60,
                                           required=_l("Choose the name visitors will see."))
    if "bio" in changes:
        clean["bio"] = clean_text(changes["bio"], "bio", max_length=500)
    return clean


def sign_up_expert(email: str, password: str, full_name: str, display_name: str | None = None,
                   *, ip: str | None = None) -> User:
    """Open an expert account; the application then waits for vetting."""
    display_name = display_name or full_name.strip().split(" ")[0]
    profile_fields = _clean_profile({"display_name": display_name})
    user = accounts.add_user(email, password, full_name, Role.EXPERT)
    db.session.add(ExpertProfile(user_id=user.id, status=ExpertStatus.APPLIED, **profile_fields))
    accounts.record_audit("signup", actor_id=user.id, subject_id=user.id, ip=ip, role=str(Role.EXPERT))
    db.session.commit()
    return user


def own_profile(actor: User) -> ExpertProfile:
    if actor.is_token or actor.role != Role.EXPERT:
        raise Forbidden(_l("Only experts have an expert profile."))
    profile = db.session.scalar(sa.select(ExpertProfile).where(ExpertProfile.user_id == actor.id))
    if profile is None:
        raise NotFound(_l("No expert profile yet."))
    return profile


def update_own_profile(actor: User, changes: dict[str, Any]) -> ExpertProfile:
    profile = own_profile(actor)
    for key, value in _clean_profile(changes).items():
        setattr(profile, key, value)
    db.session.commit()
    return profile


def count_by_status() -> dict[ExpertStatus, int]:
    rows = db.session.execute(
        sa.select(ExpertProfile.status, sa.func.count()).group_by(ExpertProfile.status)
    ).all()
    counts = {status: 0 for status in ExpertStatus}
    counts.update({row[0]: row[1] for row in rows})
    return counts


REFUSALS = {
    ExpertStatus.APPLIED: _l("Your application is still under review: you can do this once our team approves it."),
    ExpertStatus.REJECTED: _l("Your application was not accepted, so you cannot do this."),
    ExpertStatus.SUSPENDED: _l("Your account is suspended, so you cannot do this. Contact our team to know more."),
}


def require_approved(profile: ExpertProfile) -> None:
    """Refuse, saying why, anything but an approved expert (enrolling, booking, going online)."""
    if profile.status != ExpertStatus.APPROVED:
        raise Forbidden(REFUSALS[profile.status])


def lock_expert(expert_id: int) -> ExpertProfile:
    """Load the profile for update, so one expert's concurrent requests take turns (a row lock on PostgreSQL)."""
    profile = db.session.scalar(
        sa.select(ExpertProfile).where(ExpertProfile.id == expert_id).with_for_update().execution_options(
            populate_existing=True)
    )
    if profile is None:
        raise NotFound(_l("No such expert."))
    return profile


def get_profile(expert_id: int) -> ExpertProfile | None:
    return db.session.get(ExpertProfile, expert_id)


def profiles_by_id(expert_ids: set[int]) -> dict[int, ExpertProfile]:
    if not expert_ids:
        return {}
    return {p.id: p for p in db.session.scalars(sa.select(ExpertProfile).where(ExpertProfile.id.in_(expert_ids)))}
