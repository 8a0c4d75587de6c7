"""What becomes of submitted items afterwards: the SEPA file finance sends the bank, the bank's word that it
executed the file or returned a line, and a transfer the provider reversed. Returned money is payable again.

Each settles items the way submission's last step does (`submission.settle`), and ends the batch once every
item is done (`submission.finish`).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from marketplace.accounts import services as accounts
from marketplace.accounts.models import User
from marketplace.core import ledger
from marketplace.core import payouts as rules
from marketplace.database import db, unit_of_work, use_case
from marketplace.errors import Conflict, InvalidInput, NotFound
from marketplace.experts import services as experts
from marketplace.payouts.batches import services as batches
from marketplace.payouts.batches import submission
from marketplace.payouts.ledger import books
from marketplace.payouts.models import BatchStatus, ItemStatus, PayoutBatch, PayoutItem, PayoutRail
from marketplace.payouts.rails import sepa


def _sepa_lines(actor: User, batch_id: int) -> tuple[PayoutBatch, list[PayoutItem]]:
    """The batch and its SEPA lines sent or paid; Conflict until every one of them is."""
    batches.require_finance(actor)
    batch = batches.find_batch(batch_id)
    items = list(db.session.scalars(sa.select(PayoutItem).where(
        PayoutItem.batch_id == batch_id, PayoutItem.rail == PayoutRail.SEPA,
        PayoutItem.status.in_((ItemStatus.SUBMITTED, ItemStatus.PAID))).order_by(PayoutItem.id)))
    if batch.status in (BatchStatus.DRAFT, BatchStatus.APPROVED, BatchStatus.CANCELLED) or not items:
        raise Conflict(_l("This batch has no submitted SEPA transfers."), "status")
    waiting = db.session.scalar(sa.select(sa.func.count()).where(
        PayoutItem.batch_id == batch_id, PayoutItem.rail == PayoutRail.SEPA, PayoutItem.status == ItemStatus.PENDING))
    if waiting:  # the file is whole or not at all: a bank refuses a second file with the same message id
        raise Conflict(_l("The SEPA lines are still being prepared: try again in a minute."), "status")
    return batch, items


@use_case
def sepa_file(actor: User, batch_id: int, *, ip: str | None = None) -> bytes:
    """The batch's SEPA credit-transfer file, for finance to upload to the bank; reading the experts' bank
    details for it is written to the audit log."""
    batch, items = _sepa_lines(actor, batch_id)
    banks = experts.bank_accounts_for_transfer(actor, {item.expert_id for item in items}, ip=ip,
                                               reason=f"SEPA file of payout batch {batch_id}")
    return sepa.credit_transfer_file(batch, items, banks)


def confirm_sepa(actor: User, batch_id: int, *, ip: str | None = None) -> int:
    """The bank executed the batch's SEPA file: its submitted lines are paid; how many."""
    with unit_of_work():
        batch, items = _sepa_lines(actor, batch_id)
        waiting = [item for item in items if item.status == ItemStatus.SUBMITTED]
    # Each line settles in a transaction of its own, as submission's last step does.
    paid = sum(submission.settle(item.id, item.attempt, batch.currency, transfer_id=sepa.end_to_end_id(item.id))
               for item in waiting)
    with unit_of_work():
        accounts.record_audit("payout_sepa_confirmed", actor_id=actor.id, ip=ip, batch_id=batch_id, items=paid)
    submission.finish(batch_id)
    return paid


def return_item(actor: User, item_id: int, reason: object, *, ip: str | None = None) -> PayoutItem:
    """The bank returned one SEPA line (closed account, wrong name...), before or after executing the file: it
    fails (or, once paid, is reversed) and its money is payable again."""
    batches.require_finance(actor)
    reason = str(reason or "").strip()
    if not 3 <= len(reason) <= 300:
        raise InvalidInput(_l("Say why the bank returned it, in 3 to 300 characters."), "reason")
    with unit_of_work():
        item = db.session.get(PayoutItem, item_id)
        if item is None:
            raise NotFound(_l("No such payout item."))
        batch = db.session.get(PayoutBatch, item.batch_id)
        if item.rail != PayoutRail.SEPA or item.status not in (ItemStatus.SUBMITTED, ItemStatus.PAID):
            raise Conflict(_l("Only a submitted SEPA line can be returned; this one is %(status)s.",
                              status=item.status.value), "status")
        was_paid = item.status == ItemStatus.PAID
        if was_paid:
            _returned_after_payment(item, batch.currency, reason)
    if not was_paid:  # settled in a transaction of its own, as submission's last step does
        submission.settle(item_id, item.attempt, batch.currency, failure=reason)
    with unit_of_work():
        accounts.record_audit("payout_item_returned", actor_id=actor.id, ip=ip, batch_id=batch.id, item_id=item_id,
                              reason=reason)
    submission.finish(batch.id)
    return db.session.get(PayoutItem, item_id, populate_existing=True)


def transfer_reversed(transfer_id: str, amount_reversed: int, item_named: str = "") -> str:
    """A paid transfer was reversed at the provider (the caller records the event and commits): the item is
    reversed and its money is payable again. An item the transfer names that is not recorded as paid yet (a
    run still under way, or one that crashed) makes the event wait: Conflict, so the provider sends it again."""
    item = db.session.scalar(sa.select(PayoutItem).where(PayoutItem.provider_ref == transfer_id,
                                                         PayoutItem.rail == PayoutRail.STRIPE).with_for_update())
    if item is None and item_named.isdigit():
        item = db.session.scalar(sa.select(PayoutItem).where(PayoutItem.id == int(item_named),
                                                             PayoutItem.rail == PayoutRail.STRIPE).with_for_update())
        if item is not None and item.status == ItemStatus.SUBMITTED:
            raise Conflict(_l("This transfer's payout is not recorded yet: send the event again later."), "id")
    if item is None or item.status != ItemStatus.PAID or amount_reversed <= 0:
        return "ignored"
    batch = db.session.get(PayoutBatch, item.batch_id)
    _returned(item, batch.currency, min(amount_reversed, item.amount_cents),
              gettext("The transfer was reversed at the provider."))
    accounts.record_audit("payout_item_reversed", batch_id=batch.id, item_id=item.id, transfer=transfer_id,
                          amount_cents=amount_reversed)
    return "applied"


def _returned(item: PayoutItem, currency: str, cents: int, why: str) -> None:
    """A paid item's money came back (the caller commits): the item is reversed, the money payable again."""
    item.status = ItemStatus(rules.next_item_status("reverse", item.status.value))
    item.failure = why[:300]
    books.post(ledger.payout_returned(item.expert_id, cents, currency), memo=f"payout item {item.id} reversed")


def _returned_after_payment(item: PayoutItem, currency: str, reason: str) -> None:
    """A paid line the bank returned, read again under lock (the caller commits)."""
    locked = db.session.get(PayoutItem, item.id, with_for_update=True, populate_existing=True)
    if locked.status == ItemStatus.PAID:
        _returned(locked, currency, locked.amount_cents, reason)
