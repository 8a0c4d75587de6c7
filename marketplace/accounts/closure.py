"""Closing a person's log-in for good: the address goes, the account is disabled, its devices are logged out.

What is kept of the address is a keyed digest (HMAC with SECRET_KEY), so that its former owner who logs in with it
and the right password is told the account is closed rather than that the password is wrong; the digest alone
names nobody. The password hash stays for that check only: the account is disabled and no log-in opens it.
"""

from __future__ import annotations

import hashlib
import hmac

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from marketplace.accounts import passwords
from marketplace.accounts.models import User, UserSession
from marketplace.database import db, unit_of_work
from marketplace.errors import Forbidden

PSEUDONYM_DOMAIN = "closed.invalid"  # RFC 2606: never routable, so nothing is ever sent there


class AccountClosed(Forbidden):
    """A log-in to an account its owner closed."""


CLOSED = _l("This account was closed at its owner's request: it can no longer log in.")


def email_digest(email: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"closed-account:" + email.strip().lower().encode(), hashlib.sha256).hexdigest()


def pseudonym_email(user_id: int) -> str:
    """A unique address that reaches nobody, in place of a closed account's."""
    return f"closed-{user_id}@{PSEUDONYM_DOMAIN}"


def close_login(user: User, *, pseudonym: str) -> int:
    """Disable the log-in, replace the name and address, delete its sessions (inside the caller's transaction).

    Returns how many sessions were deleted: every device is logged out at its next request.
    """
    user.erased_email_digest = email_digest(user.email)
    user.email = pseudonym_email(user.id)
    user.full_name = pseudonym
    user.is_disabled = True
    user.last_login_at = None
    return db.session.execute(sa.delete(UserSession).where(UserSession.user_id == user.id)).rowcount


def check_not_closed(email: str, password: str) -> None:
    """Raise AccountClosed when `email` was the address of a closed account and `password` is its password.

    Only with the right password, so that the answer reveals nothing to someone guessing addresses.
    """
    with unit_of_work():  # ends the read before argon2 works, as authenticate does
        found = db.session.execute(sa.select(User.password_hash)
                                   .where(User.erased_email_digest == email_digest(email), User.is_disabled.is_(True))
                                   ).first()
    if found is not None and passwords.verify_password(found.password_hash, password):
        raise AccountClosed(CLOSED)
