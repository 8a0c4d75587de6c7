"""Account use cases: each one a transaction, with an explicit actor."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from marketplace.accounts import closure, passwords, sessions
from marketplace.accounts.language import in_language_of, remember_language
from marketplace.accounts.models import AuditEvent, Role, User
from marketplace.database import db, unit_of_work, use_case, utcnow
from marketplace.errors import Conflict, Forbidden, InvalidInput, NotFound, clean_text
from marketplace.mail import send_after_commit

RESET_SALT = "password-reset"


def normalize_email(email: str, field: str = "email") -> str:
    """Return the canonical form of an address, or refuse it naming the field."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise InvalidInput(str(error), field) from None


def record_audit(kind: str, *, actor_id: int | None = None, subject_id: int | None = None,
                 ip: str | None = None, **detail: Any) -> None:
    """Add an audit event to the current transaction; the caller commits."""
    db.session.add(AuditEvent(kind=kind, actor_id=actor_id, subject_id=subject_id, ip=ip, detail=detail))


def add_user(email: str, password: str, full_name: str, role: Role) -> User:
    """Stage a new user in the current transaction, refusing bad or taken e-mails."""
    email = normalize_email(email)
    full_name = clean_text(full_name, "full_name", max_length=120, required=_l("Enter your name."))
    passwords.check_strength(password)
    password_hash = passwords.hash_password(password)  # slow on purpose: before any query takes a lock
    if db.session.scalar(sa.select(User.id).where(User.email == email)) is not None:
        raise Conflict(_l("An account with this e-mail already exists."), "email")
    user = User(email=email, full_name=full_name, role=Role(role), password_hash=password_hash)
    db.session.add(user)
    db.session.flush()
    return user


@use_case
def create_user(email: str, password: str, full_name: str, role: Role, *,
                actor: User | None, ip: str | None = None) -> User:
    """Create a staff or brand account (ops, or the command line when actor is None)."""
    if actor is not None and actor.role != Role.OPS:
        raise Forbidden(_l("Only ops staff create accounts."))
    user = add_user(email, password, full_name, role)
    record_audit("user_created", actor_id=actor.id if actor else None, subject_id=user.id,
                 ip=ip, role=str(user.role))
    return user


def authenticate(email: str, password: str, *, ip: str | None, locale: str | None = None,
                 locale_chosen: bool = False) -> User | None:
    """Check a log-in; record the attempt either way and return the user only on success.

    Raises AccountClosed for the former address of a closed account given with its password (closure.py).

    `locale` is the language the browser asks for: saved for a user who never chose one, and saved over their
    old choice when `locale_chosen` (they picked it on this browser before logging in).
    """
    try:
        email = normalize_email(email)
    except InvalidInput:
        email = email.strip().lower()
    with unit_of_work():  # ends the read, releasing the database while argon2 works (slow on purpose)
        found = db.session.execute(sa.select(User.id, User.password_hash).where(User.email == email)).first()
    stored_hash = found.password_hash if found else None
    ok = passwords.verify_password(stored_hash, password)
    # Hashed again (other parameters) before the write begins: argon2 inside it held every writer back.
    new_hash = passwords.hash_password(password) if ok and passwords.needs_rehash(stored_hash) else None
    with unit_of_work():
        user = db.session.get(User, found.id) if found else None
        if ok and user is not None and not user.is_disabled:
            if new_hash is not None and user.password_hash == stored_hash:  # unless it changed meanwhile
                user.password_hash = new_hash
            user.last_login_at = utcnow()
            remember_language(user, locale, chosen=locale_chosen)
            record_audit("login", actor_id=user.id, subject_id=user.id, ip=ip)
            return user
        reason = "disabled" if ok and user is not None else "bad_credentials"
        record_audit("login_failed", subject_id=user.id if user else None, ip=ip, email=email[:254], reason=reason)
    if found is None:
        # An address no account has now: maybe that of an account its owner closed; they are told so.
        closure.check_not_closed(email, password)
    return None


@use_case
def log_out(user: User, *, session_id: int | None, ip: str | None) -> None:
    """End the session the user logs out of, so that no copy of its cookies opens it again."""
    if session_id is not None:
        sessions.end_by_id(session_id, "logout")
    record_audit("logout", actor_id=user.id, subject_id=user.id, ip=ip)


def _person(actor) -> User:
    if getattr(actor, "is_token", False):
        raise Forbidden(_l("API tokens have no log-in sessions."))
    return actor


def list_sessions(actor: User, *, current_session_id: int | None) -> list[sessions.DeviceSession]:
    """Where the actor is logged in: each live session, the one in use first."""
    person = _person(actor)
    return sessions.as_seen_by_owner(sessions.live_sessions(person.id), current_session_id)


@use_case
def end_session(actor: User, session_id: int, *, ip: str | None) -> None:
    """Log one of the actor's own devices out; anyone else's session is not found."""
    person = _person(actor)
    row = sessions.live_session_of(person.id, session_id)
    if row is None:
        raise NotFound(_l("No such session."))
    sessions.end(row, "ended_by_user")
    record_audit("session_ended", actor_id=person.id, subject_id=person.id, ip=ip, session_id=session_id)


@use_case
def end_other_sessions(actor: User, *, current_session_id: int | None, ip: str | None) -> int:
    """Log out every device of the actor but the one in use; return how many."""
    person = _person(actor)
    ended = sessions.end_all(person.id, "ended_by_user", keep_id=current_session_id)
    if ended:
        record_audit("other_sessions_ended", actor_id=person.id, subject_id=person.id, ip=ip, sessions_ended=ended)
    return ended


def change_password(user: User, current_password: str, new_password: str, *, current_session_id: int | None,
                    ip: str | None) -> int:
    """Set a new password for a user who knows the current one; every other device is logged out.

    Returns how many other sessions ended.
    """
    with unit_of_work():  # ends the read, releasing the database while argon2 works (slow on purpose)
        stored_hash = user.password_hash
    if not passwords.verify_password(stored_hash, current_password):
        raise InvalidInput(_l("This is not your current password."), "current_password")
    passwords.check_strength(new_password)
    new_hash = passwords.hash_password(new_password)
    with unit_of_work():
        user.password_hash = new_hash
        ended = sessions.end_all(user.id, "password_changed", keep_id=current_session_id)
        record_audit("password_changed", actor_id=user.id, subject_id=user.id, ip=ip, sessions_ended=ended)
    return ended


@use_case
def change_role(actor: User, user_id: int, role: Role, *, ip: str | None = None) -> User:
    """Give a user another role (ops only); the change is audited."""
    if actor.role != Role.OPS:
        raise Forbidden(_l("Only ops staff change roles."))
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_l("No such user."))
    if user.id == actor.id:
        raise InvalidInput(_l("You cannot change your own role."), "role")
    previous = user.role
    if previous != role:
        user.role = Role(role)
        record_audit("role_changed", actor_id=actor.id, subject_id=user.id, ip=ip,
                     previous=str(previous), role=str(role))
    return user


@use_case
def set_locale(user: User, locale: str) -> None:
    """Save the language the user chose: their pages, notifications and e-mails speak it from now on."""
    if locale not in current_app.config["LANGUAGES"]:
        raise InvalidInput(_l("Unknown language."), "locale")
    user.locale = locale


def list_users(actor: User, *, role: Role | None = None, limit: int = 200) -> list[User]:
    if actor.role != Role.OPS:
        raise Forbidden(_l("Only ops staff list users."))
    query = sa.select(User).order_by(User.id).limit(limit)
    if role is not None:
        query = query.where(User.role == role)
    return list(db.session.scalars(query))


def recent_audit_events(actor: User, *, limit: int = 50, kind: str | None = None) -> list[AuditEvent]:
    if actor.role != Role.OPS:
        raise Forbidden(_l("Only ops staff read the audit log."))
    query = sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if kind:
        query = query.where(AuditEvent.kind == kind)
    return list(db.session.scalars(query))


def users_with_role(role: Role) -> list[User]:
    """Every active account with this role (for alerts that go to all ops, say)."""
    return list(db.session.scalars(sa.select(User).where(User.role == role, User.is_disabled.is_(False))
                                   .order_by(User.id)))


def users_by_id(user_ids: set[int]) -> dict[int, User]:
    if not user_ids:
        return {}
    return {user.id: user for user in db.session.scalars(sa.select(User).where(User.id.in_(user_ids)))}


def get_user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalize_email(email)))


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=RESET_SALT)


def _reset_fingerprint(user: User) -> str:
    # Part of the current hash: once the password changes, older links stop working.
    return user.password_hash[-16:]


@use_case
def request_password_reset(email: str, *, ip: str | None) -> None:
    """E-mail a reset link if the address belongs to an active account; say nothing either way."""
    try:
        user = find_user_by_email(email)
    except InvalidInput:
        return
    if user is None or user.is_disabled:
        return
    token = _reset_serializer().dumps({"user": user.id, "fp": _reset_fingerprint(user)})
    link = url_for("accounts.reset_password", token=token, _external=True)
    minutes = current_app.config["PASSWORD_RESET_MAX_AGE"] // 60
    with in_language_of(user):  # the account's language, not that of whoever typed the address
        subject = gettext("Reset your Marketplace password")
        body = gettext(
            "Hello %(name)s,\n\nSomeone asked to reset the password of your Marketplace account. "
            "To choose a new one, open this link within %(minutes)d minutes:\n\n%(link)s\n\n"
            "If it was not you, ignore this message: your password stays the same.",
            name=user.full_name, minutes=minutes, link=link,
        )
    send_after_commit(user.email, subject, body)
    record_audit("password_reset_requested", subject_id=user.id, ip=ip)


@use_case
def reset_password(token: str, new_password: str, *, ip: str | None) -> User:
    """Set a new password from an e-mailed link; each link works once, and every device is logged out."""
    max_age = current_app.config["PASSWORD_RESET_MAX_AGE"]
    try:
        payload = _reset_serializer().loads(token, max_age=max_age)
    except SignatureExpired:
        raise InvalidInput(_l("This link has expired. Ask for a new one."), "token") from None
    except BadSignature:
        raise InvalidInput(_l("This link is not valid. Ask for a new one."), "token") from None
    passwords.check_strength(new_password)
    new_hash = passwords.hash_password(new_password)  # before any query takes a lock
    user = db.session.get(User, payload.get("user"))
    if user is None or user.is_disabled or payload.get("fp") != _reset_fingerprint(user):
        raise InvalidInput(_l("This link has already been used. Ask for a new one."), "token")
    user.password_hash = new_hash
    ended = sessions.end_all(user.id, "password_reset")  # every device, and so every remember-me cookie
    record_audit("password_reset", actor_id=user.id, subject_id=user.id, ip=ip, sessions_ended=ended)
    return user
