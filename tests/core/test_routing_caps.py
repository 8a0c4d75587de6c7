"""The door's caps as plain values: a conversation let in counts once, whether it waits or was accepted."""

from __future__ import annotations

from marketplace.core.routing import Caps, Usage, door_refusal


def caps(**limits) -> Caps:
    return Caps(limits.get("max_concurrent"), limits.get("daily_cap"), limits.get("monthly_budget_cents"),
                limits.get("rate_cents", 250))


def test_an_accepted_chat_still_open_counts_once_against_the_daily_cap():
    # 7 a day: 3 accepted and still under way, 3 waiting. One more fits; the one after does not.
    assert door_refusal(caps(daily_cap=7), Usage(6, 0, 3, 750, accepted_open=3)) is None
    assert door_refusal(caps(daily_cap=7), Usage(7, 0, 3, 750, accepted_open=3)) == "daily_cap"


def test_an_accepted_chat_still_open_counts_once_against_the_monthly_budget():
    # 1,000 cents at 250 a chat: 2 accepted (500 committed) and under way, 1 waiting. One more fits.
    assert door_refusal(caps(monthly_budget_cents=1_000), Usage(3, 0, 2, 500, accepted_open=2)) is None
    assert door_refusal(caps(monthly_budget_cents=1_000), Usage(4, 0, 2, 500, accepted_open=2)) == "monthly_budget"


def test_chats_accepted_and_closed_count_through_the_days_figures():
    assert door_refusal(caps(daily_cap=7), Usage(0, 0, 7, 0)) == "daily_cap"
    assert door_refusal(caps(daily_cap=7), Usage(0, 0, 6, 0)) is None


def test_max_concurrent_counts_every_open_conversation():
    assert door_refusal(caps(max_concurrent=5), Usage(5, 0, 0, 0, accepted_open=5)) == "max_concurrent"
    assert door_refusal(caps(max_concurrent=5), Usage(4, 0, 0, 0, accepted_open=4)) is None
