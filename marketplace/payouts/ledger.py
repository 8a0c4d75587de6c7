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
    """Every transaction has entries, sums to zero and is in one currency; the ledger sums to zero per currency;
    no expert account is below zero. (A transaction is reversed at most once and no entry is zero: the
    database's unique and check constraints see to that, so a lone entry never sums to zero.)

    One pass over the entries, grouped by transaction and currency, screens the transactions: the rules on
    them all hold exactly when every part (a transaction's entries in one currency) sums to zero, there are
    as many parts as transactions with entries, and every transaction has entries; the ledger's total in a
    currency is the sum of its parts, so it is zero too. Only when the screen finds something do the slower
    queries name what, so a sound ledger of a million answered chats is checked in about two seconds.
    """
    screen = _screen()
    breaches = []
    if screen.unbalanced_parts:
        breaches += _unbalanced()
    if screen.parts != screen.with_entries:
        breaches += _mixed()
    if screen.with_entries != screen.transactions:
        breaches += _empty()
    breaches += _overdrawn()
    db.session.commit()
    return Check(int(screen.transactions), int(screen.entries), breaches)


def _screen() -> sa.Row:
    """The counts the screen compares, from one statement (one snapshot on PostgreSQL too)."""
    part_totals = (sa.select(sa.func.sum(LedgerEntry.amount_cents).label("total"))
                   .group_by(LedgerEntry.transaction_id, LedgerEntry.currency).subquery())
    parts = (sa.select(sa.func.count().label("parts"),
                       sa.func.count().filter(part_totals.c.total != 0).label("unbalanced_parts"))
             .select_from(part_totals).subquery())
    # Alone in its select, SQLite counts the distinct ids off the index in order, without a temporary one.
    used = sa.select(sa.func.count(sa.distinct(LedgerEntry.transaction_id)).label("with_entries")).subquery()
    entries = sa.select(sa.func.count().label("entries")).select_from(LedgerEntry).subquery()
    transactions = sa.select(sa.func.count().label("transactions")).select_from(LedgerTransaction).subquery()
    every = parts.join(used, sa.true()).join(entries, sa.true()).join(transactions, sa.true())
    return db.session.execute(sa.select(parts, used, entries, transactions).select_from(every)).one()


def _unbalanced() -> list[str]:
    unbalanced = db.session.execute(
        sa.select(LedgerEntry.transaction_id, sa.func.sum(LedgerEntry.amount_cents))
        .group_by(LedgerEntry.transaction_id).having(sa.func.sum(LedgerEntry.amount_cents) != 0).limit(20)
    ).all()
    lonely = db.session.scalars(
        sa.select(LedgerEntry.transaction_id).group_by(LedgerEntry.transaction_id)
        .having(sa.func.count() < 2).limit(20)).all()
    totals = db.session.execute(
        sa.select(LedgerEntry.currency, sa.func.sum(LedgerEntry.amount_cents)).group_by(LedgerEntry.currency)
        .having(sa.func.sum(LedgerEntry.amount_cents) != 0)).all()
    return ([f"transaction {tid} sums to {int(total)}" for tid, total in unbalanced]
            + [f"transaction {tid} has a single entry" for tid in lonely]
            + [f"the ledger sums to {int(total)} {currency}" for currency, total in totals])


def _mixed() -> list[str]:
    mixed = db.session.scalars(
        sa.select(LedgerEntry.transaction_id).group_by(LedgerEntry.transaction_id)
        .having(sa.func.count(sa.distinct(LedgerEntry.currency)) > 1).limit(20)).all()
    return [f"transaction {tid} mixes currencies" for tid in mixed]


def _empty() -> list[str]:
    empty = db.session.scalars(
        sa.select(LedgerTransaction.id)
        .where(~sa.exists().where(LedgerEntry.transaction_id == LedgerTransaction.id))
        .order_by(LedgerTransaction.id).limit(20)).all()
    return [f"transaction {tid} has no entries" for tid in empty]


def _overdrawn() -> list[str]:
    breaches: list[str] = []
    for kind in ledger.PER_EXPERT:  # one kind at a time: each a range of the index, grouped on two columns
        overdrawn = db.session.execute(
            sa.select(LedgerEntry.owner_id, LedgerEntry.currency, sa.func.sum(LedgerEntry.amount_cents))
            .where(LedgerEntry.account_kind == kind)
            .group_by(LedgerEntry.owner_id, LedgerEntry.currency)
            .having(sa.func.sum(LedgerEntry.amount_cents) > 0).limit(20 - len(breaches))
        ).all()
        breaches += [f"{kind}:{owner} is owed {ledger.owed_to(int(balance))} {currency} (below zero)"
                     for owner, currency, balance in overdrawn]
        if len(breaches) >= 20:
            break
    return breaches
