"""The router's rules as plain values: opening hours, demand caps, queue order and wait estimates.

The router's SQL applies the same orders (`queue_key`, `expert_key`); tests check both against each other.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Offer: pending -> accepted | declined | expired | rescinded (a conversation's lifecycle: core/lifecycles.py).
OFFER_TRANSITIONS: dict[str, dict[str, str]] = {
    "accept": {"pending": "accepted"},
    "decline": {"pending": "declined"},
    "expire": {"pending": "expired"},
    "rescind": {"pending": "rescinded"},
}


def parse_hours(hours: Mapping[str, Sequence[Sequence[str]]] | None) -> dict[str, list[tuple[dt.time, dt.time]]]:
    """Check opening hours given as {"mon": [["09:00", "18:00"]], ...}; raise ValueError naming the day."""
    if hours is None:
        return {}
    if not isinstance(hours, Mapping):
        raise ValueError("opening hours must map weekdays to lists of [opens, closes]")
    parsed: dict[str, list[tuple[dt.time, dt.time]]] = {}
    for day, ranges in hours.items():
        if day not in WEEKDAYS:
            raise ValueError(f"{day!r} is not a weekday (use {', '.join(WEEKDAYS)})")
        parsed[day] = []
        for pair in ranges:
            if len(pair) != 2:
                raise ValueError(f"{day}: each range is [opens, closes]")
            try:
                opens, closes = (dt.time.fromisoformat(value) for value in pair)
            except (TypeError, ValueError):
                raise ValueError(f"{day}: times are HH:MM") from None
            if closes <= opens and closes != dt.time(0):
                raise ValueError(f"{day}: {pair[0]}-{pair[1]} closes before it opens")
            parsed[day].append((opens, closes))
    return parsed


def hours_from_text(text: str | None) -> list[list[str]]:
    """Read a day's hours as people write them, "09:00-12:00, 14:00-18:00", as [[opens, closes], ...].

    Empty means closed that day. Raises ValueError saying what to write; `parse_hours` checks the times.
    """
    ranges = []
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        opens, dash, closes = part.replace("–", "-").partition("-")
        if not dash:
            raise ValueError("write each range as 09:00-18:00")
        ranges.append([_hhmm(opens), _hhmm(closes)])
    return ranges


def _hhmm(text: str) -> str:
    text = text.strip().replace("h", ":").replace(".", ":")
    hours, _, minutes = text.partition(":")
    if not hours.isdigit() or (minutes and not minutes.isdigit()) or int(hours) > 24 or int(minutes or 0) > 59:
        raise ValueError(f"{text or '?'} is not a time such as 09:00")
    if int(hours) == 24 and int(minutes or 0) == 0:
        return "00:00"  # midnight at the end of the day
    return f"{int(hours):02d}:{int(minutes or 0):02d}"


def hours_to_text(ranges: Sequence[Sequence[str]]) -> str:
    """The ranges as people write them; a range that closes at midnight reads 24:00, not 00:00."""
    return ", ".join(f"{opens}-{'24:00' if closes == '00:00' else closes}" for opens, closes in ranges)


def is_open(hours: Mapping[str, Sequence[Sequence[str]]] | None, local: dt.datetime) -> bool:
    """Whether the brand takes chats at `local` (its own timezone); no hours at all means always open."""
    if hours is None:
        return True
    ranges = parse_hours(hours).get(WEEKDAYS[local.weekday()], [])
    now = local.time()
    return any(opens <= now and (now < closes or closes == dt.time(0)) for opens, closes in ranges)


@dataclass(frozen=True)
class Caps:
    max_concurrent: int | None
    daily_cap: int | None
    monthly_budget_cents: int | None
    rate_cents: int  # the price of an answered chat on the rate card in effect now
    max_active_experts: int | None = None
    expert_concurrency: int = 1  # the seats one expert holds for the brand


@dataclass(frozen=True)
class Usage:
    open_conversations: int  # waiting, offered and active
    pending_offers: int
    day_accepted: int
    month_committed_cents: int
    # Live conversations already accepted (active, or handed back to the queue since): day_accepted and
    # month_committed_cents hold them already (or they were accepted before the day or month began), so the door
    # must not count them again.
    accepted_open: int = 0


def door_refusal(caps: Caps, usage: Usage) -> str | None:
    """Which cap a new conversation would break, or None when it may come in and wait.

    A conversation let in could be accepted, so it counts against the day's cap and the month's
    budget as if it were (the others still waiting or offered count the same way; those already accepted
    count once, as accepted).
    """
    if caps.max_concurrent is not None and usage.open_conversations + 1 > caps.max_concurrent:
        return "max_concurrent"
    if caps.max_active_experts is not None and (
        usage.open_conversations + 1 > caps.max_active_experts * caps.expert_concurrency
    ):
        return "max_active_experts"  # the experts it may use could not all hold it
    could_be_accepted = usage.open_conversations - usage.accepted_open + 1  # the waiting, the offered, this one
    if caps.daily_cap is not None and usage.day_accepted + could_be_accepted > caps.daily_cap:
        return "daily_cap"
    if caps.monthly_budget_cents is not None and (
        usage.month_committed_cents + could_be_accepted * caps.rate_cents > caps.monthly_budget_cents
    ):
        return "monthly_budget"
    return None


def may_go_live(caps: Caps, usage: Usage) -> bool:
    """Whether a conversation already accepted once may be live again (its visitor is back): a place in the brand's
    `max_concurrent`, and in what its experts may hold. The day's cap and the month's budget counted it already."""
    if caps.max_concurrent is not None and usage.open_conversations + 1 > caps.max_concurrent:
        return False
    return caps.max_active_experts is None or (
        usage.open_conversations + 1 <= caps.max_active_experts * caps.expert_concurrency)


def may_offer(caps: Caps, usage: Usage) -> bool:
    """Whether one more offer could be accepted without passing the day's cap or the month's budget."""
    if caps.daily_cap is not None and usage.day_accepted + usage.pending_offers + 1 > caps.daily_cap:
        return False
    return caps.monthly_budget_cents is None or (
        usage.month_committed_cents + (usage.pending_offers + 1) * caps.rate_cents <= caps.monthly_budget_cents
    )


def may_accept(caps: Caps, usage: Usage, price_cents: int) -> bool:
    """Whether a pending offer may become an accepted chat at `price_cents` (caps may have been lowered since)."""
    if caps.daily_cap is not None and usage.day_accepted + 1 > caps.daily_cap:
        return False
    return caps.monthly_budget_cents is None or usage.month_committed_cents + price_cents <= caps.monthly_budget_cents


def within_budget(budget_cents: int | None, committed_cents: int, price_cents: int) -> bool:
    """Whether spending `price_cents` more keeps the month's committed spend within the budget (None: no budget)."""
    return budget_cents is None or committed_cents + price_cents <= budget_cents


def queue_key(priority: int, queued_at: dt.datetime, conversation_id: int) -> tuple:
    """Rule 5: higher priority first, then the one waiting longest."""
    return (-priority, queued_at, conversation_id)


def expert_key(load: int, last_offered_at: dt.datetime | None, expert_id: int) -> tuple:
    """Rule 5: the least loaded first, then the one idle longest (never offered counts as idlest)."""
    return (load, last_offered_at is not None, last_offered_at or dt.datetime.min.replace(tzinfo=dt.UTC), expert_id)


def estimate_wait_seconds(position: int, free_seats: int, experts_online: int, mean_seconds_to_accept: float,
                          mean_handle_seconds: float) -> int | None:
    """A visitor's expected wait at `position` (1 = next); None when nobody is online to answer.

    Those within the free seats are offered at once; the rest wait for seats to free up, which on
    average happens every handle time divided by the seats the online experts hold.
    """
    if position <= 0:
        return 0
    if experts_online <= 0:
        return None
    if position <= free_seats:
        return math.ceil(mean_seconds_to_accept)
    seats = max(experts_online, 1)
    behind = position - free_seats
    return math.ceil(mean_seconds_to_accept + behind * mean_handle_seconds / seats)
