"""Scheduled jobs of the accounts domain."""

from __future__ import annotations

from marketplace.accounts import sessions
from marketplace.scheduler import Job

# Ended and expired log-in sessions are kept a while (a person may ask what was logged out), then deleted.
PURGE_SESSIONS = Job("login-sessions-purge", sessions.purge, "interval", {"hours": 6})
