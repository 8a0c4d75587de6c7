"""Meta's customer service windows: when a business may write freely to a customer who wrote first.

WhatsApp: free-form messages (text, media) only within 24 hours of the customer's last message; after that only an
approved template goes out (Graph refuses with 131047). Messenger: any reply within 24 hours of the person's last
message (`RESPONSE`); a person's reply, tagged `HUMAN_AGENT`, within 7 days; nothing after that. Each new message
from the customer opens the window again. The times are the platform's (the webhook's `timestamp`).
"""

from __future__ import annotations

import datetime as dt

from marketplace.routing.channels.graph import HUMAN_AGENT, RESPONSE

SERVICE_WINDOW = dt.timedelta(hours=24)
HUMAN_AGENT_WINDOW = dt.timedelta(days=7)


def whatsapp_window_closes_at(last_inbound_at: dt.datetime | None) -> dt.datetime | None:
    """When free text to this customer stops being allowed; None if they never wrote."""
    return None if last_inbound_at is None else last_inbound_at + SERVICE_WINDOW


def whatsapp_window_open(last_inbound_at: dt.datetime | None, now: dt.datetime) -> bool:
    closes_at = whatsapp_window_closes_at(last_inbound_at)
    return closes_at is not None and now < closes_at


def messenger_reply_mode(last_inbound_at: dt.datetime | None, now: dt.datetime) -> str | None:
    """How a person's reply may go out now: `RESPONSE`, tagged `HUMAN_AGENT`, or None (the window is closed)."""
    if last_inbound_at is None:
        return None
    if now < last_inbound_at + SERVICE_WINDOW:
        return RESPONSE
    if now < last_inbound_at + HUMAN_AGENT_WINDOW:
        return HUMAN_AGENT
    return None
