"""FAQ credits on a real database: each conversation the bot resolved with an entry an expert wrote credits that
expert the brand's credit once, through the ledger; held, then payable, then paid by a batch."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from marketplace.accounts.models import Role, User
from marketplace.brands.models import Brand
from marketplace.database import utcnow
from marketplace.experts.models import ExpertProfile, PayoutDetails
from marketplace.payouts import jobs
from marketplace.payouts.batches import services as batches
from marketplace.payouts.batches import settlement, submission
from marketplace.payouts.credits import services as credits
from marketplace.payouts.earnings import services as earnings
from marketplace.payouts.ledger import books, checks
from marketplace.payouts.models import (
    BatchStatus,
    Earning,
    EarningStatus,
    FaqCredit,
    LedgerEntry,
    LedgerTransaction,
    PayoutItem,
)
from marketplace.routing import history
from tests.factories import ApprovedExpertFactory, BrandFactory, EnrolmentFactory, UserFactory
from tests.payouts.credits.resolutions import entry, handed_over, pays_credit, resolved

NOW = utcnow()
HOLD = dt.timedelta(days=14)  # PAYOUT_HOLD_DAYS in tests


def author_of(brand: Brand) -> ExpertProfile:
    return EnrolmentFactory(brand_id=brand.id).expert


def owed(expert: ExpertProfile, currency: str = "EUR") -> dict[str, int]:
    return books.expert_balances(expert.id).get(currency, {"expert_held": 0, "expert_payable": 0,
                                                           "expert_in_transit": 0})


def credit_count(session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(FaqCredit))


def test_a_resolution_by_an_experts_entry_credits_them_once_through_the_ledger(session, shop):
    author = author_of(shop)
    pays_credit(shop, 30)
    conversation = resolved(shop, entry(shop, author))
    assert credits.record_credits() == 1
    assert credits.record_credits() == 0  # a second pass posts nothing again
    row = session.scalar(sa.select(FaqCredit))
    assert (row.conversation_id, row.brand_id, row.expert_id, row.amount_cents, row.currency, row.status) == (
        conversation.id, shop.id, author.id, 30, "EUR", EarningStatus.HELD)
    assert row.resolved_at == conversation.closed_at and row.hold_until == conversation.closed_at + HOLD
    transaction = session.get(LedgerTransaction, row.transaction_id)
    assert transaction.kind == "faq_credit" and str(conversation.id) in transaction.memo
    entries = {(e.account_kind, e.owner_id): e.amount_cents for e in session.scalars(
        sa.select(LedgerEntry).where(LedgerEntry.transaction_id == transaction.id))}
    # The brand owes all of it; the expert earns all of it (no commission), held.
    assert entries == {("brand_receivable", shop.id): 30, ("expert_held", author.id): -30}
    assert session.scalar(sa.select(sa.func.count()).select_from(LedgerTransaction)) == 1
    assert owed(author) == {"expert_held": 30, "expert_payable": 0, "expert_in_transit": 0}
    assert checks.check_invariants().breaches == []


def test_confirmed_and_unconfirmed_resolutions_both_credit(session, shop):
    author = author_of(shop)
    pays_credit(shop, 25)
    written = entry(shop, author)
    resolved(shop, written, confirmed=True)
    resolved(shop, written, confirmed=False)
    assert credits.record_credits() == 2
    assert owed(author)["expert_held"] == 50


def test_the_entry_of_the_bots_last_answer_is_the_one_credited(session, shop):
    first_author, last_author = author_of(shop), author_of(shop)
    pays_credit(shop, 40)
    resolved(shop, entry(shop, last_author), earlier=entry(shop, first_author))
    credits.record_credits()
    assert session.scalars(sa.select(FaqCredit.expert_id)).all() == [last_author.id]


def test_a_handed_over_conversation_credits_nobody(session, shop):
    author = author_of(shop)
    pays_credit(shop, 30)
    handed_over(shop, entry(shop, author), author_of(shop))
    assert credits.record_credits(utcnow() + dt.timedelta(minutes=15)) == 0
    assert credit_count(session) == 0


def test_an_entry_the_brand_wrote_itself_credits_nobody(session, shop):
    pays_credit(shop, 30)
    resolved(shop, entry(shop, None))
    assert credits.record_credits() == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(LedgerTransaction)) == 0


def test_a_brand_whose_credit_is_zero_posts_nothing(session, shop):
    author = author_of(shop)
    written = entry(shop, author)
    resolved(shop, written)  # never set: no credit
    assert credits.record_credits() == 0
    pays_credit(shop, 0)
    resolved(shop, written)
    assert credits.record_credits() == 0
    assert credit_count(session) == 0 and owed(author)["expert_held"] == 0


def test_the_credit_is_the_brands_when_posted(session, shop):
    author = author_of(shop)
    pays_credit(shop, 30)
    resolved(shop, entry(shop, author))
    pays_credit(shop, 45)  # changed before the pass
    credits.record_credits()
    assert session.scalar(sa.select(FaqCredit.amount_cents)) == 45


def test_a_resolved_conversation_earns_no_expert_an_earning(session, shop):
    author = author_of(shop)
    pays_credit(shop, 30)
    resolved(shop, entry(shop, author), at=NOW - dt.timedelta(hours=1))
    assert earnings.record_earnings(NOW) == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(Earning)) == 0
    assert history.answered_chats_closed(NOW - dt.timedelta(days=1), NOW) == []


def test_each_brand_owes_its_own_credits_in_its_own_currency(session, shop):
    francs = BrandFactory(name="Horloger", currency="CHF")
    author = author_of(shop)
    EnrolmentFactory(brand_id=francs.id, expert=author)
    pays_credit(shop, 30)
    pays_credit(francs, 80)
    resolved(shop, entry(shop, author))
    resolved(francs, entry(francs, author))
    resolved(francs, entry(francs, author))
    assert credits.record_credits() == 3
    by_brand = {(brand, currency): cents for brand, currency, cents in session.execute(
        sa.select(LedgerEntry.owner_id, LedgerEntry.currency, sa.func.sum(LedgerEntry.amount_cents))
        .where(LedgerEntry.account_kind == "brand_receivable").group_by(LedgerEntry.owner_id, LedgerEntry.currency))}
    assert by_brand == {(shop.id, "EUR"): 30, (francs.id, "CHF"): 160}
    rows = {(c.brand_id, c.currency, c.amount_cents) for c in session.scalars(sa.select(FaqCredit))}
    assert rows == {(shop.id, "EUR", 30), (francs.id, "CHF", 80)}
    assert owed(author, "EUR")["expert_held"] == 30 and owed(author, "CHF")["expert_held"] == 160


def test_an_entry_of_another_brand_is_never_credited_on_this_brands_bill(session, shop):
    """A turn naming another brand's entry (it should never happen: no base crosses brands) credits nothing."""
    other = BrandFactory(name="Autre")
    author = author_of(other)
    pays_credit(shop, 30)
    pays_credit(other, 30)
    resolved(shop, entry(other, author))
    assert credits.record_credits() == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry).where(
        LedgerEntry.account_kind == "brand_receivable")) == 0


def test_a_pass_reaches_new_resolutions_behind_many_already_credited(session, shop, monkeypatch):
    monkeypatch.setattr(credits, "PAGE", 2)
    author = author_of(shop)
    pays_credit(shop, 10)
    written = entry(shop, author)
    for minutes in (50, 40, 30):
        resolved(shop, written, at=NOW - dt.timedelta(minutes=minutes))
    assert credits.record_credits() == 3
    # Committed late, older than the newest credited: behind a first page of credited ones.
    resolved(shop, written, at=NOW - dt.timedelta(minutes=35))
    assert credits.record_credits() == 1
    assert credit_count(session) == 4


def test_a_resolution_credited_twice_at_once_posts_one_transaction(session, shop):
    """Two passes racing on one resolution: the unique conversation refuses the second, and its ledger rows go
    with it."""
    author = author_of(shop)
    pays_credit(shop, 30)
    resolved(shop, entry(shop, author))
    (resolution,) = history.bot_resolutions(NOW - dt.timedelta(days=1), utcnow(), brand_ids={shop.id})
    assert credits.credit(resolution, 30, "EUR", NOW) is not None
    assert credits.credit(resolution, 30, "EUR", NOW) is None
    assert session.scalar(sa.select(sa.func.count()).select_from(LedgerTransaction)) == 1
    assert owed(author)["expert_held"] == 30


def test_credits_become_payable_after_the_hold_once(session, shop):
    author = author_of(shop)
    pays_credit(shop, 30)
    conversation = resolved(shop, entry(shop, author))
    credits.record_credits()
    assert credits.release_due(conversation.closed_at + HOLD - dt.timedelta(seconds=1)) == 0
    assert credits.release_due(conversation.closed_at + HOLD) == 1
    assert credits.release_due(conversation.closed_at + HOLD + dt.timedelta(days=1)) == 0  # released once
    row = session.scalar(sa.select(FaqCredit))
    assert row.status == EarningStatus.PAYABLE and row.released_by_id is not None
    assert owed(author) == {"expert_held": 0, "expert_payable": 30, "expert_in_transit": 0}
    assert checks.check_invariants().breaches == []


def test_a_released_credit_is_paid_by_the_next_batch(session, shop):
    author = ApprovedExpertFactory(country="BE")
    EnrolmentFactory(brand_id=shop.id, expert=author)
    session.add(PayoutDetails(expert_id=author.id, account_holder="A. Expert", iban_sealed="x", iban_country="BE",
                              iban_last4="1234"))
    pays_credit(shop, 30)
    conversation = resolved(shop, entry(shop, author))
    credits.record_credits()
    credits.release_due(conversation.closed_at + HOLD)
    creator, approver = UserFactory(role=Role.FINANCE), UserFactory(role=Role.FINANCE)
    session.commit()
    batch = batches.create_draft(creator, "EUR", 0)
    assert session.scalars(sa.select(PayoutItem.amount_cents).where(PayoutItem.expert_id == author.id)).all() == [30]
    batches.approve(approver, batch.id)
    submission.submit(creator, batch.id)
    assert settlement.confirm_sepa(approver, batch.id) == 1
    assert batches.find_batch(batch.id).status == BatchStatus.PAID
    assert owed(author) == {"expert_held": 0, "expert_payable": 0, "expert_in_transit": 0}
    assert checks.check_invariants().breaches == []
    (totals,) = earnings.own_earnings(session.get(User, author.user_id)).totals
    assert (totals.held_cents, totals.payable_cents, totals.paid_cents) == (0, 0, 30)  # paid: shown as paid


def test_the_scheduler_runs_the_credit_pass_every_minute(app):
    assert (jobs.CREDIT.func, jobs.CREDIT.trigger, jobs.CREDIT.trigger_args) == (
        credits.record_credits, "interval", {"seconds": 60})
    assert jobs.RELEASE_CREDITS.func is credits.release_due
    assert {jobs.CREDIT.id, jobs.RELEASE_CREDITS.id} <= {job.id for job in app.extensions["scheduled_jobs"]}


def test_a_credit_is_never_paid_by_another_brand(session, shop):
    """Brand B's resolutions by the same author never put B's credit on A's bill, nor A's on B's."""
    other = BrandFactory(name="Autre")
    author = author_of(shop)
    EnrolmentFactory(brand_id=other.id, expert=author)
    pays_credit(shop, 30)
    pays_credit(other, 0)  # B pays no credit: its resolutions credit nothing, and A pays none of them
    resolved(shop, entry(shop, author))
    resolved(other, entry(other, author))
    credits.record_credits()
    receivables = dict(session.execute(
        sa.select(LedgerEntry.owner_id, sa.func.sum(LedgerEntry.amount_cents))
        .where(LedgerEntry.account_kind == "brand_receivable").group_by(LedgerEntry.owner_id)).all())
    assert receivables == {shop.id: 30}
    assert session.scalars(sa.select(FaqCredit.brand_id)).all() == [shop.id]
