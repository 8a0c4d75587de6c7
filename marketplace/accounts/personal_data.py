"""What the accounts domain holds about one person, as their data export lists it."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from marketplace.accounts.models import AuditEvent, User, UserSession
from marketplace.database import db

BANK_DETAILS_READ = "payout_details_read"


def account_of(user: User) -> dict[str, Any]:
    return {"id": user.id, "email": user.email, "full_name": user.full_name, "role": user.role.value,
            "locale": user.locale, "created_at": user.created_at, "last_login_at": user.last_login_at}


def sessions_of(user_id: int) -> list[dict[str, Any]]:
    rows = db.session.scalars(sa.select(UserSession).where(UserSession.user_id == user_id).order_by(UserSession.id))
    return [{"id": row.id, "created_at": row.created_at, "last_seen_at": row.last_seen_at,
             "expires_at": row.expires_at, "ended_at": row.ended_at, "end_reason": row.end_reason,
             "remembered": row.remembered, "user_agent": row.user_agent, "ip": row.ip} for row in rows]


def _event(event: AuditEvent, user_id: int) -> dict[str, Any]:
    """One event about the person; who did it is named by role only when it was someone else (staff)."""
    actor = event.actor
    by = "you" if event.actor_id == user_id else (actor.role.value if actor is not None else "system")
    return {"id": event.id, "created_at": event.created_at, "kind": event.kind, "by": by, "ip": event.ip
            if event.actor_id == user_id else None, "detail": event.detail}


def audit_about(user_id: int, *, kinds: tuple[str, ...] | None = None,
                excluding: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The audit events whose subject is the person, oldest first."""
    query = sa.select(AuditEvent).where(AuditEvent.subject_id == user_id).order_by(AuditEvent.id)
    if kinds is not None:
        query = query.where(AuditEvent.kind.in_(kinds))
    if excluding:
        query = query.where(AuditEvent.kind.not_in(excluding))
    return [_event(event, user_id) for event in db.session.scalars(query)]
