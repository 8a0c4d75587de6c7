"""Payout batches as plain values: their lifecycles, who gets an item, and the keys that make retries safe.

Batch (DESIGN section 3): draft -> approved -> submitting -> paid | partially_failed -> closed, or
cancelled before it is submitted. Item: pending -> submitted -> paid | failed | reversed. The person who
approves a batch is never the one who created it (rule 12). Every call to the payment provider for an item
carries an idempotency key derived from the item and its attempt, never a random one (rule 11): the same
item sent again after a crash gets the provider's first answer instead of a second payment, and only a
deliberate new attempt (after a confirmed failure) gets a new key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

BATCH_TRANSITIONS: dict[str, dict[str, str]] = {
    "approve": {"draft": "approved"},
    "cancel": {"draft": "cancelled", "approved": "cancelled"},
    "submit": {"approved": "submitting"},
    "finish": {"submitting": "paid"},
    "finish_with_failures": {"submitting": "partially_failed"},
    "close": {"paid": "closed", "partially_failed": "closed"},
}

ITEM_TRANSITIONS: dict[str, dict[str, str]] = {
    "submit": {"pending": "submitted"},
    "pay": {"submitted": "paid"},
    "fail": {"submitted": "failed", "pending": "failed"},
    "reverse": {"paid": "reversed"},
}

ITEM_DONE = frozenset({"paid", "failed", "reversed"})


class PayoutError(ValueError):
    """A payout step the rules do not allow; `field` names the input at fault when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def next_batch_status(action: str, current: str) -> str:
    """The batch's status after `action`, or PayoutError when the lifecycle does not allow it."""
    moved = BATCH_TRANSITIONS.get(action, {}).get(current)
    if moved is None:
        raise PayoutError(f"a {current} batch cannot {action.replace('_', ' ')}")
    return moved


def next_item_status(action: str, current: str) -> str:
    moved = ITEM_TRANSITIONS.get(action, {}).get(current)
    if moved is None:
        raise PayoutError(f"a {current} item cannot {action}")
    return moved


def check_approver(created_by: int, approver: int) -> None:
    """Rule 12: four eyes on every batch."""
    if created_by == approver:
        raise PayoutError("The person who created a batch cannot approve it: ask another finance user.")


def batch_outcome(item_statuses: list[str]) -> str | None:
    """How a submitting batch ends once every item is done: paid, or partially_failed; None while any runs."""
    if not item_statuses or any(status not in ITEM_DONE for status in item_statuses):
        return None
    return "finish" if all(status == "paid" for status in item_statuses) else "finish_with_failures"


def idempotency_key(item_id: int, attempt: int) -> str:
    """The provider call's key for one attempt at one item: stable across crashes and restarts."""
    if item_id <= 0 or attempt <= 0:
        raise PayoutError("items and attempts are numbered from 1")
    digest = hashlib.sha256(f"payout-item:{item_id}:attempt:{attempt}".encode()).hexdigest()[:32]
    return f"payout-{item_id}-{attempt}-{digest}"


@dataclass(frozen=True)
class Draft:
    """Who a new batch pays: expert id -> cents, and who is carried forward (under the minimum) or left out."""

    items: dict[int, int]
    carried_forward: dict[int, int]
    not_ready: dict[int, int]  # payable, but no verified payout details


def draft_items(payable: Mapping[int, int], minimum_cents: int, ready: set[int]) -> Draft:
    """Split the experts' payable amounts: paid now, carried to the next batch (below the minimum), or
    waiting for payout details (no connected account with transfers, nor a valid IBAN)."""
    if isinstance(minimum_cents, bool) or not isinstance(minimum_cents, int) or minimum_cents < 0:
        raise PayoutError("The minimum is a whole number of cents, 0 or more.", "minimum_cents")
    items, carried, not_ready = {}, {}, {}
    for expert_id, cents in sorted(payable.items()):
        if cents <= 0:
            continue
        if expert_id not in ready:
            not_ready[expert_id] = cents
        elif cents < minimum_cents:
            carried[expert_id] = cents
        else:
            items[expert_id] = cents
    return Draft(items, carried, not_ready)
