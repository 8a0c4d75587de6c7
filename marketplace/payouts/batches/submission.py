"""Submitting an approved batch: crash-safe, so nobody is paid twice (rule 11).

Each item goes through three steps, each its own database transaction:

1. **Mark**: pending -> submitted with a compare-and-set, and the ledger moves its money from payable to in
   transit, in one commit, before the provider hears of it. An expert whose payable money fell below the
   item since the draft (a reversal) is not paid: the item fails and nothing moves.
2. **Call** (Stripe items): a transfer with the idempotency key of the item and its attempt. The key is the
   same after any crash, so a call repeated after a lost answer gets the provider's first answer, not a
   second transfer.
3. **Settle**: submitted -> paid with the transfer's id, and in transit -> cash; or, on a definite refusal,
   submitted -> failed and in transit -> payable again (the next batch pays it). Again a compare-and-set:
   two runners at once settle an item once.

A crash before step 1 commits leaves the item pending; after it, the item is submitted and the next run
calls again with the same key; an unknown outcome (a timeout, a lost answer, a 5xx) leaves it submitted for
the next run too. `resume` runs every minute and finishes every submitting batch, so a restart after a
crash at any point finishes the batch. SEPA items are marked the same way, written to the batch's pain.001
file (`rails.sepa`), and settled when finance confirms the bank executed it or returned a line
(`settlement`). The batch ends `paid` when every item is paid, `partially_failed` when any failed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from marketplace.accounts import services as accounts
from marketplace.accounts.language import in_language_of
from marketplace.accounts.models import User
from marketplace.core import ledger
from marketplace.core import payouts as rules
from marketplace.database import db, unit_of_work, use_case, utcnow
from marketplace.errors import Conflict
from marketplace.experts import services as experts
from marketplace.notifications import services as notifications
from marketplace.payouts.batches import services as batches
from marketplace.payouts.ledger import books
from marketplace.payouts.models import BatchStatus, ItemStatus, PayoutBatch, PayoutItem, PayoutRail
from marketplace.payouts.rails import connect
from marketplace.payouts.rails import gateway as gateways
from marketplace.payouts.tax import notice as tax_notice
from marketplace.shared import money

log = logging.getLogger(__name__)
SUBMIT_BUDGET_SECONDS = 10.0  # what a finance user's click waits for; the resume job does the rest
RESUME_BUDGET_SECONDS = 50.0
Fault = Callable[[str, int], None]  # tests and the soak benchmark crash here: (step, item id)


def _no_fault(step: str, item_id: int) -> None:
    return None


@dataclass
class Run:
    """What one run did: items paid, failed, and still waiting for an answer (unknown outcome)."""

    paid: int = 0
    failed: int = 0
    unresolved: int = 0
    finished: str | None = None  # the batch's final status, when this run ended it


def submit(actor: User, batch_id: int, *, ip: str | None = None,
           budget_seconds: float = SUBMIT_BUDGET_SECONDS) -> PayoutBatch:
    """Submit an approved batch and pay what can be paid within `budget_seconds`; the job finishes the rest."""
    with unit_of_work():  # submitting, committed before any item is paid
        batches.require_finance(actor)
        batch = batches.find_batch(batch_id, lock=True)
        if batch.status != BatchStatus.APPROVED:
            raise Conflict(_l("This batch is %(status)s: only an approved batch can be submitted.",
                              status=batch.status.value), "status")
        item_rails = set(db.session.scalars(sa.select(PayoutItem.rail).where(PayoutItem.batch_id == batch_id)))
        if not item_rails:
            raise Conflict(_l("This batch pays nobody: cancel it instead."), "status")
        if PayoutRail.STRIPE in item_rails and not gateways.configured():
            raise connect.stripe_unavailable()
        batch.status = BatchStatus(rules.next_batch_status("submit", batch.status.value))
        batch.submitted_by_id, batch.submitted_at = actor.id, utcnow()
        accounts.record_audit("payout_batch_submitted", actor_id=actor.id, ip=ip, batch_id=batch.id)
    try:
        run(batch_id, deadline=time.monotonic() + budget_seconds)
    except gateways.GatewayError as error:  # submitted all the same: the minute's job goes on once it can
        log.error("payout batch %s: submission paused: %s", batch_id, error)
    return db.session.get(PayoutBatch, batch_id, populate_existing=True)


def run(batch_id: int, *, provider: gateways.PaymentGateway | None = None, fault: Fault = _no_fault,
        deadline: float | None = None) -> Run:
    """Carry a submitting batch as far as it goes now; safe to run again at any time, and at once with another."""
    done = Run()
    with unit_of_work():
        batch = db.session.get(PayoutBatch, batch_id, populate_existing=True)
        if batch is None or batch.status != BatchStatus.SUBMITTING:
            return done
        currency = batch.currency
        open_items = db.session.execute(
            sa.select(PayoutItem.id, PayoutItem.expert_id, PayoutItem.rail, PayoutItem.status)
            .where(PayoutItem.batch_id == batch_id, PayoutItem.status.in_((ItemStatus.PENDING, ItemStatus.SUBMITTED)))
            .order_by(PayoutItem.id)).all()
        # Every account, ready or not: an item sent before a crash is sent again with its key whatever became of
        # the account since (the provider gives the first answer, or refuses one that cannot receive).
        destinations = connect.stripe_destinations(
            {row.expert_id for row in open_items if row.rail == PayoutRail.STRIPE}, ready_only=False)
        resumed = {row.id for row in open_items
                   if row.status == ItemStatus.SUBMITTED and row.rail == PayoutRail.STRIPE}
    already = _transfers_made(batch_id, provider) if resumed else {}
    for item_id, expert_id, rail, _status in open_items:
        if deadline is not None and time.monotonic() > deadline:
            break
        item = _mark(item_id, currency)
        fault("marked", item_id)
        if item is None or item.status != ItemStatus.SUBMITTED:
            done.failed += item is not None and item.status == ItemStatus.FAILED
            continue
        if rail == PayoutRail.SEPA:  # paid when finance confirms the bank executed the file
            continue
        destination = destinations.get(expert_id)
        if destination is None:
            done.failed += settle(item_id, item.attempt, currency, failure=gettext(
                "The expert's Stripe account cannot receive transfers any more."))
            continue
        if already is not None and item_id in already:  # made before a crash: written down, not asked again
            done.paid += settle(item_id, item.attempt, currency, transfer_id=already[item_id].id, fault=fault)
            continue
        if already is None and item_id in resumed:  # sent before, and the provider cannot say what it did
            done.unresolved += 1
            continue
        provider = provider or gateways.gateway()
        try:
            transfer = provider.transfer(
                destination=destination, amount_cents=item.amount_cents, currency=currency,
                idempotency_key=rules.idempotency_key(item_id, item.attempt),
                metadata={"payout_item": str(item_id), "batch": f"batch-{batch_id}"})
        except gateways.Declined as error:
            done.failed += settle(item_id, item.attempt, currency, failure=str(error)[:300], fault=fault)
            continue
        except gateways.Unreachable as error:
            log.warning("payout item %s: no answer from the provider (%s); the next run retries", item_id, error)
            done.unresolved += 1
            continue
        fault("called", item_id)
        if transfer.amount_cents != item.amount_cents or transfer.currency != currency:
            log.error("payout item %s: the provider answered %s %s for %s %s", item_id, transfer.amount_cents,
                      transfer.currency, item.amount_cents, currency)
        done.paid += settle(item_id, item.attempt, currency, transfer_id=transfer.id, fault=fault)
    done.finished = finish(batch_id)
    return done


def _transfers_made(batch_id: int, provider: gateways.PaymentGateway | None) -> dict[int, gateways.Transfer] | None:
    """The transfers the provider already made for the batch's items, by item: a resumed run writes these
    down instead of calling again, so an idempotency key that expired meanwhile (Stripe keeps them 24 hours)
    cannot pay twice. None when the provider cannot say: then items sent before wait for the next run."""
    try:
        made = (provider or gateways.gateway()).transfers_in_group(f"batch-{batch_id}")
    except gateways.GatewayError as error:
        log.warning("payout batch %s: could not list its transfers (%s)", batch_id, error)
        return None
    found: dict[int, gateways.Transfer] = {}
    for transfer in made:
        item = transfer.metadata.get("payout_item", "")
        if item.isdigit():
            found.setdefault(int(item), transfer)
    return found


def _mark(item_id: int, currency: str) -> PayoutItem | None:
    """Step 1: pending -> submitted and payable -> in transit, committed before any call; the item as it is."""
    now = utcnow()
    with unit_of_work(alone=True):  # committed before the call, whoever calls: joined, it would not be
        moved = db.session.execute(
            sa.update(PayoutItem).where(PayoutItem.id == item_id, PayoutItem.status == ItemStatus.PENDING)
            .values(status=ItemStatus.SUBMITTED, submitted_at=now)).rowcount
        if moved:
            item = db.session.get(PayoutItem, item_id, populate_existing=True)
            experts.lock_expert(item.expert_id)  # one at a time with a reversal of their earnings (PostgreSQL)
            if books.payable_of(item.expert_id, currency) < item.amount_cents:
                item.status, item.finished_at = ItemStatus.FAILED, now
                item.failure = gettext("Less is payable than when the batch was drafted (an earning was "
                                       "reversed); the next batch pays what is due.")
            else:
                books.post(ledger.payout_submitted(item.expert_id, item.amount_cents, currency),
                           memo=f"payout item {item_id}")
    return db.session.get(PayoutItem, item_id, populate_existing=True)


@use_case
def settle(item_id: int, attempt: int, currency: str, *, transfer_id: str | None = None,
           failure: str | None = None, fault: Fault = _no_fault) -> int:
    """Step 3: submitted -> paid (with the transfer) or failed (money payable again), once; 1 if this did it."""
    paid = failure is None
    moved = db.session.execute(
        sa.update(PayoutItem)
        .where(PayoutItem.id == item_id, PayoutItem.status == ItemStatus.SUBMITTED, PayoutItem.attempt == attempt)
        .values(status=ItemStatus.PAID if paid else ItemStatus.FAILED, provider_ref=transfer_id, failure=failure,
                finished_at=utcnow())).rowcount
    if moved:
        item = db.session.get(PayoutItem, item_id, populate_existing=True)
        if paid:
            books.post(ledger.payout_paid(item.expert_id, item.amount_cents, currency), memo=f"payout item {item_id}")
            _tell_paid(item.expert_id, item.amount_cents, currency)
        else:
            books.post(ledger.payout_failed(item.expert_id, item.amount_cents, currency),
                       memo=f"payout item {item_id} failed")
    fault("settled", item_id)
    return int(bool(moved))


def _tell_paid(expert_id: int, cents: int, currency: str) -> None:
    profile = experts.get_profile(expert_id)
    user = accounts.get_user(profile.user_id) if profile else None
    if user is None:
        return
    with in_language_of(user):
        amount = money.shown(cents, currency)
        notifications.notify(user.id, "payout_paid", gettext("Payout sent: %(amount)s", amount=amount),
                             " ".join((gettext("It reaches your bank account within a few working days."),
                                       tax_notice.short_text())),
                             url="/expert/earnings")


@use_case
def finish(batch_id: int) -> str | None:
    """End a submitting batch once every item is done: paid, or partially_failed; its new status, if it ended."""
    statuses = [status.value for status in db.session.scalars(
        sa.select(PayoutItem.status).where(PayoutItem.batch_id == batch_id))]
    action = rules.batch_outcome(statuses)
    if action is None:
        return None
    final = BatchStatus(rules.next_batch_status(action, BatchStatus.SUBMITTING.value))
    ended = db.session.execute(
        sa.update(PayoutBatch).where(PayoutBatch.id == batch_id, PayoutBatch.status == BatchStatus.SUBMITTING)
        .values(status=final, finished_at=utcnow())).rowcount
    if ended:
        accounts.record_audit("payout_batch_finished", batch_id=batch_id, status=final.value,
                              paid=statuses.count("paid"), failed=statuses.count("failed"))
    return final.value if ended else None


def resume() -> dict[str, int]:
    """The scheduler's minute: finish every submitting batch (after a crash, or what a click left)."""
    with unit_of_work():
        batch_ids = list(db.session.scalars(sa.select(PayoutBatch.id).where(
            PayoutBatch.status == BatchStatus.SUBMITTING).order_by(PayoutBatch.id)))
    totals = {"batches": len(batch_ids), "paid": 0, "failed": 0, "unresolved": 0}
    deadline = time.monotonic() + RESUME_BUDGET_SECONDS
    for batch_id in batch_ids:
        try:
            done = run(batch_id, deadline=deadline)
        except gateways.NotConfigured as error:
            log.error("payout batch %s waits: %s", batch_id, error)
            continue
        totals["paid"] += done.paid
        totals["failed"] += done.failed
        totals["unresolved"] += done.unresolved
    return totals
