"""The ledger's rows and the experts' earnings.

The ledger is append-only (rule 10): transactions and entries are inserted, never updated or deleted; a
correction is a new transaction that `reverses` another, and a transaction is reversed at most once (the
unique constraint). An earning is the price of one answered chat, recorded once (unique per conversation).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from marketplace.database import db, enum_column, utcnow


class EarningStatus(enum.StrEnum):
    HELD = "held"  # in the hold period (the brand may dispute, fraud checks run)
    PAYABLE = "payable"  # released: the next payout batch pays it
    REVERSED = "reversed"  # disputed or fraudulent: cancelled by a reversing transaction


class LedgerTransaction(db.Model):
    __tablename__ = "ledger_transactions"
    __table_args__ = (sa.UniqueConstraint("reverses_id", name="uq_ledger_transactions_reverses"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(30))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    reverses_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("ledger_transactions.id"))
    memo: so.Mapped[str] = so.mapped_column(sa.String(200), default="")


class LedgerEntry(db.Model):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        sa.CheckConstraint("amount_cents <> 0", name="amount_not_zero"),
        # Both carry the amount, so balances, the payable money of a batch and the ledger check are summed
        # from the indexes alone, without visiting the table's rows.
        sa.Index("ix_ledger_entries_account_amounts", "account_kind", "owner_id", "currency", "amount_cents"),
        sa.Index("ix_ledger_entries_transaction_amounts", "transaction_id", "currency", "amount_cents"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    transaction_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("ledger_transactions.id"))
    account_kind: so.Mapped[str] = so.mapped_column(sa.String(30))
    owner_id: so.Mapped[int | None]  # the brand or expert; None for the platform's accounts
    currency: so.Mapped[str] = so.mapped_column(sa.String(3))  # ISO 4217; a transaction is in one currency
    amount_cents: so.Mapped[int] = so.mapped_column(sa.BigInteger)  # > 0 debit, < 0 credit


class Earning(db.Model):
    """What one answered chat earned its expert, and what the brand owes for it."""

    __tablename__ = "earnings"
    __table_args__ = (
        sa.UniqueConstraint("conversation_id", name="uq_earnings_conversation"),
        sa.CheckConstraint("price_cents >= 0 AND commission_cents >= 0 AND bonus_cents >= 0", name="amounts"),
        sa.CheckConstraint("expert_cents = price_cents + bonus_cents - commission_cents", name="split"),
        sa.Index("ix_earnings_expert_status", "expert_id", "status"),
        sa.Index("ix_earnings_status_hold", "status", "hold_until"),
        sa.Index("ix_earnings_closed", "closed_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    conversation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("conversations.id", ondelete="RESTRICT"))
    brand_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("brands.id", ondelete="RESTRICT"))
    expert_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("expert_profiles.id", ondelete="RESTRICT"))
    rate_card_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("rate_cards.id", ondelete="SET NULL"))
    currency: so.Mapped[str] = so.mapped_column(sa.String(3))  # the brand's
    price_cents: so.Mapped[int]
    commission_cents: so.Mapped[int]
    bonus_cents: so.Mapped[int]
    expert_cents: so.Mapped[int]
    closed_at: so.Mapped[dt.datetime]  # when the chat closed
    earned_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    hold_until: so.Mapped[dt.datetime]
    status: so.Mapped[EarningStatus] = so.mapped_column(
        enum_column(EarningStatus, "earning_status"), default=EarningStatus.HELD
    )
    flags: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)  # fraud checks that fired (codes)
    # Each fired check's figures, by code ({"short_chat": {"seconds": 12}}); earnings.flag_reasons puts them in words.
    flag_params: so.Mapped[dict[str, dict[str, Any]]] = so.mapped_column(sa.JSON, default=dict,
                                                                        server_default=sa.text("'{}'"))
    transaction_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("ledger_transactions.id"))  # None: free
    released_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("ledger_transactions.id"))
    # A brand's dispute, and the review of a dispute or of a fraud flag: the earning stays held until decided.
    disputed_at: so.Mapped[dt.datetime | None]
    dispute_reason: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    disputed_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    decision: so.Mapped[str | None] = so.mapped_column(sa.String(10))  # released | reversed
    decision_note: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    decided_at: so.Mapped[dt.datetime | None]
    decided_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))


class BatchStatus(enum.StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    SUBMITTING = "submitting"
    PAID = "paid"
    PARTIALLY_FAILED = "partially_failed"
    CLOSED = "closed"
    CANCELLED = "cancelled"


OPEN_BATCH_STATUSES = (BatchStatus.DRAFT, BatchStatus.APPROVED, BatchStatus.SUBMITTING)


class ItemStatus(enum.StrEnum):
    PENDING = "pending"
    SUBMITTED = "submitted"
    PAID = "paid"
    FAILED = "failed"
    REVERSED = "reversed"


class PayoutRail(enum.StrEnum):
    STRIPE = "stripe"  # a transfer to the expert's Stripe connected account
    SEPA = "sepa"  # a line of the batch's SEPA credit-transfer file (pain.001)


class PayoutBatch(db.Model):
    """One payout run in one currency: created by a finance user, approved by another, then submitted."""

    __tablename__ = "payout_batches"
    __table_args__ = (
        sa.CheckConstraint("approved_by_id IS NULL OR approved_by_id <> created_by_id", name="four_eyes"),
        sa.CheckConstraint("minimum_cents >= 0", name="minimum"),
        # At most one batch in a currency is open at a time, so no payable money is put in two batches.
        sa.Index("uq_payout_batches_one_open", "currency", unique=True,
                 sqlite_where=sa.text("status IN ('draft', 'approved', 'submitting')"),
                 postgresql_where=sa.text("status IN ('draft', 'approved', 'submitting')")),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    currency: so.Mapped[str] = so.mapped_column(sa.String(3))
    status: so.Mapped[BatchStatus] = so.mapped_column(enum_column(BatchStatus, "batch_status"),
                                                      default=BatchStatus.DRAFT)
    minimum_cents: so.Mapped[int]
    created_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    approved_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    approved_at: so.Mapped[dt.datetime | None]
    cancelled_at: so.Mapped[dt.datetime | None]
    submitted_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    submitted_at: so.Mapped[dt.datetime | None]
    finished_at: so.Mapped[dt.datetime | None]
    carried_forward: so.Mapped[dict[str, int]] = so.mapped_column(sa.JSON, default=dict)  # expert id -> cents
    not_ready: so.Mapped[dict[str, int]] = so.mapped_column(sa.JSON, default=dict)  # no payout details yet


class PayoutItem(db.Model):
    """What one batch pays one expert; `attempt` numbers the provider calls' idempotency keys."""

    __tablename__ = "payout_items"
    __table_args__ = (
        sa.UniqueConstraint("batch_id", "expert_id", name="uq_payout_items_batch_expert"),
        sa.CheckConstraint("amount_cents > 0", name="amount_positive"),
        sa.CheckConstraint("attempt >= 1", name="attempt"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    batch_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("payout_batches.id", ondelete="RESTRICT"), index=True)
    expert_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("expert_profiles.id", ondelete="RESTRICT"))
    amount_cents: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    status: so.Mapped[ItemStatus] = so.mapped_column(enum_column(ItemStatus, "item_status"),
                                                     default=ItemStatus.PENDING)
    attempt: so.Mapped[int] = so.mapped_column(default=1)
    rail: so.Mapped[PayoutRail] = so.mapped_column(enum_column(PayoutRail, "payout_rail"), default=PayoutRail.SEPA)
    provider_ref: so.Mapped[str | None] = so.mapped_column(sa.String(100), index=True)  # transfer or SEPA line id
    failure: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    submitted_at: so.Mapped[dt.datetime | None]
    finished_at: so.Mapped[dt.datetime | None]


class ConnectedAccount(db.Model):
    """An expert's Stripe connected account; `transfers_enabled` follows Stripe's `account.updated` events."""

    __tablename__ = "stripe_accounts"

    expert_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("expert_profiles.id", ondelete="RESTRICT"),
                                                 primary_key=True)
    account_id: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    transfers_enabled: so.Mapped[bool] = so.mapped_column(default=False)
    details_submitted: so.Mapped[bool] = so.mapped_column(default=False)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    event_created: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)  # newest event applied (Unix time)


class ProviderEvent(db.Model):
    """A webhook event already handled: the primary key makes a second delivery change nothing."""

    __tablename__ = "provider_events"

    id: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    type: so.Mapped[str] = so.mapped_column(sa.String(60))
    received_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)


class FaqCredit(db.Model):
    """What one conversation the FAQ bot resolved earned the expert who wrote the entry it answered with: the
    brand's credit per resolution, read when it was posted. Held, then payable, as an earning is; recorded once
    (unique per conversation). A resolved conversation is no answered chat: it has a credit, never an earning.
    """

    __tablename__ = "faq_credits"
    __table_args__ = (
        sa.UniqueConstraint("conversation_id", name="uq_faq_credits_conversation"),
        sa.CheckConstraint("amount_cents > 0", name="amount_positive"),
        sa.Index("ix_faq_credits_expert_status", "expert_id", "status"),
        sa.Index("ix_faq_credits_status_hold", "status", "hold_until"),
        sa.Index("ix_faq_credits_resolved", "resolved_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    conversation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("conversations.id", ondelete="RESTRICT"))
    brand_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("brands.id", ondelete="RESTRICT"))
    expert_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("expert_profiles.id", ondelete="RESTRICT"))
    # The entry the bot resolved it with (None once the brand deleted the entry: the credit stands).
    entry_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("faq_entries.id", ondelete="SET NULL"))
    currency: so.Mapped[str] = so.mapped_column(sa.String(3))  # the brand's
    amount_cents: so.Mapped[int]
    resolved_at: so.Mapped[dt.datetime]  # when the bot resolved the conversation
    credited_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
    hold_until: so.Mapped[dt.datetime]
    status: so.Mapped[EarningStatus] = so.mapped_column(
        enum_column(EarningStatus, "faq_credit_status"), default=EarningStatus.HELD
    )
    transaction_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("ledger_transactions.id"))
    released_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("ledger_transactions.id"))


class TaxThreshold(db.Model):
    """A tax ceiling's amount from a date on (micro-entrepreneur turnover, VAT franchise): a dated setting, so a
    new finance law is a new row and past years keep the amount they had. The migration seeds the known ones."""

    __tablename__ = "tax_thresholds"
    __table_args__ = (
        sa.UniqueConstraint("kind", "effective_from", name="uq_tax_thresholds_kind_from"),
        sa.CheckConstraint("amount_cents > 0", name="amount_positive"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(40))  # see payouts.tax.services.THRESHOLD_KINDS
    effective_from: so.Mapped[dt.date]
    amount_cents: so.Mapped[int]
    currency: so.Mapped[str] = so.mapped_column(sa.String(3), default="EUR")
    note: so.Mapped[str] = so.mapped_column(sa.String(200), default="")  # the legal source
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)


class TaxSummaryNotice(db.Model):
    """An expert was told their yearly summary (art. 242 bis CGI) of `year` is ready: once per expert and year."""

    __tablename__ = "tax_summary_notices"
    __table_args__ = (sa.UniqueConstraint("expert_id", "year", name="uq_tax_summary_notices_expert_year"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    expert_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("expert_profiles.id", ondelete="RESTRICT"))
    year: so.Mapped[int]
    notified_at: so.Mapped[dt.datetime] = so.mapped_column(default=utcnow)
