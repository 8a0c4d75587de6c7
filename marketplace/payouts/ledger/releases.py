"""Money held for its hold period made payable: each held row (an earning, a FAQ credit) past its hold moves to
payable with its own ledger transaction (`ledger.release`), in chunks so a pass stays short. A compare-and-set on the
row's status makes a concurrent pass release each row once."""

from __future__ import annotations

import sqlalchemy as sa

from marketplace.core import ledger
from marketplace.database import db, unit_of_work
from marketplace.payouts.ledger import books
from marketplace.payouts.models import EarningStatus

RELEASE_CHUNK = 500  # rows released per commit


def release_due(model: type, amount: sa.orm.InstrumentedAttribute, releasable: sa.ColumnElement[bool],
                due: sa.ColumnElement[bool], memo: str) -> int:
    """Release the rows of `model` that are `releasable` and `due` (past their hold); how many were. Each keeps its
    release transaction (`released_by_id`); `memo` names the kind of row in the ledger ("earning 12")."""
    with unit_of_work():  # the first chunk is released in the transaction that read what is due
        rows = db.session.execute(sa.select(model.id, model.expert_id, amount, model.currency)
                                  .where(releasable, due).order_by(model.id)).all()
        released = _release(model, rows[:RELEASE_CHUNK], releasable, memo)
    for start in range(RELEASE_CHUNK, len(rows), RELEASE_CHUNK):
        with unit_of_work():
            released += _release(model, rows[start:start + RELEASE_CHUNK], releasable, memo)
    return released


def _release(model: type, rows: list[sa.Row], releasable: sa.ColumnElement[bool], memo: str) -> int:
    """Make each row payable by a ledger transaction, if it still is releasable; how many were. Three statements
    a chunk: the compare-and-set of the status (a row disputed since stays held), the ledger posts, the links."""
    if not rows:
        return 0
    moved = set(db.session.scalars(
        sa.update(model).where(model.id.in_([row[0] for row in rows]), releasable)
        .values(status=EarningStatus.PAYABLE).returning(model.id).execution_options(synchronize_session=False)))
    money = [(row_id, expert_id, cents, currency) for row_id, expert_id, cents, currency in rows
             if row_id in moved and cents]
    posted = books.post_many([(ledger.release(expert_id, cents, currency), f"{memo} {row_id}")
                              for row_id, expert_id, cents, currency in money])
    if posted:
        table = model.__table__
        db.session.execute(sa.update(table).where(table.c.id == sa.bindparam("row_id"))
                           .values(released_by_id=sa.bindparam("release_id")),
                           [{"row_id": row[0], "release_id": release_id} for row, release_id in zip(money, posted,
                                                                                                  strict=True)])
    return len(moved)
