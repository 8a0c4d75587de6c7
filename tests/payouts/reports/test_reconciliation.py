"""The reconciliation against the Stripe-compatible fake: matched, in flight, reversed without the webhook,
amounts that differ, totals per currency, and a provider that cannot be asked."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from marketplace.payouts.batches import settlement, submission
from marketplace.payouts.models import BatchStatus, ConnectedAccount, ItemStatus, PayoutBatch, PayoutItem, PayoutRail
from marketplace.payouts.rails import gateway as gateways
from tests.conftest import log_in
from tests.factories import ApprovedExpertFactory, PayoutBatchFactory
from tests.payouts.money import sepa_expert, stripe_expert
from tests.payouts.reports.reading import UTC, item_of, table


def line(report: dict, **wanted) -> list[dict]:
    return [found for found in report["lines"] if all(found[key] == value for key, value in wanted.items())]


def test_reconciliation_sorts_every_transfer_and_item_and_totals_each_currency(client, session, fake, finance):
    matched = stripe_expert(session, fake, 1_000, name="Mia")
    reversed_ = stripe_expert(session, fake, 1_200, name="Rémi")
    mismatched = stripe_expert(session, fake, 1_500, name="Max")
    gone = stripe_expert(session, fake, 700, name="Gil")
    bank = sepa_expert(session, 3_000, name="Sacha")
    first = PayoutBatchFactory(created_by=finance[0], approved_by=finance[1])
    submission.submit(finance[0], first.id)
    settlement.confirm_sepa(finance[1], first.id)
    assert session.get(PayoutBatch, first.id, populate_existing=True).status == BatchStatus.PAID
    # Reversed at the provider (as from Stripe's dashboard); the webhook never arrives.
    reversed_ref = item_of(session, reversed_).provider_ref
    gateways.gateway()._client.v1.transfers.reversals.create(reversed_ref)
    # Our books say 14.00 where the provider sent 15.00; and another item names a transfer that does not exist.
    mismatch_item, gone_item = item_of(session, mismatched), item_of(session, gone)
    gone_ref = gone_item.provider_ref
    session.execute(sa.update(PayoutItem).where(PayoutItem.id == mismatch_item.id).values(amount_cents=1_400))
    session.execute(sa.update(PayoutItem).where(PayoutItem.id == gone_item.id).values(provider_ref="tr_gone"))
    session.commit()
    # In flight: the provider made the transfer, its answer was lost, our item is still submitted.
    flying = stripe_expert(session, fake, 900, name="Flo")
    second = PayoutBatchFactory(created_by=finance[0], approved_by=finance[1], status=BatchStatus.SUBMITTING)
    fake.lose_response_next(path="/v1/transfers", method="POST")
    assert submission.run(second.id).unresolved == 1
    flying_item = item_of(session, flying)
    assert flying_item.status == ItemStatus.SUBMITTED and flying_item.provider_ref is None
    # Not ours: a transfer made by hand on the platform's account.
    destination = session.get(ConnectedAccount, matched.id).account_id
    manual = gateways.gateway().transfer(destination=destination, amount_cents=50, currency="EUR",
                                         idempotency_key="by-hand-1", metadata={})
    stranger = gateways.gateway().transfer(destination=destination, amount_cents=25, currency="EUR",
                                           idempotency_key="by-hand-2", metadata={"payout_item": "987654321"})
    log_in(client, finance[0].email)

    report = client.get("/api/v1/reconciliation").json

    assert report["provider"] == "checked" and report["provider_message"] is None
    assert report["since"] == (dt.datetime.now(UTC).date() - dt.timedelta(days=30)).isoformat()
    transfers = {t["metadata"].get("payout_item"): t["id"] for t in fake.transfers()}
    summary = sorted((found["finding"], found["note"] or "", found["item_id"] or 0, found["transfer_id"],
                      found["ours_cents"], found["theirs_cents"], found["reversed_cents"])
                     for found in report["lines"])
    matched_item, reversed_item = item_of(session, matched), item_of(session, reversed_)
    assert summary == sorted([
        ("matched", "", matched_item.id, matched_item.provider_ref, 1_000, 1_000, 0),
        ("reversed_at_provider_not_in_ledger", "", reversed_item.id, reversed_ref, 1_200, 1_200, 1_200),
        ("amount_mismatch", "", mismatch_item.id, mismatch_item.provider_ref, 1_400, 1_500, 0),
        ("missing_at_provider", "", gone_item.id, "tr_gone", 700, None, 0),
        ("unknown_at_provider", "not_recorded", gone_item.id, gone_ref, 700, 700, 0),
        ("unknown_at_provider", "in_flight", flying_item.id, transfers[str(flying_item.id)], 900, 900, 0),
        ("unknown_at_provider", "not_ours", 0, manual.id, None, 50, 0),
        ("unknown_at_provider", "not_ours", 0, stranger.id, None, 25, 0),  # names an item we never had
    ])
    assert line(report, finding="matched")[0]["expert_name"] == "Mia"
    assert line(report, finding="reversed_at_provider_not_in_ledger")[0]["item_status"] == "paid"
    assert report["lines"][-1]["finding"] == "matched"  # what needs a look comes first
    assert report["totals"] == [{
        "currency": "EUR",
        "ledger_paid_cents": 1_000 + 1_200 + 1_500 + 700 + 3_000,  # the ledger posted what was sent
        "ledger_sepa_cents": 3_000,
        "ledger_stripe_cents": 4_400,
        "ledger_returned_cents": 0,  # the reversal is not in our ledger
        "provider_cents": 1_000 + 1_200 + 1_500 + 700 + 900 + 50 + 25,
        "provider_reversed_cents": 1_200,
        "difference_cents": 975,  # in flight (9.00) and not ours (0.50 + 0.25)
        "in_transit_cents": 900,
    }]
    bank_item = item_of(session, bank)
    assert [(p["item_id"], p["end_to_end_id"], p["amount_cents"], p["expert_name"]) for p in report["sepa"]] == [
        (bank_item.id, f"PAYOUT-ITEM-{bank_item.id}", 3_000, "Sacha")]

    rows = table(client.get("/finance/reconciliation.csv"))
    assert rows[0] == ["finding", "note", "item_id", "batch_id", "expert_id", "expert", "item_status", "transfer_id",
                       "currency", "ours_cents", "ours", "theirs_cents", "theirs", "reversed_cents", "reversed"]
    assert [row[2] for row in rows[1:]].count(str(mismatch_item.id)) == 1  # the item_id column
    assert ["amount_mismatch", "", str(mismatch_item.id), str(first.id), str(mismatched.id), "Max", "paid",
            mismatch_item.provider_ref, "EUR", "1400", "14.00", "1500", "15.00", "0", "0.00"] in rows
    assert ["unknown_at_provider", "not_ours", "", "", "", "", "", manual.id, "EUR", "", "", "50", "0.50", "0",
            "0.00"] in rows
    assert len(rows) == 1 + 8

    page = client.get("/finance/reconciliation")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-testid="provider-state"' in html
    assert html.count('data-testid="line-unknown_at_provider"') == 4
    assert "in flight: our item is still submitted" in html and f"PAYOUT-ITEM-{bank_item.id}" in html


def test_without_a_provider_the_report_shows_our_side_and_the_sepa_lines(client, session, finance):
    bank = sepa_expert(session, 2_500, name="Sacha")
    batch = PayoutBatchFactory(created_by=finance[0], approved_by=finance[1])
    submission.submit(finance[0], batch.id)
    settlement.confirm_sepa(finance[1], batch.id)
    expert = ApprovedExpertFactory(display_name="Stef")
    stripe_item = PayoutItem(batch_id=batch.id, expert_id=expert.id, amount_cents=400, rail=PayoutRail.STRIPE,
                             status=ItemStatus.PAID, provider_ref="tr_earlier", submitted_at=dt.datetime.now(UTC))
    session.add(stripe_item)
    session.commit()
    log_in(client, finance[0].email)

    report = client.get("/api/v1/reconciliation").json

    assert report["provider"] == "not_configured"
    assert [(found["finding"], found["item_id"], found["ours_cents"]) for found in report["lines"]] == [
        ("unchecked", stripe_item.id, 400)]
    assert report["totals"][0]["provider_cents"] is None and report["totals"][0]["ledger_sepa_cents"] == 2_500
    bank_item = item_of(session, bank)
    assert report["sepa"][0]["end_to_end_id"] == f"PAYOUT-ITEM-{bank_item.id}"
    html = client.get("/finance/reconciliation").get_data(as_text=True)
    assert "No payment provider is set up on this server: only our side is shown." in html
    assert f"PAYOUT-ITEM-{bank_item.id}" in html


def test_an_unreachable_provider_is_said_plainly_not_a_server_error(client, session, fake, finance):
    stripe_expert(session, fake, 1_000)
    submission.submit(finance[0], PayoutBatchFactory(created_by=finance[0], approved_by=finance[1]).id)
    fake.fail_next(3, status=500, method="GET", path="/v1/transfers")
    log_in(client, finance[0].email)

    page = client.get("/finance/reconciliation")
    api = client.get("/api/v1/reconciliation")
    csv_file = client.get("/finance/reconciliation.csv")

    assert page.status_code == 200
    assert "The payment provider did not answer: only our side is shown." in page.get_data(as_text=True)
    assert api.status_code == 200 and api.json["provider"] == "unreachable"
    assert [found["finding"] for found in api.json["lines"]] == ["unchecked"]
    assert table(csv_file)[1][0] == "unchecked"


@pytest.mark.parametrize(("since", "message"), [
    ("2025-02-30", "This is not a date"),
    ("tomorrow", "This is not a date"),
    ("2999-01-01", "Give a date from 2000 to 2100."),
    ("FUTURE", "Choose a day in the past."),
    ("2001-01-01", "Reconcile at most 366 days back."),
])
def test_a_bad_since_is_refused_naming_the_field(client, finance, since, message):
    if since == "FUTURE":
        since = (dt.datetime.now(UTC).date() + dt.timedelta(days=1)).isoformat()
    log_in(client, finance[0].email)

    page = client.get(f"/finance/reconciliation?since={since}")
    api = client.get(f"/api/v1/reconciliation?since={since}")
    csv_file = client.get(f"/api/v1/reconciliation.csv?since={since}")

    assert page.status_code == 422 and message in page.get_data(as_text=True)
    assert 'id="since-error"' in page.get_data(as_text=True)
    for response in (api, csv_file):
        assert response.status_code == 422 and response.mimetype == "application/problem+json"
        assert list(response.json["errors"]) == ["since"] and message in response.json["errors"]["since"][0]
