"""Factories of payouts' rows: earnings, ledger transactions and payout batches, made the way the domain makes them."""

from __future__ import annotations

import datetime as dt

import factory
import sqlalchemy as sa
from flask import current_app

from marketplace.accounts.models import Role
from marketplace.core import ledger
from marketplace.core import rates as pricing
from marketplace.database import db, utcnow
from marketplace.payouts.batches import services as batches
from marketplace.payouts.earnings import services as earnings
from marketplace.payouts.ledger import books
from marketplace.payouts.models import BatchStatus, Earning, EarningStatus, LedgerEntry, LedgerTransaction, PayoutBatch
from tests.factories.accounts import UserFactory
from tests.factories.base import Base
from tests.factories.brands import BrandFactory
from tests.factories.experts import ApprovedExpertFactory
from tests.factories.routing import ClosedChatFactory, approved_expert


def _hold_until(earning) -> dt.datetime:
    return earning.closed_at + dt.timedelta(days=current_app.config["PAYOUT_HOLD_DAYS"])


class EarningFactory(Base):
    """The earning of an answered chat of `brand` by its `expert` (one the brand approved unless given), closed at
    `closed_at` (half an hour ago): `price_cents` less a `commission_bps` commission plus `bonus_cents`, held until
    the hold period is over and payable after it unless `status=` says otherwise. The row alone: no ledger
    transaction (RecordedEarningFactory records one as the service does)."""

    class Meta:
        model = Earning

    class Params:
        brand = factory.SubFactory(BrandFactory)
        expert = factory.LazyAttribute(approved_expert)
        commission_bps = 2000
        conversation = factory.SubFactory(
            ClosedChatFactory, brand=factory.SelfAttribute("..brand"), expert=factory.SelfAttribute("..expert"),
            closed_at=factory.SelfAttribute("..closed_at"), rate_cents=factory.SelfAttribute("..price_cents"))

    conversation_id = factory.SelfAttribute("conversation.id")
    brand_id = factory.SelfAttribute("brand.id")
    expert_id = factory.SelfAttribute("expert.id")
    rate_card_id = factory.SelfAttribute("conversation.rate_card_id")
    currency = factory.SelfAttribute("brand.currency")
    price_cents = 200
    commission_cents = factory.LazyAttribute(
        lambda earning: pricing.commission_cents(earning.price_cents, earning.commission_bps))
    bonus_cents = 0
    expert_cents = factory.LazyAttribute(
        lambda earning: earning.price_cents + earning.bonus_cents - earning.commission_cents)
    closed_at = factory.LazyFunction(lambda: utcnow() - dt.timedelta(minutes=30))
    earned_at = factory.SelfAttribute("closed_at")
    hold_until = factory.LazyAttribute(_hold_until)
    status = factory.LazyAttribute(
        lambda earning: EarningStatus.PAYABLE if earning.hold_until <= utcnow() else EarningStatus.HELD)
    flags = factory.LazyFunction(list)


class RecordedEarningFactory(factory.Factory):
    """The earning the payouts service records at `now` for an answered chat of `brand` closed half an hour before:
    priced on the brand's card, checked for fraud, posted to the ledger and held. As the job does, it records every
    chat due at `now`, not this one alone."""

    class Meta:
        model = Earning

    class Params:
        brand = factory.SubFactory(BrandFactory)

    now = factory.LazyFunction(utcnow)
    conversation = factory.SubFactory(
        ClosedChatFactory, brand=factory.SelfAttribute("..brand"),
        closed_at=factory.LazyAttribute(lambda chat: chat.factory_parent.now - dt.timedelta(minutes=30)))

    @classmethod
    def _create(cls, model_class, now, conversation):
        earnings.record_earnings(now)
        earning = db.session.scalar(sa.select(Earning).where(Earning.conversation_id == conversation.id))
        if earning is None:
            raise ValueError(f"a chat closed at {conversation.closed_at} is not earned yet at {now}")
        return earning


class LedgerTransactionFactory(factory.Factory):
    """A transaction posted through the books, so `core.ledger` has checked that it balances: `movement` (2.50
    earned by a new expert at a new brand, 0.50 of it commission, unless told) with `memo`; dated `created_at`
    when given (tests only: the application never edits the ledger)."""

    class Meta:
        model = LedgerTransaction

    movement = factory.LazyFunction(lambda: ledger.earning(BrandFactory().id, ApprovedExpertFactory().id, 250, 50))
    memo = "test"
    created_at = None

    @classmethod
    def _create(cls, model_class, movement, memo, created_at):
        row = db.session.get(model_class, books.post(movement, memo))
        if created_at is not None:
            row.created_at = created_at
            db.session.flush()
        return row


class WrittenLedgerTransactionFactory(Base):
    """A transaction written row by row past the books, as only a bug or a hand in the database could: its
    `entries` are (account kind, owner, currency, cents) and need not balance; without any it has none."""

    class Meta:
        model = LedgerTransaction

    kind = "manual"
    created_at = factory.LazyFunction(utcnow)

    @factory.post_generation
    def entries(transaction, create, entries, **kwargs):  # noqa: N805 - factory_boy passes the object
        db.session.add_all(LedgerEntry(transaction_id=transaction.id, account_kind=kind, owner_id=owner,
                                       currency=currency, amount_cents=cents)
                           for kind, owner, currency, cents in entries or ())
        db.session.flush()


class PayoutBatchFactory(factory.Factory):
    """A batch of everything payable in `currency` from `minimum_cents` on, drafted through the batches service by
    `created_by` (a new finance user) and approved by `approved_by` when given; `status=SUBMITTING` then sets it
    submitting, as if Submit had committed and its run not begun."""

    class Meta:
        model = PayoutBatch

    created_by = factory.LazyFunction(lambda: UserFactory(role=Role.FINANCE))
    approved_by = None
    currency = "EUR"
    minimum_cents = 0
    status = factory.LazyAttribute(lambda batch: BatchStatus.APPROVED if batch.approved_by else BatchStatus.DRAFT)

    @classmethod
    def _create(cls, model_class, created_by, approved_by, currency, minimum_cents, status):
        batch = batches.create_draft(created_by, currency, minimum_cents)
        if approved_by is not None:
            batch = batches.approve(approved_by, batch.id)
        if status == BatchStatus.SUBMITTING and batch.status == BatchStatus.APPROVED:
            batch.status = BatchStatus.SUBMITTING
            db.session.commit()
        if batch.status != status:
            raise ValueError(f"a batch is drafted, approved, then submitting: not {status} from {batch.status}")
        return batch
