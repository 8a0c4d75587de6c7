"""Writing and reading the ledger: append a balanced transaction, read balances, check the invariants.

`post` adds a transaction built and checked by `core.ledger` to the caller's database transaction; nothing
here updates or deletes a ledger row. The invariant check runs in SQL, so it stays fast on millions of rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from marketplace.core import ledger
from marketplace.database import db, utcnow
from marketplace.payouts.models import LedgerEntry, LedgerTransaction


def post(transaction: ledger.Transaction, memo: str = "") -> int:
    """Append the transaction and its entries (the caller commits); its id."""
    row = LedgerTransaction(kind=transaction.kind, created_at=utcnow(), reverses_id=transaction.reverses,
                            memo=memo[:200])
    db.session.add(row)
    db.session.flush()
    db.session.execute(sa.insert(LedgerEntry), [
        {"transaction_id": row.id, "account_kind": entry.account.kind, "owner_id": entry.account.owner_id,
         "currency": transaction.currency, "amount_cents": entry.amount_cents} for entry in transaction.entries])
    return row.id


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


@dataclass(frozen=True)
class Check:
    transactions: int
    entries: int
    breaches: list[str]


def check_invariants() -> Check:
    """Every transaction sums to zero in one currency, the ledger sums to zero per currency, no expert account
    below zero (a transaction is reversed at most once: the database's unique constraint sees to that)."""
    breaches = []
    unbalanced = db.session.execute(
        sa.select(LedgerEntry.transaction_id, sa.func.sum(LedgerEntry.amount_cents))
        .group_by(LedgerEntry.transaction_id).having(sa.func.sum(LedgerEntry.amount_cents) != 0).limit(20)
    ).all()
    breaches += [f"transaction {tid} sums to {int(total)}" for tid, total in unbalanced]
    lonely = db.session.scalars(
        sa.select(LedgerEntry.transaction_id).group_by(LedgerEntry.transaction_id)
        .having(sa.func.count() < 2).limit(20)).all()
    breaches += [f"transaction {tid} has a single entry" for tid in lonely]
    totals = db.session.execute(
        sa.select(LedgerEntry.currency, sa.func.sum(LedgerEntry.amount_cents)).group_by(LedgerEntry.currency)
        .having(sa.func.sum(LedgerEntry.amount_cents) != 0)).all()
    breaches += [f"the ledger sums to {int(total)} {currency}" for currency, total in totals]
    mixed = db.session.scalars(
        sa.select(LedgerEntry.transaction_id).group_by(LedgerEntry.transaction_id)
        .having(sa.func.count(sa.distinct(LedgerEntry.currency)) > 1).limit(20)).all()
    breaches += [f"transaction {tid} mixes currencies" for tid in mixed]
    overdrawn = db.session.execute(
        sa.select(LedgerEntry.account_kind, LedgerEntry.owner_id, LedgerEntry.currency,
                  sa.func.sum(LedgerEntry.amount_cents))
        .where(LedgerEntry.account_kind.in_(ledger.PER_EXPERT))
        .group_by(LedgerEntry.account_kind, LedgerEntry.owner_id, LedgerEntry.currency)
        .having(sa.func.sum(LedgerEntry.amount_cents) > 0).limit(20)
    ).all()
    breaches += [f"{kind}:{owner} is owed {ledger.owed_to(int(balance))} {currency} (below zero)"
                 for kind, owner, currency, balance in overdrawn]
    counts = db.session.execute(sa.select(
        sa.select(sa.func.count()).select_from(LedgerTransaction).scalar_subquery(),
        sa.select(sa.func.count()).select_from(LedgerEntry).scalar_subquery())).one()
    db.session.commit()
    return Check(int(counts[0]), int(counts[1]), breaches)
