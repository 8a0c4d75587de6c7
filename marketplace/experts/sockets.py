"""Socket.IO handlers for experts: the phone's heartbeat and the status bar's switch."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_login import current_user

from marketplace.accounts.models import Role
from marketplace.errors import DomainError
from marketplace.experts import presence


def on_heartbeat(data: object = None) -> dict:
    """Keep the expert's presence alive; answer with their state so the page can show it."""
    if not current_user.is_authenticated or current_user.is_token or current_user.role != Role.EXPERT:
        return {"error": "not an expert"}
    try:
        info = presence.heartbeat(current_user)
    except DomainError as error:
        return {"error": str(error.message)}
    return info.as_event()


def on_presence_set(data: object = None) -> dict:
    """Go online (`available`), pause new chats (`away`) or go `offline` from the status bar of any page."""
    if not current_user.is_authenticated or current_user.is_token or current_user.role != Role.EXPERT:
        return {"error": "not an expert"}
    status = data.get("status") if isinstance(data, dict) else None
    change = {"available": presence.go_online, "away": presence.pause, "offline": presence.go_offline}.get(status)
    if change is None:
        return {"error": str(_l("Choose available, away or offline.")), "field": "status"}
    try:
        info = change(current_user)
    except DomainError as error:
        return {"error": str(error.message)}
    return info.as_event()
