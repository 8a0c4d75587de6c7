"""Scheduled jobs of the experts domain."""

from __future__ import annotations

from flask import Flask

from marketplace.experts import presence
from marketplace.scheduler import Job


def sweep_presence(app: Flask) -> Job:
    """The presence sweep, often enough that a silent phone turns away soon after PRESENCE_GRACE_SECONDS."""
    every = max(1, min(15, app.config["PRESENCE_GRACE_SECONDS"] // 3))
    return Job("presence-sweep", presence.sweep, "interval", {"seconds": every})
