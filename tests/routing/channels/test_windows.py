"""Meta's service windows: 24 hours for free text; 7 days for a person's tagged reply on Messenger."""

from __future__ import annotations

import datetime as dt

from marketplace.routing.channels.windows import (
    messenger_reply_mode,
    whatsapp_window_closes_at,
    whatsapp_window_open,
)

WROTE = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)


def test_the_whatsapp_window_closes_24_hours_after_the_customers_last_message():
    assert whatsapp_window_closes_at(WROTE) == dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)
    assert whatsapp_window_open(WROTE, WROTE + dt.timedelta(hours=23, minutes=59)) is True
    assert whatsapp_window_open(WROTE, WROTE + dt.timedelta(hours=24)) is False


def test_a_customer_who_never_wrote_has_no_window():
    assert whatsapp_window_closes_at(None) is None
    assert whatsapp_window_open(None, WROTE) is False
    assert messenger_reply_mode(None, WROTE) is None


def test_messenger_replies_go_as_responses_then_tagged_human_agent_then_not_at_all():
    assert messenger_reply_mode(WROTE, WROTE + dt.timedelta(hours=23)) == "RESPONSE"
    assert messenger_reply_mode(WROTE, WROTE + dt.timedelta(hours=25)) == "HUMAN_AGENT"
    assert messenger_reply_mode(WROTE, WROTE + dt.timedelta(days=6, hours=23)) == "HUMAN_AGENT"
    assert messenger_reply_mode(WROTE, WROTE + dt.timedelta(days=7)) is None
