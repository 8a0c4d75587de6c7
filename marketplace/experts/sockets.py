"""Socket.IO handlers for experts: the phone's heartbeat."""

from __future__ import annotations

from flask_login import current_user

from marketplace.accounts.models import Role
from marketplace.database import db
from marketplace.errors import DomainError
from marketplace.experts import presence


def on_heartbeat(data: object = None) -> dict:
    """Keep the expert's presence alive; answer with their state so the page can show it."""
    if not current_user.is_authenticated or current_user.is_token or current_user.role != Role.EXPERT:
        return {"error": "not an expert"}
    try:
        info = presence.heartbeat(current_user)
    except DomainError as error:
        db.session.rollback()
        return {"error": str(error.message)}
    return info.as_event()
