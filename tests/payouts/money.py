"""Experts owed money and finance users' batches, as the payouts tests set them up."""

from __future__ import annotations

import sqlalchemy as sa

from marketplace.core import ledger
from marketplace.experts.models import ExpertProfile, PayoutDetails
from marketplace.payouts.batches import services as batches
from marketplace.payouts.ledger import books
from marketplace.payouts.models import BatchStatus, ConnectedAccount, PayoutBatch
from marketplace.payouts.rails import gateway as gateways
from marketplace.sealing import seal
from tests.factories import ApprovedExpertFactory
from tests.stripe_fake import FakeStripe

TIMEOUT = 0.5  # the test gateway's, so injected timeouts stay short


def owed(session, expert_id: int, cents: int) -> None:
    """`cents` earned and past the hold: payable."""
    books.post(ledger.earning(1, expert_id, cents, 0), "test")
    books.post(ledger.release(expert_id, cents), "test")
    session.commit()


def stripe_expert(session, fake: FakeStripe, cents: int, name: str = "Anna") -> ExpertProfile:
    """An expert in Belgium owed `cents`, with a Stripe account onboarded at the fake."""
    expert = ApprovedExpertFactory(country="BE", display_name=name)
    state = gateways.gateway().create_account(expert_id=expert.id, email=f"e{expert.id}@example.be", country="BE")
    fake.complete_onboarding(state.account_id)
    session.add(ConnectedAccount(expert_id=expert.id, account_id=state.account_id, transfers_enabled=True))
    owed(session, expert.id, cents)
    return expert


def sepa_expert(session, cents: int, iban: str = "BE68539007547034", name: str = "Sacha") -> ExpertProfile:
    """An expert in Belgium owed `cents`, paid by SEPA transfer to `iban`."""
    expert = ApprovedExpertFactory(country="BE", display_name=name)
    session.add(PayoutDetails(expert_id=expert.id, account_holder="Anne Dupré", iban_sealed=seal(iban, "payout-iban"),
                              iban_country=iban[:2], iban_last4=iban[-4:]))
    owed(session, expert.id, cents)
    return expert


def submitting_batch(session, finance) -> PayoutBatch:
    """An approved batch set submitting, as if Submit committed and its run had not begun."""
    batch = approved_batch(finance)
    session.execute(sa.update(PayoutBatch).where(PayoutBatch.id == batch.id).values(status=BatchStatus.SUBMITTING))
    session.commit()
    return batch


def approved_batch(finance) -> PayoutBatch:
    """A EUR batch of everything payable, drafted by the first finance user and approved by the second."""
    batch = batches.create_draft(finance[0], "EUR", 0)
    return batches.approve(finance[1], batch.id)
