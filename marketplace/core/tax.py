"""French tax duties of the platform as plain values: when a credited amount counts as paid, quarters, and the
dated ceilings (micro-entrepreneur, VAT franchise) an expert's year is measured against.

Payouts pay an expert's payable balance as a whole, not earning by earning, so which earning a payment paid is
read first in, first out: the amounts credited to the expert (released earnings and FAQ credits, in the order they
were released) are paid by the expert's paid payouts in the order they were paid. An amount counts as paid on the
day of the first payout that brings the total paid up to the total credited through it; one not yet covered is not
paid yet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

WARNING_PERCENT = 80  # an expert is warned once their year reaches this share of a ceiling


@dataclass(frozen=True)
class Credited:
    """An amount credited to the expert's payable balance: `net_cents` of it is theirs."""

    key: Hashable
    credited_at: dt.datetime
    net_cents: int


@dataclass(frozen=True)
class Payment:
    paid_at: dt.datetime
    cents: int


def paid_on(credited: Iterable[Credited], payments: Iterable[Payment]) -> dict[Hashable, dt.datetime]:
    """When each credited amount was paid (first in, first out), for those a payment covered."""
    queue = sorted(payments, key=lambda payment: payment.paid_at)
    found: dict[Hashable, dt.datetime] = {}
    owed = paid = 0
    index = 0
    for item in sorted(credited, key=lambda item: item.credited_at):
        owed += item.net_cents
        while paid < owed and index < len(queue):
            paid += queue[index].cents
            index += 1
        if paid < owed:
            break  # nothing later is paid either: payments pay the oldest money first
        found[item.key] = queue[index - 1].paid_at if index else item.credited_at
    return found


def quarter(day: dt.date) -> int:
    """The calendar quarter of a day, 1 to 4."""
    return (day.month - 1) // 3 + 1


@dataclass(frozen=True)
class Threshold:
    """A ceiling's amount in force from `effective_from` on (until the next one of its kind)."""

    kind: str
    effective_from: dt.date
    amount_cents: int
    currency: str = "EUR"


def in_force(thresholds: Sequence[Threshold], kind: str, day: dt.date) -> Threshold | None:
    """The ceiling of `kind` in force on `day`: the latest to take effect on or before it."""
    found = [item for item in thresholds if item.kind == kind and item.effective_from <= day]
    return max(found, key=lambda item: item.effective_from) if found else None


@dataclass(frozen=True)
class CeilingStatus:
    threshold: Threshold
    year_cents: int

    @property
    def percent(self) -> int:
        return self.year_cents * 100 // self.threshold.amount_cents if self.threshold.amount_cents else 0

    @property
    def level(self) -> str | None:
        """"passed" past the ceiling, "near" from WARNING_PERCENT of it on, else None."""
        if self.year_cents > self.threshold.amount_cents:
            return "passed"
        if self.year_cents * 100 >= self.threshold.amount_cents * WARNING_PERCENT:
            return "near"
        return None


def ceilings(thresholds: Sequence[Threshold], kinds: Iterable[str], day: dt.date, year_cents: int,
             currency: str = "EUR") -> list[CeilingStatus]:
    """The warnings due for a year's amount, measured against each kind's ceiling in force on `day`."""
    statuses = []
    for kind in kinds:
        threshold = in_force(thresholds, kind, day)
        if threshold is not None and threshold.currency == currency:
            status = CeilingStatus(threshold, year_cents)
            if status.level:
                statuses.append(status)
    return statuses
