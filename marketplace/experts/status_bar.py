"""The status bar on every expert page: presence, the online/away switch, and how often the page beats.

One mechanism holds the expert's presence whatever page is open (marketplace/static/js/expert_app.js): the
bar tells it the state at render time and the heartbeat interval, well inside PRESENCE_GRACE_SECONDS.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request
from flask_login import current_user

from marketplace.accounts.models import Role
from marketplace.errors import NotFound
from marketplace.experts import presence
from marketplace.experts import services as experts
from marketplace.experts.models import ExpertStatus

MAX_HEARTBEAT_SECONDS = 25


@dataclass(frozen=True)
class StatusBar:
    status: str
    away_reason: str | None
    heartbeat_seconds: float


def heartbeat_seconds(grace_seconds: int) -> float:
    """Beat at least three times per grace period (a throttled background tab may skip one), 25 s at most."""
    return max(0.5, min(MAX_HEARTBEAT_SECONDS, grace_seconds / 3))


def context() -> dict:
    """`status_bar` for an approved expert's pages; nothing for anyone else (or for API calls)."""
    if (request.blueprint or "").endswith("api") or not current_user.is_authenticated:
        return {}
    if current_user.is_token or current_user.role != Role.EXPERT:
        return {}
    try:
        profile = experts.own_profile(current_user)
    except NotFound:
        return {}
    if profile.status != ExpertStatus.APPROVED:
        return {}
    info = presence.presence_of(profile.id)
    grace = current_app.config["PRESENCE_GRACE_SECONDS"]
    return {"status_bar": StatusBar(info.status.value, info.away_reason.value if info.away_reason else None,
                                    heartbeat_seconds(grace))}
