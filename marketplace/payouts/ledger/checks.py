"""The ledger's invariants, checked in SQL so the check stays fast on millions of rows."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import sqlalchemy as sa

from marketplace.core import ledger
from marketplace.database import READ_ONLY, begin_read_only, db, end_read
from marketplace.payouts.models import LedgerEntry, LedgerTransaction

T = TypeVar("T")


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
    queries name what. The screen's pass and the other reads run at once, each on a read-only connection of
    its own (no SQLite write lock), so a sound ledger of a million answered chats is checked in about a
    second. A screen that reads two moments (a transaction committed in between) can only cost the slower
    queries, which then find nothing: only they report breaches.
    """
    parts, counts, overdrawn = _read_screen()
    breaches = []
    if parts.unbalanced_parts:
        breaches += _unbalanced()
    if parts.parts != counts.with_entries:
        breaches += _mixed()
    if counts.with_entries != counts.transactions:
        breaches += _empty()
    breaches += overdrawn
    end_read()
    return Check(int(counts.transactions), int(counts.entries), breaches)


def _read_screen() -> tuple[sa.Row, sa.Row, list[str]]:
    """The screen's reads: at once on connections of their own when the session uses the engine; in the
    session's transaction when it is bound to a connection of its own (tests, whose data is not committed)."""
    bind = db.session.get_bind()
    if not isinstance(bind, sa.Engine):
        begin_read_only()
        connection = db.session.connection()
        return _parts(connection), _counts(connection), _overdrawn(connection)
    end_read()
    with ThreadPoolExecutor(max_workers=2) as pool:
        parts = pool.submit(_read_alone, bind, _parts)
        rest = pool.submit(_read_alone, bind, lambda connection: (_counts(connection), _overdrawn(connection)))
        return parts.result(), *rest.result()


def _read_alone(engine: sa.Engine, read: Callable[[sa.Connection], T]) -> T:
    with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
        try:
            return read(connection)
        finally:
            connection.rollback()


def _parts(connection: sa.Connection) -> sa.Row:
    """The parts (a transaction's entries in one currency) and those that do not sum to zero: the slow pass."""
    part_totals = (sa.select(sa.func.sum(LedgerEntry.amount_cents).label("total"))
                   .group_by(LedgerEntry.transaction_id, LedgerEntry.currency).subquery())
    return connection.execute(sa.select(sa.func.count().label("parts"),
                                        sa.func.count().filter(part_totals.c.total != 0).label("unbalanced_parts"))
                              .select_from(part_totals)).one()


def _counts(connection: sa.Connection) -> sa.Row:
    """Transactions with entries, entries and transactions, from one statement."""
    # Alone in its select, SQLite counts the distinct ids off the index in order, without a temporary one.
    used = sa.select(sa.func.count(sa.distinct(LedgerEntry.transaction_id)).label("with_entries")).subquery()
    entries = sa.select(sa.func.count().label("entries")).select_from(LedgerEntry).subquery()
    transactions = sa.select(sa.func.count().label("transactions")).select_from(LedgerTransaction).subquery()
    every = used.join(entries, sa.true()).join(transactions, sa.true())
    return connection.execute(sa.select(used, entries, transactions).select_from(every)).one()


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


def _overdrawn(connection: sa.Connection) -> list[str]:
    breaches: list[str] = []
    for kind in ledger.PER_EXPERT:  # one kind at a time: each a range of the index, grouped on two columns
        overdrawn = connection.execute(
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
