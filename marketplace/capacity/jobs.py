"""Scheduled work of the planner: the scaling loop every minute (it refreshes stale forecasts itself), and
open shifts for the coming days' gaps every hour."""

from __future__ import annotations

from marketplace.capacity import planning, pool
from marketplace.scheduler import Job

SCALE = Job("capacity-scale", pool.scale_all, "interval", {"seconds": 60})
PUBLISH = Job("capacity-publish", planning.publish_all_open_slots, "interval", {"minutes": 60})
