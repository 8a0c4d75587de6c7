"""The ledger's rules as plain values: whole cents, balanced transactions, reversals, and its invariants."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.core import ledger
from marketplace.core.ledger import Account, Entry, LedgerError, Transaction
from marketplace.core.rates import commission_cents


def test_an_answered_chat_splits_the_price_between_expert_and_platform():
    made = ledger.earning(brand_id=1, expert_id=7, price_cents=200, commission_cents=40, bonus_cents=50)
    assert {str(e.account): e.amount_cents for e in made.entries} == {
        "brand_receivable:1": 250, "expert_held:7": -210, "platform_commission": -40}


def test_money_moves_from_held_to_payable_to_in_transit_to_paid():
    moves = [ledger.earning(1, 7, 200, 40), ledger.release(7, 160), ledger.payout_submitted(7, 160),
             ledger.payout_paid(7, 160)]
    totals = ledger.balances(e for t in moves for e in t.entries)
    assert totals[Account("expert_held", 7)] == 0
    assert totals[Account("expert_payable", 7)] == 0
    assert totals[Account("expert_in_transit", 7)] == 0
    assert totals[Account("cash")] == -160
    assert totals[Account("brand_receivable", 1)] == 200
    assert ledger.owed_to(totals[Account("platform_commission")]) == 40


def test_a_failed_payout_makes_the_money_payable_again():
    moves = [ledger.earning(1, 7, 200, 40), ledger.release(7, 160), ledger.payout_submitted(7, 160),
             ledger.payout_failed(7, 160)]
    totals = ledger.balances(e for t in moves for e in t.entries)
    assert ledger.owed_to(totals[Account("expert_payable", 7)]) == 160
    assert totals[Account("expert_in_transit", 7)] == 0


def test_a_correction_is_a_reversal_never_an_edit():
    original = ledger.earning(1, 7, 200, 40)
    undone = ledger.reversal(11, original)
    assert undone.reverses == 11
    assert all(v == 0 for v in ledger.balances([*original.entries, *undone.entries]).values())
    with pytest.raises(LedgerError):
        ledger.reversal(12, undone)


@pytest.mark.parametrize("amount", [0, -5, 1.5, True, "100"])
def test_movements_refuse_what_is_not_a_positive_whole_number_of_cents(amount):
    with pytest.raises(LedgerError):
        ledger.release(7, amount)


def test_unbalanced_or_fractional_transactions_are_refused():
    with pytest.raises(LedgerError, match="sum to 1"):
        Transaction("x", (Entry(Account("cash"), 5), Entry(Account("fees"), -4)))
    with pytest.raises(LedgerError, match="whole cents"):
        Transaction("x", (Entry(Account("cash"), 0.5), Entry(Account("fees"), -0.5)))
    with pytest.raises(LedgerError, match="at least two"):
        Transaction("x", (Entry(Account("cash"), 0),))
    with pytest.raises(LedgerError):
        ledger.earning(1, 7, 100, 150)


def test_accounts_are_known_and_owned_as_they_should_be():
    with pytest.raises(LedgerError):
        Account("expert_held")
    with pytest.raises(LedgerError):
        Account("cash", 3)
    with pytest.raises(LedgerError):
        Account("petty_cash")


def test_the_invariant_check_names_every_breach():
    good = {1: ledger.earning(1, 7, 200, 40), 2: ledger.release(7, 160)}
    assert ledger.invariant_breaches(good) == []
    overdrawn = {**good, 3: ledger.payout_submitted(7, 500)}
    assert ledger.invariant_breaches(overdrawn) == ["expert_payable:7 is owed -340 EUR (below zero)"]
    assert ledger.invariant_breaches(good, ids_reversed=[1, 1, 9]) == [
        "transaction 1 is reversed twice", "a reversal points at transaction 9, which does not exist"]


@given(st.lists(st.tuples(st.integers(0, 100_000), st.integers(0, 10_000), st.integers(0, 5_000)), max_size=40))
def test_any_earnings_and_releases_keep_the_ledger_at_zero(chats):
    transactions = {}
    for index, (price, bps, bonus) in enumerate(chats, start=1):
        commission = commission_cents(price, bps)
        if price + bonus == 0:
            continue
        transactions[2 * index] = ledger.earning(1, 7, price, commission, bonus)
        if price + bonus - commission:
            transactions[2 * index + 1] = ledger.release(7, price + bonus - commission)
    assert ledger.invariant_breaches(transactions) == []
    everything = [e for t in transactions.values() for e in t.entries]
    assert sum(e.amount_cents for e in everything) == 0


def test_each_currency_balances_on_its_own():
    mixed = {1: ledger.earning(1, 7, 200, 40, currency="EUR"), 2: ledger.earning(2, 7, 300, 60, currency="CHF"),
             3: ledger.release(7, 160, currency="EUR"), 4: ledger.release(7, 240, currency="CHF")}
    assert ledger.invariant_breaches(mixed) == []
    overpaid = {**mixed, 5: ledger.payout_submitted(7, 300, currency="EUR")}  # 300 EUR from 160 EUR payable
    assert ledger.invariant_breaches(overpaid) == ["expert_payable:7 is owed -140 EUR (below zero)"]
    with pytest.raises(LedgerError, match="ISO 4217"):
        ledger.release(7, 100, currency="euro")
