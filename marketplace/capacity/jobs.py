"""Scheduled work of the planner: the scaling loop, every minute (it refreshes stale forecasts itself)."""

from __future__ import annotations

from marketplace.capacity import pool
from marketplace.scheduler import Job

SCALE = Job("capacity-scale", pool.scale_all, "interval", {"seconds": 60})
