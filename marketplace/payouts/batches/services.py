"""Payout batches: a finance user drafts one from what is payable, another approves it (rule 12).

A draft pays every expert whose payable money in the batch's currency reaches the minimum and who can be
paid (by Stripe transfer, else by SEPA transfer; see `rails.connect.rails`); the others are carried forward
(below the minimum) or listed as waiting for payout details. Only one batch per currency is open (draft,
approved or submitting) at a time, so no money is put in two batches; the database refuses a second one.
Drafting and approving move no money: submission does, item by item, through the ledger (`submission`).
A finished batch is closed here too.
"""

from __future__ import annotations

import sqlalchemy as sa
from babel.numbers import list_currencies
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role, User
from marketplace.core import payouts as rules
from marketplace.database import db, use_case, utcnow
from marketplace.errors import Conflict, Forbidden, InvalidInput, NotFound
from marketplace.payouts.ledger import books
from marketplace.payouts.models import BatchStatus, PayoutBatch, PayoutItem
from marketplace.payouts.rails import connect

MAX_MINIMUM_CENTS = 1_000_000


def require_finance(actor: User) -> User:
    """The actor, when a finance user (not a token): only finance runs payouts and reads their reports."""
    if actor.is_token or actor.role != Role.FINANCE:
        raise Forbidden(_l("Only finance staff run payouts."))
    return actor


@use_case
def create_draft(actor: User, currency: object, minimum_cents: object, *, ip: str | None = None) -> PayoutBatch:
    """Draft a batch in `currency` of everything payable from `minimum_cents` up; one transaction."""
    require_finance(actor)
    currency = str(currency or "").upper()
    if currency not in list_currencies():
        raise InvalidInput(_l("Unknown currency; use an ISO 4217 code such as EUR."), "currency")
    if (isinstance(minimum_cents, bool) or not isinstance(minimum_cents, int)
            or not 0 <= minimum_cents <= MAX_MINIMUM_CENTS):
        raise InvalidInput(_l("The minimum is a whole number of cents from 0 to %(most)d.", most=MAX_MINIMUM_CENTS),
                           "minimum_cents")
    payable = books.payable_by_expert(currency)
    chosen = connect.rails(set(payable), currency)
    draft = rules.draft_items(payable, minimum_cents, set(chosen))
    batch = PayoutBatch(currency=currency, minimum_cents=minimum_cents, created_by_id=actor.id, created_at=utcnow(),
                        carried_forward={str(k): v for k, v in draft.carried_forward.items()},
                        not_ready={str(k): v for k, v in draft.not_ready.items()})
    db.session.add(batch)
    try:
        db.session.flush()
    except IntegrityError:  # the unit rolls the draft back
        raise Conflict(_l("A %(currency)s batch is still open: approve, submit or cancel it first.",
                          currency=currency), "currency") from None
    db.session.add_all(PayoutItem(batch_id=batch.id, expert_id=expert_id, amount_cents=cents, rail=chosen[expert_id])
                       for expert_id, cents in draft.items.items())
    accounts.record_audit("payout_batch_created", actor_id=actor.id, ip=ip, batch_id=batch.id, currency=currency,
                          items=len(draft.items), total_cents=sum(draft.items.values()))
    return batch


def find_batch(batch_id: int, *, lock: bool = False) -> PayoutBatch:
    """The batch (with `lock`, locked for update and read afresh); NotFound when there is none."""
    batch = db.session.get(PayoutBatch, batch_id, with_for_update=lock, populate_existing=lock)
    if batch is None:
        raise NotFound(_l("No such batch."))
    return batch


AUDIT_KINDS = {"approve": "payout_batch_approved", "cancel": "payout_batch_cancelled", "close": "payout_batch_closed"}


def _move(actor: User, batch: PayoutBatch, action: str, ip: str | None, **stamps: object) -> PayoutBatch:
    """Move the locked batch along its lifecycle (`core.payouts`), stamp it, write the audit log (the caller's
    unit commits)."""
    try:
        batch.status = BatchStatus(rules.next_batch_status(action, batch.status.value))
    except rules.PayoutError:
        raise Conflict(_l("This batch is %(status)s: it cannot be changed that way.", status=batch.status.value),
                       "status") from None
    for name, value in stamps.items():
        setattr(batch, name, value)
    accounts.record_audit(AUDIT_KINDS[action], actor_id=actor.id, ip=ip, batch_id=batch.id)
    return batch


@use_case
def approve(actor: User, batch_id: int, *, ip: str | None = None) -> PayoutBatch:
    """A second finance user approves a draft (never its creator); one transaction."""
    require_finance(actor)
    batch = find_batch(batch_id, lock=True)
    try:
        rules.check_approver(batch.created_by_id, actor.id)
    except rules.PayoutError:
        raise Forbidden(_l("You created this batch: another finance user must approve it.")) from None
    return _move(actor, batch, "approve", ip, approved_by_id=actor.id, approved_at=utcnow())


@use_case
def cancel(actor: User, batch_id: int, *, ip: str | None = None) -> PayoutBatch:
    """Drop a batch before it is submitted; its money stays payable for the next one."""
    require_finance(actor)
    return _move(actor, find_batch(batch_id, lock=True), "cancel", ip, cancelled_at=utcnow())


@use_case
def close(actor: User, batch_id: int, *, ip: str | None = None) -> PayoutBatch:
    """File a finished batch away (paid or partially failed: its failures are payable in the next one)."""
    require_finance(actor)
    return _move(actor, find_batch(batch_id, lock=True), "close", ip)


@use_case
def list_batches(actor: User, limit: int = 50) -> list[PayoutBatch]:
    require_finance(actor)
    return list(db.session.scalars(sa.select(PayoutBatch).order_by(PayoutBatch.id.desc()).limit(limit)))


@use_case
def batch_items(actor: User, batch_id: int) -> tuple[PayoutBatch, list[PayoutItem]]:
    require_finance(actor)
    batch = find_batch(batch_id)
    items = db.session.scalars(sa.select(PayoutItem).where(PayoutItem.batch_id == batch_id)
                               .order_by(PayoutItem.amount_cents.desc(), PayoutItem.id)).all()
    return batch, list(items)
