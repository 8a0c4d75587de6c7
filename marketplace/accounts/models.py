"""Users, their log-in sessions and the audit log."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from marketplace.database import db, enum_column, utcnow


class Role(enum.StrEnum):
    EXPERT = "expert"
    BRAND = "brand"
    FINANCE = "finance"
    OPS = "ops"


class User(db.Model):
    __tablename__ = "users"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(254), unique=True)
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(255))
    full_name: so.Mapped[str] = so.mapped_column(sa.String(120))
    role: so.Mapped[Role] = so.mapped_column(enum_column(Role, "role"))
    locale: so.Mapped[str | None] = so.mapped_column(sa.String(8))
    is_disabled: so.Mapped[bool] = so.mapped_column(default=False)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    last_login_at: so.Mapped[dt.datetime | None]
    # A closed account's former address, as a keyed digest (accounts/closure.py): its owner logging in with it is
    # told the account is closed, while the address itself is gone.
    erased_email_digest: so.Mapped[str | None] = so.mapped_column(sa.String(64), index=True)

    # What Flask-Login asks of a user (written out so that models import nothing of the web layer).
    is_token = False
    is_anonymous = False
    __hash__ = object.__hash__

    @property
    def is_active(self) -> bool:  # Flask-Login refuses sessions of disabled users
        return not self.is_disabled

    @property
    def is_authenticated(self) -> bool:
        return self.is_active

    def get_id(self) -> str:
        return str(self.id)

    def __eq__(self, other: object) -> bool:
        return self.get_id() == other.get_id() if isinstance(other, User) else NotImplemented

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"


class UserSession(db.Model):
    """One log-in on one device. Its cookies carry a secret of which only the hash is kept here, so ending
    the row logs that device out, whatever copies of its cookies exist."""

    __tablename__ = "user_sessions"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    secret_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    remembered: so.Mapped[bool] = so.mapped_column(default=False)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    last_seen_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    expires_at: so.Mapped[dt.datetime] = so.mapped_column(index=True)
    ended_at: so.Mapped[dt.datetime | None] = so.mapped_column(index=True)
    end_reason: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    user_agent: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    ip: so.Mapped[str | None] = so.mapped_column(sa.String(45))

    def is_live(self, now: dt.datetime) -> bool:
        return self.ended_at is None and self.expires_at > now

    def __repr__(self) -> str:
        return f"<UserSession {self.id} of user {self.user_id}>"


class AuditEvent(db.Model):
    """A security-relevant event: append-only, never edited."""

    __tablename__ = "audit_events"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow, index=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(40), index=True)
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    subject_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    ip: so.Mapped[str | None] = so.mapped_column(sa.String(45))
    detail: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)

    # Read with the events (one more query for a whole list), for pages that name who did what to whom.
    actor: so.Mapped[User | None] = so.relationship(foreign_keys=[actor_id], lazy="selectin", viewonly=True)
    subject: so.Mapped[User | None] = so.relationship(foreign_keys=[subject_id], lazy="selectin", viewonly=True)
