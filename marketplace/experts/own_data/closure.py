"""Closing an expert's account: one transaction that takes them offline, runs the domains' closure steps (future
shifts cancelled), deletes their devices and sessions, disables the log-in and erases or pseudonymises their
personal data; then the closure listeners (routing ends the chats they held) and the presence listeners (their
pending offers go to others, as when a phone is lost) run once it has committed.

Kept, as money law requires: earnings, the ledger, statements, payout items, and the SIRET and country that the
self-billed invoices carry; and the payout details (IBAN and holder, or the Stripe account), which pay what is
already earned and which the yearly reports (art. 242 bis CGI summary, DAC7) must name for every payment of the year.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l

from marketplace.accounts import closure as logins
from marketplace.accounts import passwords
from marketplace.accounts import services as accounts
from marketplace.accounts.models import User
from marketplace.database import unit_of_work, utcnow
from marketplace.errors import Conflict, InvalidInput
from marketplace.experts import presence
from marketplace.experts import services as experts
from marketplace.experts.models import ExpertProfile, PresenceStatus
from marketplace.experts.own_data import CLOSURE_LISTENERS, CLOSURE_STEPS, Holder
from marketplace.notifications import services as notifications

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Closed:
    expert_id: int
    closed_at: dt.datetime
    pseudonym: str


def pseudonym(expert_id: int) -> str:
    """The name a closed expert is shown by everywhere (stored, so every page and export says the same)."""
    return f"Former expert #{expert_id}"


def _check_password(actor: User, password: object) -> None:
    if not isinstance(password, str) or not password:
        raise InvalidInput(_l("Enter your password to confirm."), "password")
    if not passwords.verify_password(actor.password_hash, password):
        raise InvalidInput(_l("This is not your password."), "password")


def _erase(profile: ExpertProfile, user: User, now: dt.datetime) -> int:
    """Erase or pseudonymise what names the person; return how many log-in sessions were deleted."""
    name = pseudonym(profile.id)
    profile.display_name = name
    profile.bio = ""
    profile.motivation = ""
    profile.phone = None
    profile.languages = []
    profile.skills = []
    profile.status_reason = None
    profile.status_fields = None
    profile.closed_at = now
    return logins.close_login(user, pseudonym=name)


def close_account(actor: User, password: object, *, ip: str | None = None) -> Closed:
    """Close the calling expert's account for good, after they confirm with their password."""
    with unit_of_work():
        profile = experts.lock_expert(experts.own_profile(actor).id)  # a double tap closes once
        if profile.is_closed:
            raise Conflict(_l("This account is already closed."), "account")
        _check_password(actor, password)
        now = utcnow()
        presence.force_offline(profile.id)
        holder = Holder(profile, actor)
        for step in current_app.extensions.get(CLOSURE_STEPS, []):
            step(holder, now)
        devices = notifications.forget_user(actor.id)
        sessions = _erase(profile, actor, now)
        accounts.record_audit("expert_account_closed", actor_id=actor.id, subject_id=actor.id, ip=ip,
                              expert_id=profile.id, sessions_ended=sessions, devices=devices)
        closed = Closed(profile.id, now, profile.display_name)
    _tell_listeners(closed.expert_id)
    return closed


def _tell_listeners(expert_id: int) -> None:
    """Once committed: the presence listeners take back their pending offers (as for a lost phone), the closure
    listeners end what they still held."""
    followers = [lambda: presence.changed(expert_id, PresenceStatus.OFFLINE),
                 *(functools.partial(listener, expert_id)
                   for listener in current_app.extensions.get(CLOSURE_LISTENERS, []))]
    for follow in followers:
        try:
            follow()
        except Exception:
            # The closure stands (committed): a pending offer still expires, an idle chat still closes by itself.
            log.exception("a follow-up of the closure of expert %s failed", expert_id)

