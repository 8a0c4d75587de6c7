"""Submitting payout batches against the Stripe-compatible fake with the real SDK: everyone paid exactly once,
whatever crashes, and the ledger matching the provider's transfers (rules 10 and 11)."""

from __future__ import annotations

import time
from collections import Counter

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import Role, User
from marketplace.brands.models import BrandRole
from marketplace.core import ledger
from marketplace.errors import Forbidden
from marketplace.notifications.models import Notification
from marketplace.payouts import jobs
from marketplace.payouts.batches import services as batches
from marketplace.payouts.batches import settlement, submission
from marketplace.payouts.ledger import checks
from marketplace.payouts.models import (
    BatchStatus,
    ConnectedAccount,
    ItemStatus,
    LedgerEntry,
    PayoutBatch,
    PayoutItem,
    PayoutRail,
)
from marketplace.payouts.rails import gateway as gateways
from tests.conftest import log_in
from tests.factories import (
    ApprovedExpertFactory,
    LedgerTransactionFactory,
    MembershipFactory,
    PayoutBatchFactory,
    UserFactory,
)
from tests.payouts.money import TIMEOUT, owed, sepa_expert, stripe_expert
from tests.stripe_fake import DEFAULT_WEBHOOK_SECRET, FakeStripe


def balance(session, kind: str, owner: int | None) -> int:
    return int(session.scalar(sa.select(sa.func.coalesce(sa.func.sum(LedgerEntry.amount_cents), 0)).where(
        LedgerEntry.account_kind == kind, LedgerEntry.owner_id == owner)))


def transfers_per_expert(session, fake: FakeStripe) -> dict[int, list[int]]:
    accounts = dict(session.execute(sa.select(ConnectedAccount.account_id, ConnectedAccount.expert_id)).all())
    paid: dict[int, list[int]] = {}
    for transfer in fake.transfers():
        paid.setdefault(accounts[transfer["destination"]], []).append(transfer["amount"])
    return paid


def assert_paid_exactly_once(session, fake: FakeStripe, expected: dict[int, int]) -> None:
    """Each expert got one transfer of what they were owed; the ledger says the same, and adds up."""
    assert transfers_per_expert(session, fake) == {expert: [cents] for expert, cents in expected.items()}
    for expert in expected:
        assert balance(session, "expert_payable", expert) == 0
        assert balance(session, "expert_in_transit", expert) == 0
    assert balance(session, "cash", None) == -sum(expected.values())
    assert checks.check_invariants().breaches == []


def test_a_batch_pays_stripe_experts_by_transfer_and_sepa_experts_by_file(session, fake, finance):
    anna, ben = stripe_expert(session, fake, 4_250), stripe_expert(session, fake, 1_999)
    carla = sepa_expert(session, 3_000)
    batch = PayoutBatchFactory(created_by=finance[0], approved_by=finance[1])
    rails = dict(session.execute(sa.select(PayoutItem.expert_id, PayoutItem.rail)).all())
    assert rails == {anna.id: PayoutRail.STRIPE, ben.id: PayoutRail.STRIPE, carla.id: PayoutRail.SEPA}

    submitted = submission.submit(finance[0], batch.id)

    assert submitted.status == BatchStatus.SUBMITTING  # the SEPA line waits for the bank
    assert transfers_per_expert(session, fake) == {anna.id: [4_250], ben.id: [1_999]}
    items = {item.expert_id: item for item in session.scalars(sa.select(PayoutItem))}
    assert items[anna.id].status == ItemStatus.PAID and items[anna.id].provider_ref.startswith("tr_")
    assert items[carla.id].status == ItemStatus.SUBMITTED
    assert balance(session, "expert_in_transit", carla.id) == -3_000
    transfer = fake.transfer(items[anna.id].provider_ref)
    assert transfer["metadata"] == {"payout_item": str(items[anna.id].id), "batch": f"batch-{batch.id}"}
    anna_user = session.get(User, anna.user_id)
    assert session.scalar(sa.select(Notification.kind).where(Notification.user_id == anna_user.id)) == "payout_paid"

    assert settlement.confirm_sepa(finance[1], batch.id) == 1
    assert session.get(PayoutBatch, batch.id).status == BatchStatus.PAID
    assert balance(session, "cash", None) == -(4_250 + 1_999 + 3_000)
    assert balance(session, "expert_in_transit", carla.id) == 0
    assert checks.check_invariants().breaches == []
    assert batches.close(finance[0], batch.id).status == BatchStatus.CLOSED


class Crash(Exception):
    """The process dies here."""


def crashed(session, batch_id: int, step: str, item_id: int) -> None:
    """A run that dies at `step` of the item; what it had not committed dies with it."""
    fault, _fired = crash_once_at(step, item_id)
    with pytest.raises(Crash):
        submission.run(batch_id, fault=fault)
    session.rollback()


def crash_once_at(step: str, item_id: int):
    fired = []

    def fault(at: str, current: int) -> None:
        if (at, current) == (step, item_id) and not fired:
            fired.append(at)
            raise Crash(at)

    return fault, fired


@pytest.mark.parametrize("step", [
    "before the call",  # item marked submitted and committed; the process dies before calling
    "call lost",  # the provider acted; its answer never arrived (connection dropped)
    "call timed out",  # the provider acted; the client gave up waiting
    "provider 500 after acting",  # the provider acted, then answered 500
    "after the answer",  # the answer arrived; the process dies before writing it down
    "before the commit",  # the item and ledger rows are written; the commit never happens
])
def test_a_crash_at_any_step_of_submission_then_a_restart_pays_everyone_exactly_once(session, fake, finance, step):
    owed_cents = {stripe_expert(session, fake, cents).id: cents for cents in (1_000, 2_500, 730)}
    batch = PayoutBatchFactory(created_by=finance[0], approved_by=finance[1], status=BatchStatus.SUBMITTING)
    middle = sorted(session.scalars(sa.select(PayoutItem.id)))[1]
    fault, fired = crash_once_at({"before the call": "marked", "after the answer": "called",
                                  "before the commit": "settled"}.get(step, ""), middle)
    if step == "call lost":
        fake.lose_response_next(path="/v1/transfers", method="POST", answer="close")
    elif step == "call timed out":
        fake.time_out_next(seconds=TIMEOUT + 0.5, effect="after", path="/v1/transfers", method="POST")
    elif step == "provider 500 after acting":
        fake.lose_response_next(path="/v1/transfers", method="POST", answer="500")

    try:
        first = submission.run(batch.id, fault=fault)
    except Crash:
        session.rollback()  # what was not committed dies with the process
        first = None
    if step in ("before the call", "after the answer", "before the commit"):
        assert fired and first is None
    else:
        assert first.unresolved == 1  # the outcome is unknown: the item stays submitted
    assert session.get(PayoutBatch, batch.id, populate_existing=True).status == BatchStatus.SUBMITTING

    time.sleep(TIMEOUT if step == "call timed out" else 0)  # let the fake finish the request it kept
    assert jobs.SUBMIT.func() == {"batches": 1, "paid": 3 - (first.paid if first else 1), "failed": 0,
                                  "unresolved": 0}
    assert session.get(PayoutBatch, batch.id, populate_existing=True).status == BatchStatus.PAID
    assert_paid_exactly_once(session, fake, owed_cents)
    assert jobs.SUBMIT.func()["batches"] == 0  # nothing left: running again changes nothing
    assert len(fake.transfers()) == 3


@pytest.mark.parametrize("meanwhile", ["keys expired", "account restricted"])
def test_a_transfer_made_before_a_crash_is_written_down_not_made_again(session, fake, finance, meanwhile):
    """Stripe forgets idempotency keys after 24 hours, and an account may stop receiving transfers: a run
    resumed after either finds the transfer already made (the batch's transfer group) and records it."""
    owed_cents = {stripe_expert(session, fake, cents).id: cents for cents in (1_000, 2_500)}
    batch = PayoutBatchFactory(created_by=finance[0], approved_by=finance[1], status=BatchStatus.SUBMITTING)
    first_item = min(session.scalars(sa.select(PayoutItem.id)))
    crashed(session, batch.id, "called", first_item)
    if meanwhile == "keys expired":
        fake.expire_idempotency_keys()
    else:
        item = session.get(PayoutItem, first_item)
        fake.restrict_account(session.get(ConnectedAccount, item.expert_id).account_id)

    done = submission.run(batch.id)

    assert (done.paid, done.failed, done.finished) == (2, 0, "paid")
    assert_paid_exactly_once(session, fake, owed_cents)


def test_a_resumed_item_waits_when_the_provider_cannot_list_what_it_did(session, fake, finance):
    stripe_expert(session, fake, 1_000)
    batch = PayoutBatchFactory(created_by=finance[0], approved_by=finance[1], status=BatchStatus.SUBMITTING)
    item_id = session.scalar(sa.select(PayoutItem.id))
    crashed(session, batch.id, "marked", item_id)
    fake.fail_next(status=500, method="GET", path="/v1/transfers")

    assert submission.run(batch.id).unresolved == 1  # not sent blind
    assert fake.transfers() == []
    assert submission.run(batch.id).finished == "paid"
    assert len(fake.transfers()) == 1


def test_a_refused_transfer_fails_its_item_and_returns_the_money_to_payable(session, fake, finance):
    rich, poor = stripe_expert(session, fake, 1_000), stripe_expert(session, fake, 5_000)
    fake.set_balance(3_000, "eur")  # enough for the first transfer only
    batch = PayoutBatchFactory(created_by=finance[0], approved_by=finance[1])

    done = submission.submit(finance[0], batch.id)

    assert done.status == BatchStatus.PARTIALLY_FAILED
    failed = session.scalar(sa.select(PayoutItem).where(PayoutItem.expert_id == poor.id))
    assert failed.status == ItemStatus.FAILED and "insufficient" in failed.failure
    assert balance(session, "expert_payable", poor.id) == -5_000  # payable again
    assert balance(session, "expert_in_transit", poor.id) == 0
    assert transfers_per_expert(session, fake) == {rich.id: [1_000]}
    assert checks.check_invariants().breaches == []

    fake.set_balance(100_000, "eur")
    batches.close(finance[0], batch.id)
    # The next batch pays it, with a new item and so a new key.
    again = PayoutBatchFactory(created_by=finance[0], approved_by=finance[1])
    assert submission.submit(finance[1], again.id).status == BatchStatus.PAID
    assert transfers_per_expert(session, fake) == {rich.id: [1_000], poor.id: [5_000]}


def test_money_reversed_after_the_draft_is_not_paid(session, fake, finance):
    expert = stripe_expert(session, fake, 2_000)
    batch = PayoutBatchFactory(created_by=finance[0], approved_by=finance[1])
    LedgerTransactionFactory(movement=ledger.Transaction("release", (
        ledger.Entry(ledger.Account("expert_payable", expert.id), 500),
        ledger.Entry(ledger.Account("expert_held", expert.id), -500))))
    session.commit()  # 500 of it went back to held (a correction) after the draft

    done = submission.submit(finance[0], batch.id)

    assert done.status == BatchStatus.PARTIALLY_FAILED
    item = session.scalar(sa.select(PayoutItem))
    assert item.status == ItemStatus.FAILED and fake.transfers() == []
    assert balance(session, "expert_payable", expert.id) == -1_500


def test_resubmitting_a_paid_batch_is_refused_and_changes_nothing(client, session, fake, finance):
    stripe_expert(session, fake, 1_000)
    batch = PayoutBatchFactory(created_by=finance[0], approved_by=finance[1])
    submission.submit(finance[0], batch.id)
    csrf = log_in(client, finance[1].email)

    response = client.post(f"/api/v1/payout-batches/{batch.id}/submit", headers={"X-CSRFToken": csrf})

    assert response.status_code == 409
    assert response.mimetype == "application/problem+json" and "status" in response.json["errors"]
    assert len(fake.transfers()) == 1
    assert session.get(PayoutBatch, batch.id, populate_existing=True).status == BatchStatus.PAID


def test_only_an_approved_batch_with_items_is_submitted(session, fake, finance):
    stripe_expert(session, fake, 1_000)
    draft = PayoutBatchFactory(created_by=finance[0])
    with pytest.raises(submission.Conflict):
        submission.submit(finance[1], draft.id)  # not approved yet
    assert fake.transfers() == [] and session.get(PayoutBatch, draft.id).status == BatchStatus.DRAFT
    with pytest.raises(Forbidden):
        submission.submit(UserFactory(role=Role.OPS), draft.id)


def test_the_finance_pages_submit_a_batch_and_show_each_items_outcome(client, session, fake, finance):
    paid = stripe_expert(session, fake, 1_000)
    batch = PayoutBatchFactory(created_by=finance[0], approved_by=finance[1])
    csrf = log_in(client, finance[0].email)

    response = client.post(f"/finance/batches/{batch.id}/submit", data={"csrf_token": csrf}, follow_redirects=True)

    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Batch submitted" in page
    assert "Status: paid" in page and session.get(ConnectedAccount, paid.id).account_id
    assert Counter(t["destination"] for t in fake.transfers()) == {session.get(ConnectedAccount, paid.id).account_id: 1}
    again = client.post(f"/finance/batches/{batch.id}/submit", data={"csrf_token": csrf}, follow_redirects=True)
    assert "only an approved batch can be submitted" in again.get_data(as_text=True)
    assert len(fake.transfers()) == 1


# --- What the review found -------------------------------------------------------------------------------
def test_a_rejected_stripe_key_pauses_the_submission_without_an_error_page(client, session, finance, app):
    with FakeStripe(api_key="sk_test_the_right_one") as server:
        gateways.set_gateway(app, gateways.StripeGateway("sk_test_right_for_accounts", DEFAULT_WEBHOOK_SECRET,
                                                         api_base=server.url, timeout=TIMEOUT))
        try:
            expert = ApprovedExpertFactory(country="BE")
            session.add(ConnectedAccount(expert_id=expert.id, account_id="acct_unknown", transfers_enabled=True))
            owed(session, expert.id, 900)
            batch = PayoutBatchFactory(created_by=finance[0], approved_by=finance[1])
            csrf = log_in(client, finance[0].email)
            response = client.post(f"/finance/batches/{batch.id}/submit", data={"csrf_token": csrf},
                                   follow_redirects=True)
            assert response.status_code == 200 and "Status: submitting" in response.get_data(as_text=True)
        finally:
            gateways.set_gateway(app, None)


def test_huge_ids_are_not_found_and_a_huge_conversation_number_is_refused(client, session, finance):
    csrf = log_in(client, finance[0].email)
    for path in (f"/finance/batches/{2**64}", f"/api/v1/payout-batches/{2**64}", f"/api/v1/earnings/{2**70}/reverse"):
        response = client.get(path) if "reverse" not in path else client.post(path, json={"note": "x" * 5},
                                                                                headers={"X-CSRFToken": csrf})
        assert response.status_code == 404, path
    admin = MembershipFactory(role=BrandRole.ADMIN)
    session.commit()
    client.post("/logout", data={"csrf_token": csrf})
    csrf = log_in(client, session.get(User, admin.user_id).email)
    refused = client.post(f"/api/v1/brands/{admin.brand_id}/disputes",
                          json={"conversation_id": 2**64, "reason": "x" * 5}, headers={"X-CSRFToken": csrf})
    assert refused.status_code == 422 and "conversation_id" in refused.json["errors"]
