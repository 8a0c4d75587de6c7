"""After submission: the SEPA file and the bank's confirmation or returned lines, and transfers reversed at the
provider; the money comes back payable and the ledger adds up."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import AuditEvent
from marketplace.payouts.batches import settlement, submission
from marketplace.payouts.ledger import checks
from marketplace.payouts.models import BatchStatus, ItemStatus, PayoutBatch, PayoutItem, ProviderEvent
from marketplace.payouts.rails import gateway as gateways
from tests.conftest import log_in
from tests.factories import PayoutBatchFactory
from tests.payouts.batches.test_submission import balance, crashed
from tests.payouts.money import sepa_expert, stripe_expert
from tests.payouts.rails.test_connect import deliver


def test_the_sepa_file_is_valid_pain_001_and_the_same_every_time(session, fake, finance):
    first = sepa_expert(session, 3_000, "FR1420041010050500013M02606")
    second = sepa_expert(session, 1_250, "DE89370400440532013000")
    batch = PayoutBatchFactory(created_by=finance[0], approved_by=finance[1])
    submission.submit(finance[0], batch.id)

    document = settlement.sepa_file(finance[1], batch.id)

    assert document == settlement.sepa_file(finance[1], batch.id)  # a second download is the same file
    ns = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}
    root = ET.fromstring(document)  # noqa: S314 - our own output
    assert root.find("p:CstmrCdtTrfInitn/p:GrpHdr/p:MsgId", ns).text == f"PAYOUT-BATCH-{batch.id}"
    assert root.find("p:CstmrCdtTrfInitn/p:GrpHdr/p:NbOfTxs", ns).text == "2"
    assert root.find("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", ns).text == "42.50"
    lines = {line.find("p:CdtrAcct/p:Id/p:IBAN", ns).text: line.find("p:Amt/p:InstdAmt", ns).text
             for line in root.iter(f"{{{ns['p']}}}CdtTrfTxInf")}
    assert lines == {"FR1420041010050500013M02606": "30.00", "DE89370400440532013000": "12.50"}
    reads = session.scalars(sa.select(AuditEvent).where(AuditEvent.kind == "payout_details_read")).all()
    assert {event.detail["expert_id"] for event in reads} == {first.id, second.id}


def test_a_returned_sepa_line_fails_and_its_money_is_payable_again(client, session, fake, finance):
    kept, returned = sepa_expert(session, 3_000), sepa_expert(session, 800)
    batch = PayoutBatchFactory(created_by=finance[0], approved_by=finance[1])
    submission.submit(finance[0], batch.id)
    item = session.scalar(sa.select(PayoutItem).where(PayoutItem.expert_id == returned.id))
    csrf = log_in(client, finance[1].email)

    blank = client.post(f"/api/v1/payout-items/{item.id}/return", json={"reason": ""}, headers={"X-CSRFToken": csrf})
    assert blank.status_code == 422 and "reason" in blank.json["errors"]
    response = client.post(f"/api/v1/payout-items/{item.id}/return", json={"reason": "AC04 closed account"},
                           headers={"X-CSRFToken": csrf})

    assert response.status_code == 200 and response.json["status"] == "failed"
    assert balance(session, "expert_payable", returned.id) == -800
    client.post(f"/api/v1/payout-batches/{batch.id}/sepa-confirmation", headers={"X-CSRFToken": csrf})
    assert session.get(PayoutBatch, batch.id, populate_existing=True).status == BatchStatus.PARTIALLY_FAILED
    assert balance(session, "expert_payable", kept.id) == 0 and balance(session, "cash", None) == -3_000


def test_a_reversed_transfer_reverses_its_item_and_the_money_is_payable_again(client, session, fake, finance):
    expert = stripe_expert(session, fake, 1_200)
    batch = PayoutBatchFactory(created_by=finance[0], approved_by=finance[1])
    submission.submit(finance[0], batch.id)
    item = session.scalar(sa.select(PayoutItem))
    gateways.gateway()._client.v1.transfers.reversals.create(item.provider_ref)  # as Stripe's dashboard would
    event = fake.events("transfer.reversed")[-1]

    assert deliver(client, event).json["outcome"] == "applied"
    assert deliver(client, event).json["outcome"] == "duplicate"

    assert session.get(PayoutItem, item.id, populate_existing=True).status == ItemStatus.REVERSED
    assert balance(session, "expert_payable", expert.id) == -1_200 and balance(session, "cash", None) == 0
    assert checks.check_invariants().breaches == []


def test_the_sepa_file_waits_until_every_sepa_line_is_in_it(session, fake, finance):
    first, second = sepa_expert(session, 1_000), sepa_expert(session, 2_000)
    batch = PayoutBatchFactory(created_by=finance[0], approved_by=finance[1])
    submission.submit(finance[0], batch.id, budget_seconds=0)  # the click's time ran out before any line
    assert session.get(PayoutBatch, batch.id, populate_existing=True).status == BatchStatus.SUBMITTING
    lines = session.scalars(sa.select(PayoutItem).order_by(PayoutItem.id)).all()
    assert [line.status for line in lines] == [ItemStatus.PENDING, ItemStatus.PENDING]
    submission._mark(lines[0].id, "EUR")  # one line marked, the other still waiting
    with pytest.raises(settlement.Conflict):
        settlement.sepa_file(finance[1], batch.id)
    with pytest.raises(settlement.Conflict):
        settlement.confirm_sepa(finance[1], batch.id)
    assert balance(session, "cash", None) == 0

    submission.resume()
    assert len(ET.fromstring(settlement.sepa_file(finance[1], batch.id)).findall(  # noqa: S314 - our own output
        ".//{urn:iso:std:iso:20022:tech:xsd:pain.001.001.03}CdtTrfTxInf")) == 2
    assert settlement.confirm_sepa(finance[1], batch.id) == 2
    assert balance(session, "expert_in_transit", first.id) == balance(session, "expert_in_transit", second.id) == 0
    assert balance(session, "cash", None) == -3_000


def test_a_sepa_line_returned_after_the_bank_executed_it_is_payable_again(client, session, fake, finance):
    expert = sepa_expert(session, 1_500)
    batch = PayoutBatchFactory(created_by=finance[0], approved_by=finance[1])
    submission.submit(finance[0], batch.id)
    settlement.confirm_sepa(finance[1], batch.id)
    item = session.scalar(sa.select(PayoutItem))
    csrf = log_in(client, finance[1].email)

    response = client.post(f"/api/v1/payout-items/{item.id}/return", json={"reason": "AC04 closed account"},
                           headers={"X-CSRFToken": csrf})

    assert response.status_code == 200 and response.json["status"] == "reversed"
    assert balance(session, "expert_payable", expert.id) == -1_500 and balance(session, "cash", None) == 0
    assert checks.check_invariants().breaches == []


def test_a_reversal_arriving_before_its_payment_is_recorded_waits_for_it(client, session, fake, finance):
    expert = stripe_expert(session, fake, 1_200)
    batch = PayoutBatchFactory(created_by=finance[0], approved_by=finance[1], status=BatchStatus.SUBMITTING)
    item_id = session.scalar(sa.select(PayoutItem.id))
    crashed(session, batch.id, "called", item_id)
    transfer = fake.transfers()[0]
    gateways.gateway()._client.v1.transfers.reversals.create(transfer["id"])
    event = fake.events("transfer.reversed")[-1]

    early = deliver(client, event)
    assert early.status_code == 409 and session.scalar(sa.select(sa.func.count()).select_from(ProviderEvent)) == 0

    submission.run(batch.id)  # the run records the payment...
    assert deliver(client, event).json["outcome"] == "applied"  # ...and Stripe's next delivery reverses it
    assert session.get(PayoutItem, item_id, populate_existing=True).status == ItemStatus.REVERSED
    assert balance(session, "expert_payable", expert.id) == -1_200 and balance(session, "cash", None) == 0
