"""Scheduled jobs of the experts domain."""

from __future__ import annotations

from marketplace.experts import presence
from marketplace.scheduler import Job

SWEEP_PRESENCE = Job("presence-sweep", presence.sweep, "interval", {"seconds": 15})
