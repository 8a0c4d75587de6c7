"""Experts owed money, paid by Stripe or by SEPA transfer, as the payouts tests set them up."""

from __future__ import annotations

from marketplace.core import ledger
from marketplace.experts.models import ExpertProfile, PayoutDetails
from marketplace.payouts.models import ConnectedAccount
from marketplace.payouts.rails import gateway as gateways
from marketplace.sealing import seal
from tests.factories import ApprovedExpertFactory, LedgerTransactionFactory
from tests.stripe_fake import FakeStripe

TIMEOUT = 0.5  # the test gateway's, so injected timeouts stay short


def owed(session, expert_id: int, cents: int, currency: str = "EUR") -> None:
    """`cents` earned and past the hold: payable."""
    LedgerTransactionFactory(movement=ledger.earning(1, expert_id, cents, 0, currency=currency))
    LedgerTransactionFactory(movement=ledger.release(expert_id, cents, currency=currency))
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

