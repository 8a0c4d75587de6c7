"""Log-in sessions kept on the server.

Each log-in is a `UserSession` row; the session cookie and the remember-me cookie carry its secret instead of
the user's id, so ending the row (log-out, a password change, the user on their sessions page) logs that device
out everywhere, copied cookies included. These helpers leave the transaction to the caller unless they say so.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext

from marketplace.accounts.models import User, UserSession
from marketplace.core.text import strip_control_characters
from marketplace.database import db, unit_of_work, use_case, utcnow

TOUCH_EVERY = dt.timedelta(minutes=5)  # last seen is this coarse: a busy page does not write on every request
KEEP_ENDED = dt.timedelta(days=30)  # ended or expired rows are deleted after this long
SECRET_MAX_LENGTH = 100
USER_AGENT_LENGTH = 200

# The first token found names the browser or system: order matters (Edge says "Chrome", an iPhone "Mac OS X").
BROWSERS = [("Edg/", "Edge"), ("OPR/", "Opera"), ("FxiOS/", "Firefox"), ("Firefox/", "Firefox"),
            ("CriOS/", "Chrome"), ("Chrome/", "Chrome"), ("Safari/", "Safari")]
SYSTEMS = [("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"), ("Windows", "Windows"),
           ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux")]


@dataclass(frozen=True)
class StartedSession:
    id: int
    secret: str  # for the cookies only: never stored, never shown


@dataclass(frozen=True)
class DeviceSession:
    """One of a person's live sessions as they see it."""

    id: int
    device: str
    user_agent: str
    ip: str | None
    created_at: dt.datetime
    last_seen_at: dt.datetime
    expires_at: dt.datetime
    remembered: bool
    current: bool


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def clean_user_agent(user_agent: str | None) -> str:
    """The browser's User-Agent on one line, without control characters, short enough to keep."""
    return " ".join(strip_control_characters(user_agent or "").split())[:USER_AGENT_LENGTH]


def device_name(user_agent: str) -> str:
    """"Firefox on Linux", or what can be told of the device, in the reader's language."""
    browser = next((name for token, name in BROWSERS if token in user_agent), None)
    system = next((name for token, name in SYSTEMS if token in user_agent), None)
    if browser and system:
        return gettext("%(browser)s on %(system)s", browser=browser, system=system)
    return browser or system or gettext("Unknown device")


@use_case
def start(user: User, *, remembered: bool, lasts: dt.timedelta, user_agent: str | None,
          ip: str | None) -> StartedSession:
    """Open a session for a user who just logged in and commit it; return its id and secret."""
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    row = UserSession(user_id=user.id, secret_hash=hash_secret(secret), remembered=remembered, created_at=now,
                      last_seen_at=now, expires_at=now + lasts, user_agent=clean_user_agent(user_agent),
                      ip=ip[:45] if ip else None)
    db.session.add(row)
    db.session.flush()
    return StartedSession(row.id, secret)


def find_live(secret: str, *, idle: dt.timedelta) -> tuple[UserSession, User] | None:
    """The live session this secret opens and its user, or None.

    A visit is noted at most every TOUCH_EVERY, and pushes the end of the session to at least `idle` from now.
    """
    if not secret or len(secret) > SECRET_MAX_LENGTH:
        return None
    found = db.session.execute(
        sa.select(UserSession, User).join(User, User.id == UserSession.user_id)
        .where(UserSession.secret_hash == hash_secret(secret))
    ).first()
    now = utcnow()
    if found is None or not found.UserSession.is_live(now):
        return None
    row, user = found.UserSession, found.User
    if now - row.last_seen_at >= TOUCH_EVERY:
        with unit_of_work():
            row.last_seen_at = now
            row.expires_at = max(row.expires_at, now + idle)
    return row, user


def live_sessions(user_id: int) -> list[UserSession]:
    now = utcnow()
    return list(db.session.scalars(
        sa.select(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None), UserSession.expires_at > now)
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    ))


def live_session_of(user_id: int, session_id: int) -> UserSession | None:
    """The user's own live session with this id; None for anyone else's, as for one that does not exist."""
    row = db.session.get(UserSession, session_id)
    if row is None or row.user_id != user_id or not row.is_live(utcnow()):
        return None
    return row


def end(row: UserSession, reason: str) -> None:
    if row.ended_at is None:
        row.ended_at = utcnow()
        row.end_reason = reason


def end_by_id(session_id: int, reason: str) -> None:
    row = db.session.get(UserSession, session_id)
    if row is not None:
        end(row, reason)


def end_all(user_id: int, reason: str, *, keep_id: int | None = None) -> int:
    """End every live session of the user, but `keep_id` if given; return how many ended."""
    now = utcnow()
    query = (sa.update(UserSession)
             .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None), UserSession.expires_at > now)
             .values(ended_at=now, end_reason=reason))
    if keep_id is not None:
        query = query.where(UserSession.id != keep_id)
    return db.session.execute(query).rowcount


def as_seen_by_owner(rows: list[UserSession], current_id: int | None) -> list[DeviceSession]:
    """The sessions as their owner sees them: the one they are using first."""
    seen = [DeviceSession(row.id, device_name(row.user_agent), row.user_agent, row.ip, row.created_at,
                          row.last_seen_at, row.expires_at, row.remembered, row.id == current_id) for row in rows]
    return sorted(seen, key=lambda session: not session.current)


@use_case
def purge(now: dt.datetime | None = None) -> int:
    """Delete the sessions that ended or expired more than KEEP_ENDED ago; commit and return how many."""
    cutoff = (now or utcnow()) - KEEP_ENDED
    return db.session.execute(
        sa.delete(UserSession).where(sa.or_(UserSession.ended_at < cutoff, UserSession.expires_at < cutoff)),
        execution_options={"synchronize_session": False},
    ).rowcount
