"""The ledger check on a real database: every rule it keeps is found broken when it is, named, and a sound
ledger passes (rule 10)."""

from __future__ import annotations

import sqlalchemy as sa

from marketplace.core import ledger
from marketplace.database import db
from marketplace.payouts.ledger import checks
from tests.conftest import committed_database_app
from tests.factories import LedgerTransactionFactory, WrittenLedgerTransactionFactory


def test_a_sound_ledger_passes_and_is_counted(session):
    LedgerTransactionFactory(movement=ledger.earning(1, 2, 250, 50), memo="chat")
    LedgerTransactionFactory(movement=ledger.release(2, 200), memo="release")
    LedgerTransactionFactory(movement=ledger.earning(1, 3, 300, 60, currency="GBP"), memo="chat in pounds")
    session.commit()

    check = checks.check_invariants()

    assert check.breaches == []
    assert (check.transactions, check.entries) == (3, 8)


def test_a_transaction_in_two_currencies_is_found_even_when_each_part_balances(session):
    mixed = WrittenLedgerTransactionFactory(entries=[("cash", None, "EUR", 500), ("fees", None, "EUR", -500),
                                                     ("cash", None, "GBP", 300), ("fees", None, "GBP", -300)]).id
    session.commit()

    assert checks.check_invariants().breaches == [f"transaction {mixed} mixes currencies"]


def test_a_transaction_balanced_only_across_currencies_is_found_and_the_ledger_is_off_in_each(session):
    mixed = WrittenLedgerTransactionFactory(entries=[("cash", None, "EUR", 500), ("fees", None, "GBP", -500)]).id
    session.commit()

    found = checks.check_invariants().breaches

    assert f"transaction {mixed} mixes currencies" in found
    assert "the ledger sums to 500 EUR" in found and "the ledger sums to -500 GBP" in found
    assert not any("sums to" in breach and breach.startswith("transaction") for breach in found)


def test_a_transaction_without_entries_is_found(session):
    LedgerTransactionFactory(movement=ledger.earning(1, 2, 250, 50), memo="chat")
    empty = WrittenLedgerTransactionFactory()
    session.commit()

    assert checks.check_invariants().breaches == [f"transaction {empty.id} has no entries"]


def test_a_lone_entry_is_found_unbalanced(session):
    lone = WrittenLedgerTransactionFactory(entries=[("cash", None, "EUR", 7)]).id
    session.commit()

    found = checks.check_invariants().breaches

    assert f"transaction {lone} sums to 7" in found and f"transaction {lone} has a single entry" in found


def test_an_expert_owed_less_than_nothing_is_found_in_each_account(session):
    WrittenLedgerTransactionFactory(entries=[("expert_payable", 9, "EUR", 120), ("cash", None, "EUR", -120)])
    WrittenLedgerTransactionFactory(entries=[("expert_in_transit", 4, "EUR", 30), ("cash", None, "EUR", -30)])
    session.commit()

    found = checks.check_invariants().breaches

    assert found == ["expert_payable:9 is owed -120 EUR (below zero)",
                     "expert_in_transit:4 is owed -30 EUR (below zero)"]


def test_on_a_committed_database_the_reads_run_at_once_on_their_own_connections_and_find_the_same(tmp_path):
    """Outside the tests' rolled-back transaction the screen's reads run on read-only connections of their own,
    in parallel: they see what was committed and name the same breaches."""
    with committed_database_app("sqlite", tmp_path, "ledger") as app, app.app_context():
        assert isinstance(db.session.get_bind(), sa.Engine)
        LedgerTransactionFactory(movement=ledger.earning(1, 2, 250, 50), memo="chat")
        db.session.commit()
        broken = WrittenLedgerTransactionFactory(entries=[("cash", None, "EUR", 7), ("fees", None, "EUR", -5)]).id
        overdrawn = WrittenLedgerTransactionFactory(
            entries=[("expert_payable", 9, "EUR", 400), ("cash", None, "EUR", -400)]).id
        mixed = WrittenLedgerTransactionFactory(entries=[("cash", None, "EUR", 500), ("fees", None, "EUR", -500),
                                                         ("cash", None, "GBP", 300), ("fees", None, "GBP", -300)]).id
        db.session.commit()

        check = checks.check_invariants()

        assert (check.transactions, check.entries) == (4, 3 + 2 + 2 + 4)
        assert f"transaction {broken} sums to 2" in check.breaches
        assert f"transaction {mixed} mixes currencies" in check.breaches
        assert "expert_payable:9 is owed -400 EUR (below zero)" in check.breaches
        assert overdrawn not in {mixed, broken}
        db.session.remove()
