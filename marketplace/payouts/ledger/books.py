"""Writing and reading the ledger: append a balanced transaction, reverse one, read balances.

`post` adds a transaction built and checked by `core.ledger` to the caller's database transaction; nothing
here updates or deletes a ledger row (`checks` verifies that the rows add up).
"""

from __future__ import annotations

import sqlalchemy as sa

from marketplace.core import ledger
from marketplace.database import db, utcnow
from marketplace.payouts.models import LedgerEntry, LedgerTransaction


def post(transaction: ledger.Transaction, memo: str = "") -> int:
    """Append the transaction and its entries (the caller commits); its id."""
    return post_many([(transaction, memo)])[0]


def post_many(transactions: list[tuple[ledger.Transaction, str]]) -> list[int]:
    """Append transactions (each with its memo) and their entries in two statements (the caller commits); their
    ids, in the order given. A pass that releases hundreds of rows holds SQLite's write lock a fraction as long."""
    if not transactions:
        return []
    now = utcnow()
    ids = db.session.scalars(
        sa.insert(LedgerTransaction).returning(LedgerTransaction.id, sort_by_parameter_order=True),
        [{"kind": transaction.kind, "created_at": now, "reverses_id": transaction.reverses, "memo": memo[:200]}
         for transaction, memo in transactions]).all()
    db.session.execute(sa.insert(LedgerEntry), [
        {"transaction_id": transaction_id, "account_kind": entry.account.kind, "owner_id": entry.account.owner_id,
         "currency": transaction.currency, "amount_cents": entry.amount_cents}
        for transaction_id, (transaction, _memo) in zip(ids, transactions, strict=True)
        for entry in transaction.entries])
    return list(ids)


def reverse(transaction_id: int, memo: str) -> int:
    """Post the reversal of a recorded transaction (every entry negated, pointing back at it); its id."""
    original = db.session.get(LedgerTransaction, transaction_id)
    entries = db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.transaction_id == transaction_id)
                                 .order_by(LedgerEntry.id)).all()
    recorded = ledger.Transaction(original.kind, tuple(ledger.Entry(ledger.Account(e.account_kind, e.owner_id),
                                                                    e.amount_cents) for e in entries),
                                  currency=entries[0].currency)
    return post(ledger.reversal(transaction_id, recorded), memo)


def payable_by_expert(currency: str) -> dict[int, int]:
    """Each expert's payable money in the currency (what the ledger owes them, past the hold), when above 0."""
    rows = db.session.execute(
        sa.select(LedgerEntry.owner_id, sa.func.sum(LedgerEntry.amount_cents))
        .where(LedgerEntry.account_kind == "expert_payable", LedgerEntry.currency == currency)
        .group_by(LedgerEntry.owner_id)
    ).all()
    return {int(owner): ledger.owed_to(int(total)) for owner, total in rows if total and ledger.owed_to(int(total)) > 0}


def payable_of(expert_id: int, currency: str) -> int:
    """One expert's payable money in the currency (the caller locks the expert when it moves it)."""
    total = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount_cents), 0)).where(
        LedgerEntry.account_kind == "expert_payable", LedgerEntry.owner_id == expert_id,
        LedgerEntry.currency == currency))
    return ledger.owed_to(int(total))


def expert_balances(expert_id: int) -> dict[str, dict[str, int]]:
    """What the platform owes the expert, per currency and account kind, as positive cents."""
    rows = db.session.execute(
        sa.select(LedgerEntry.currency, LedgerEntry.account_kind, sa.func.sum(LedgerEntry.amount_cents))
        .where(LedgerEntry.owner_id == expert_id, LedgerEntry.account_kind.in_(ledger.PER_EXPERT))
        .group_by(LedgerEntry.currency, LedgerEntry.account_kind)
    ).all()
    owed: dict[str, dict[str, int]] = {}
    for currency, kind, total in rows:
        owed.setdefault(currency, {k: 0 for k in ledger.PER_EXPERT})[kind] = ledger.owed_to(int(total))
    return owed
