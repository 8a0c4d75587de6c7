"""Rate cards as plain values: which card is in effect on a day, the platform's commission, bonus rules.

A card takes effect at the start of its day in the brand's timezone; the caller turns instants into that
day. Amounts are integer cents; the commission is in basis points and rounds half up, here and only here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

DEFAULT_PRICE_CENTS = 200  # what a new brand pays per answered chat until its admins set a price
DEFAULT_COMMISSION_BPS = 2000  # 20 %
MAX_BONUS_RULES = 5
BONUS_KINDS = {
    # kind: (lowest value, highest value): what the rule's `value` may be
    "rating_at_least": (1, 5),  # the visitor rated the chat at least `value` of 5
    "first_reply_within": (5, 3600),  # the expert's first reply came within `value` seconds of accepting
}


@dataclass(frozen=True)
class BonusRule:
    kind: str
    value: int
    bonus_cents: int

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value, "bonus_cents": self.bonus_cents}


def parse_bonus_rules(rules: Sequence[Mapping[str, Any]] | None) -> list[BonusRule]:
    """Check bonus rules given as [{"kind", "value", "bonus_cents"}]; raise ValueError saying what is wrong."""
    if rules is None:
        return []
    if isinstance(rules, str | bytes) or not isinstance(rules, Sequence):
        raise ValueError("bonus rules are a list")
    if len(rules) > MAX_BONUS_RULES:
        raise ValueError(f"at most {MAX_BONUS_RULES} bonus rules")
    parsed = []
    for number, rule in enumerate(rules, start=1):
        if not isinstance(rule, Mapping):
            raise ValueError(f"rule {number}: give kind, value and bonus_cents")
        kind, value, bonus = rule.get("kind"), rule.get("value"), rule.get("bonus_cents")
        if kind not in BONUS_KINDS:
            raise ValueError(f"rule {number}: kind is one of {', '.join(BONUS_KINDS)}")
        low, high = BONUS_KINDS[kind]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"rule {number}: value is a whole number from {low} to {high}")
        if isinstance(bonus, bool) or not isinstance(bonus, int) or not 1 <= bonus <= 100_000:
            raise ValueError(f"rule {number}: bonus_cents is a whole number from 1 to 100000")
        parsed.append(BonusRule(kind, value, bonus))
    if len({rule.kind for rule in parsed}) != len(parsed):
        raise ValueError("one rule of each kind at most")
    return parsed


def bonus_cents(rules: Sequence[BonusRule], *, rating: int | None, first_reply_seconds: float | None) -> int:
    """The bonus a chat earns under `rules`: the sum of the rules it meets (an unrated chat meets no rating rule)."""
    def met(rule: BonusRule) -> bool:
        if rule.kind == "rating_at_least":
            return rating is not None and rating >= rule.value
        return first_reply_seconds is not None and first_reply_seconds <= rule.value

    return sum(rule.bonus_cents for rule in rules if met(rule))


def commission_cents(price_cents: int, commission_bps: int) -> int:
    """The platform's share of a price, rounded half up to the cent (the one rounding rule for commissions)."""
    if price_cents < 0 or not 0 <= commission_bps <= 10_000:
        raise ValueError("price is >= 0 and commission from 0 to 10000 basis points")
    return (price_cents * commission_bps + 5_000) // 10_000


def expert_share_cents(price_cents: int, commission_bps: int) -> int:
    """What the expert earns of a price before bonuses: the price less the platform's commission."""
    return price_cents - commission_cents(price_cents, commission_bps)


@dataclass(frozen=True)
class Card:
    id: int
    effective_from: dt.date
    cancelled: bool = False


def card_in_effect(cards: Sequence[Card], day: dt.date) -> Card | None:
    """The card in effect on `day`: the latest not cancelled that starts on or before it, else None."""
    live = [card for card in cards if not card.cancelled and card.effective_from <= day]
    return max(live, key=lambda card: (card.effective_from, card.id), default=None)
