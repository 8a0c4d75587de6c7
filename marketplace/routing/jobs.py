"""Scheduled work of the router: expire offers and re-route (the safety net), end stale conversations, and record
who was passed over each hour."""

from __future__ import annotations

from flask import Flask

from marketplace.routing.door import departures
from marketplace.routing.router import decisions, loads, offers, passed_over
from marketplace.scheduler import Job


def sweep_offers() -> dict[str, int]:
    """Expire offers past their time, give new experts a load row, route whatever still waits, and notice
    active chats whose visitor has gone."""
    expired = offers.expire_offers()
    loads.ensure_available_loads()
    return {"expired": expired, "routed": decisions.route_all(), "visitor_gone": departures.notice_gone_visitors()}


def sweep_conversations() -> dict[str, int]:
    return departures.sweep()


def jobs(app: Flask) -> list[Job]:
    every = app.config["ROUTING_SWEEP_SECONDS"]
    return [
        Job("routing-sweep", sweep_offers, "interval", {"seconds": every}),
        Job("conversation-sweep", sweep_conversations, "interval", {"seconds": 10}),
        # A few minutes past each hour: the hour's offers are all made (and recorded) by then.
        Job("routing-not-offered", passed_over.record_recent_hours, "cron", {"minute": 3}),
    ]
