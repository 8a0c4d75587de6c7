"""Payout batches as plain values: lifecycles, four eyes, stable idempotency keys, who gets an item."""

from __future__ import annotations

import pytest

from marketplace.core.payouts import (
    PayoutError,
    batch_outcome,
    check_approver,
    draft_items,
    idempotency_key,
    next_batch_status,
    next_item_status,
)


def test_a_batch_goes_from_draft_to_closed_and_never_backwards():
    status = "draft"
    for action in ("approve", "submit", "finish", "close"):
        status = next_batch_status(action, status)
    assert status == "closed"
    with pytest.raises(PayoutError, match="a paid batch cannot submit"):
        next_batch_status("submit", "paid")  # re-submitting a paid batch
    with pytest.raises(PayoutError):
        next_batch_status("cancel", "submitting")  # too late: money may be moving
    assert next_batch_status("cancel", "approved") == "cancelled"


def test_items_are_submitted_once_and_end_paid_failed_or_reversed():
    assert next_item_status("pay", next_item_status("submit", "pending")) == "paid"
    assert next_item_status("reverse", "paid") == "reversed"
    with pytest.raises(PayoutError):
        next_item_status("submit", "submitted")
    with pytest.raises(PayoutError):
        next_item_status("pay", "failed")


def test_the_creator_of_a_batch_cannot_approve_it():
    with pytest.raises(PayoutError, match="cannot approve"):
        check_approver(5, 5)
    check_approver(5, 6)


def test_a_batch_ends_paid_only_when_every_item_is_paid():
    assert batch_outcome(["paid", "paid"]) == "finish"
    assert batch_outcome(["paid", "failed"]) == "finish_with_failures"
    assert batch_outcome(["paid", "submitted"]) is None
    assert batch_outcome([]) is None


def test_idempotency_keys_are_stable_per_item_and_attempt_and_never_shared():
    assert idempotency_key(12, 1) == idempotency_key(12, 1)
    keys = {idempotency_key(item, attempt) for item in range(1, 200) for attempt in range(1, 4)}
    assert len(keys) == 199 * 3
    assert idempotency_key(12, 1).startswith("payout-12-1-")
    with pytest.raises(PayoutError):
        idempotency_key(0, 1)


def test_a_draft_pays_the_ready_carries_small_amounts_forward_and_waits_for_payout_details():
    draft = draft_items({1: 5_000, 2: 300, 3: 8_000, 4: 0}, minimum_cents=1_000, ready={1, 2, 4})
    assert draft.items == {1: 5_000}
    assert draft.carried_forward == {2: 300}
    assert draft.not_ready == {3: 8_000}
    with pytest.raises(PayoutError) as refused:
        draft_items({}, minimum_cents=-1, ready=set())
    assert refused.value.field == "minimum_cents"
