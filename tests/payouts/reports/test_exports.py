"""The finance console's reports: CSV exports read back cell by cell, the reconciliation against the
Stripe-compatible fake (matched, in flight, reversed without the webhook, amounts that differ, totals), the
money audit log, who may see them, and bad input answered 4xx naming the field."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zoneinfo

import pytest
import sqlalchemy as sa
from babel.dates import format_datetime

from marketplace.accounts import services as accounts
from marketplace.accounts.models import AuditEvent, Role
from marketplace.core import ledger
from marketplace.errors import Forbidden
from marketplace.experts.models import ExpertProfile
from marketplace.payouts.batches import services as batches
from marketplace.payouts.batches import submission
from marketplace.payouts.ledger import books
from marketplace.payouts.models import (
    BatchStatus,
    ConnectedAccount,
    Earning,
    EarningStatus,
    ItemStatus,
    LedgerEntry,
    LedgerTransaction,
    PayoutBatch,
    PayoutItem,
    PayoutRail,
)
from marketplace.payouts.rails import gateway as gateways
from marketplace.payouts.reports import exports as reports
from marketplace.web import spreadsheets
from tests.conftest import log_in
from tests.factories import ApprovedExpertFactory, BrandFactory, UserFactory
from tests.payouts.earnings.test_services import chat, expert_of
from tests.payouts.money import approved_batch, sepa_expert, stripe_expert, submitting_batch

UTC = dt.UTC
PARIS = zoneinfo.ZoneInfo("Europe/Paris")


# --- Helpers ----------------------------------------------------------------------------------------------













def item_of(session, expert: ExpertProfile, batch: PayoutBatch | None = None) -> PayoutItem:
    query = sa.select(PayoutItem).where(PayoutItem.expert_id == expert.id)
    if batch is not None:
        query = query.where(PayoutItem.batch_id == batch.id)
    return session.scalar(query.execution_options(populate_existing=True))


def iso(value: dt.datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def table(response) -> list[list[str]]:
    """The CSV body as rows of cells, after checking it is a streamed UTF-8 CSV attachment."""
    assert response.status_code == 200, response.get_data(as_text=True)[:800]
    assert response.mimetype == "text/csv" and response.mimetype_params["charset"] == "utf-8"
    assert response.is_streamed
    assert response.headers["Content-Disposition"].startswith('attachment; filename="')
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")  # as every export: a byte order mark for French spreadsheets
    return spreadsheets.read(text)


def filename(response) -> str:
    return response.headers["Content-Disposition"].split('filename="', 1)[1].rstrip('"')


def at(session, transaction_id: int, when: dt.datetime) -> None:
    """Date a ledger transaction (tests only: the ledger is never edited by the application)."""
    session.execute(sa.update(LedgerTransaction).where(LedgerTransaction.id == transaction_id).values(created_at=when))
    session.commit()


# --- Exports ----------------------------------------------------------------------------------------------

def test_the_batch_items_csv_lists_every_item_with_cents_decimals_and_utc_times(client, session, fake, finance):
    anna = stripe_expert(session, fake, 1_999, name="Anna")
    sacha = sepa_expert(session, 3_000, name="Sacha")
    batch = approved_batch(finance)
    submission.submit(finance[0], batch.id)
    log_in(client, finance[1].email)

    response = client.get(f"/finance/batches/{batch.id}/items.csv")

    rows = table(response)
    assert filename(response) == f"payout-batch-{batch.id}-items.csv"
    paid, waiting = item_of(session, anna), item_of(session, sacha)
    assert rows == [
        ["item_id", "batch_id", "expert_id", "expert", "rail", "currency", "amount_cents", "amount", "status",
         "provider_ref", "failure", "submitted_at", "finished_at"],
        *sorted([
            [str(paid.id), str(batch.id), str(anna.id), "Anna", "stripe", "EUR", "1999", "19.99", "paid",
             paid.provider_ref, "", iso(paid.submitted_at), iso(paid.finished_at)],
            [str(waiting.id), str(batch.id), str(sacha.id), "Sacha", "sepa", "EUR", "3000", "30.00", "submitted",
             "", "", iso(waiting.submitted_at), ""],
        ], key=lambda row: int(row[0])),
    ]
    assert paid.provider_ref.startswith("tr_") and rows[1][11].endswith("Z")
    api = client.get(f"/api/v1/payout-batches/{batch.id}/items.csv")
    assert table(api) == rows
    assert client.get("/api/v1/payout-batches/999999/items.csv").status_code == 404


def test_the_ledger_csv_has_each_entry_of_the_period_and_nothing_outside_it(client, session, finance):
    expert = ApprovedExpertFactory()
    earned = books.post(ledger.earning(7, expert.id, 250, 50), "chat 12")
    released = books.post(ledger.release(expert.id, 200), "=HYPERLINK(\"http://evil\")")
    corrected = books.post(ledger.reversal(released, ledger.release(expert.id, 200)), "+correction")
    later = books.post(ledger.release(expert.id, 200), "next day")
    session.commit()
    at(session, earned, dt.datetime(2025, 1, 10, 0, 0, tzinfo=UTC))  # the first instant of the period
    at(session, released, dt.datetime(2025, 1, 11, 9, 30, 5, tzinfo=UTC))
    at(session, corrected, dt.datetime(2025, 1, 12, 23, 59, 59, tzinfo=UTC))  # the last second of the period
    at(session, later, dt.datetime(2025, 1, 13, 0, 0, tzinfo=UTC))  # the day after: left out
    entries = {tid: session.scalars(sa.select(LedgerEntry.id).where(LedgerEntry.transaction_id == tid)
                                    .order_by(LedgerEntry.id)).all() for tid in (earned, released, corrected)}
    log_in(client, finance[0].email)

    response = client.get("/finance/exports/ledger.csv?from=2025-01-10&to=2025-01-12")

    assert filename(response) == "ledger-2025-01-10-2025-01-12.csv"
    assert table(response) == [
        ["transaction_id", "kind", "created_at", "entry_id", "account_kind", "owner_id", "currency", "amount_cents",
         "amount", "memo", "reverses"],
        [str(earned), "earning", "2025-01-10T00:00:00Z", str(entries[earned][0]), "brand_receivable", "7", "EUR",
         "250", "2.50", "chat 12", ""],
        [str(earned), "earning", "2025-01-10T00:00:00Z", str(entries[earned][1]), "expert_held", str(expert.id),
         "EUR", "-200", "-2.00", "chat 12", ""],
        [str(earned), "earning", "2025-01-10T00:00:00Z", str(entries[earned][2]), "platform_commission", "", "EUR",
         "-50", "-0.50", "chat 12", ""],
        [str(released), "release", "2025-01-11T09:30:05Z", str(entries[released][0]), "expert_held", str(expert.id),
         "EUR", "200", "2.00", "'=HYPERLINK(\"http://evil\")", ""],
        [str(released), "release", "2025-01-11T09:30:05Z", str(entries[released][1]), "expert_payable",
         str(expert.id), "EUR", "-200", "-2.00", "'=HYPERLINK(\"http://evil\")", ""],
        [str(corrected), "reversal", "2025-01-12T23:59:59Z", str(entries[corrected][0]), "expert_held",
         str(expert.id), "EUR", "-200", "-2.00", "'+correction", str(released)],
        [str(corrected), "reversal", "2025-01-12T23:59:59Z", str(entries[corrected][1]), "expert_payable",
         str(expert.id), "EUR", "200", "2.00", "'+correction", str(released)],
    ]


def test_a_large_export_is_streamed_chunk_by_chunk_with_every_row_once(client, session, finance, monkeypatch):
    monkeypatch.setattr(reports, "CHUNK", 2)
    expert = ApprovedExpertFactory()
    ids = []
    for cents in range(101, 108):
        ids.append(books.post(ledger.release(expert.id, cents), f"r{cents}"))
    session.commit()
    for transaction_id in ids:
        at(session, transaction_id, dt.datetime(2024, 6, 1, 12, tzinfo=UTC))
    log_in(client, finance[0].email)

    response = client.get("/api/v1/exports/ledger.csv?from=2024-06-01&to=2024-06-01")

    assert response.status_code == 200 and response.is_streamed
    chunks = [chunk if isinstance(chunk, str) else chunk.decode() for chunk in response.response]
    assert len(chunks) == 1 + 7  # what the server sends piece by piece: the header, then 14 entries two at a time
    rows = list(csv.reader(io.StringIO("".join(chunks), newline=""), delimiter=";"))
    assert [(row[0], row[7]) for row in rows[1:]] == [(str(tid), str(sign * cents)) for tid, cents in
                                                      zip(ids, range(101, 108), strict=True) for sign in (1, -1)]


def earned(session, brand, expert, closed_at: dt.datetime, *, price: int, bonus: int = 0,
           status: EarningStatus = EarningStatus.PAYABLE, flags: list[str] | None = None) -> Earning:
    conversation = chat(session, brand, expert)
    commission = price // 5
    earning = Earning(conversation_id=conversation.id, brand_id=brand.id, expert_id=expert.id, currency="EUR",
                      price_cents=price, commission_cents=commission, bonus_cents=bonus,
                      expert_cents=price + bonus - commission, closed_at=closed_at, earned_at=closed_at,
                      hold_until=closed_at + dt.timedelta(days=14), status=status, flags=flags or [])
    session.add(earning)
    session.commit()
    return earning


def test_the_earnings_csv_lists_the_chats_closed_in_the_period_with_names_guarded(client, session, finance):
    shop = BrandFactory(name="-Atelier", price_cents=200)
    expert = expert_of(shop)
    expert.display_name = "@Camille"
    session.commit()
    first = earned(session, shop, expert, dt.datetime(2025, 3, 1, 8, 15, tzinfo=UTC), price=200, bonus=50,
                   flags=["short_chat", "repeat_pair"], status=EarningStatus.HELD)
    second = earned(session, shop, expert, dt.datetime(2025, 3, 31, 23, 0, tzinfo=UTC), price=1_000)
    earned(session, shop, expert, dt.datetime(2025, 4, 1, 0, 0, tzinfo=UTC), price=300)  # after the period
    earned(session, shop, expert, dt.datetime(2025, 2, 28, 23, 59, tzinfo=UTC), price=300)  # before it
    log_in(client, finance[0].email)

    response = client.get("/finance/exports/earnings.csv?from=2025-03-01&to=2025-03-31")

    assert filename(response) == "earnings-2025-03-01-2025-03-31.csv"
    assert table(response) == [
        ["earning_id", "conversation_id", "closed_at", "brand_id", "brand", "expert_id", "expert", "currency",
         "price_cents", "price", "commission_cents", "commission", "bonus_cents", "bonus", "expert_cents",
         "expert_amount", "status", "flags"],
        [str(first.id), str(first.conversation_id), "2025-03-01T08:15:00Z", str(shop.id), "'-Atelier",
         str(expert.id), "'@Camille", "EUR", "200", "2.00", "40", "0.40", "50", "0.50", "210", "2.10", "held",
         "short_chat,repeat_pair"],
        [str(second.id), str(second.conversation_id), "2025-03-31T23:00:00Z", str(shop.id), "'-Atelier",
         str(expert.id), "'@Camille", "EUR", "1000", "10.00", "200", "2.00", "0", "0.00", "800", "8.00",
         "payable", ""],
    ]


@pytest.mark.parametrize(("query", "field"), [
    ("from=2025-02-30&to=2025-03-01", "from"),  # no such day
    ("from=01/03/2025&to=2025-03-31", "from"),  # not ISO
    ("from=2025-03-01", "to"),  # missing
    ("from=2025-03-31&to=2025-03-01", "from"),  # the wrong way round
    ("from=2024-01-01&to=2025-01-01", "to"),  # 367 days
    ("from=2025-01-01&to=9999-12-31", "to"),  # out of range (and no overflow)
])
def test_a_bad_period_is_refused_naming_the_field_on_the_page_and_the_api(client, finance, query, field):
    log_in(client, finance[0].email)
    for kind in ("ledger", "earnings"):
        page = client.get(f"/finance/exports/{kind}.csv?{query}")
        assert page.status_code == 422 and page.mimetype == "text/html"
        html = page.get_data(as_text=True)
        assert f'id="period-{field}-error"' in html and 'data-testid="export-errors"' in html
        assert f'id="period-{field}" name="{field}"' in html
        api = client.get(f"/api/v1/exports/{kind}.csv?{query}")
        assert api.status_code == 422 and api.mimetype == "application/problem+json"
        assert list(api.json["errors"]) == [field]


def test_a_period_of_exactly_366_days_is_accepted(client, finance):
    log_in(client, finance[0].email)
    response = client.get("/api/v1/exports/ledger.csv?from=2024-01-01&to=2024-12-31")
    assert table(response)[0][0] == "transaction_id"


def test_the_exports_page_offers_the_period_form_and_each_batchs_items(client, session, finance):
    batch = batches.create_draft(finance[0], "EUR", 0)
    log_in(client, finance[1].email)

    page = client.get("/finance/exports").get_data(as_text=True)

    today = dt.datetime.now(UTC).date()
    assert f'name="from" value="{today.replace(day=1).isoformat()}"' in page
    assert f'name="to" value="{today.isoformat()}"' in page
    assert 'formaction="/finance/exports/earnings.csv"' in page
    assert f'href="/finance/batches/{batch.id}/items.csv"' in page
    home = client.get("/finance/").get_data(as_text=True)
    assert all(f'href="/finance/{path}"' in home for path in ("exports", "reconciliation", "audit"))


# --- Reconciliation ---------------------------------------------------------------------------------------

def line(report: dict, **wanted) -> list[dict]:
    return [found for found in report["lines"] if all(found[key] == value for key, value in wanted.items())]


def test_reconciliation_sorts_every_transfer_and_item_and_totals_each_currency(client, session, fake, finance):
    matched = stripe_expert(session, fake, 1_000, name="Mia")
    reversed_ = stripe_expert(session, fake, 1_200, name="Rémi")
    mismatched = stripe_expert(session, fake, 1_500, name="Max")
    gone = stripe_expert(session, fake, 700, name="Gil")
    bank = sepa_expert(session, 3_000, name="Sacha")
    first = approved_batch(finance)
    submission.submit(finance[0], first.id)
    submission.confirm_sepa(finance[1], first.id)
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
    second = submitting_batch(session, finance)
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
    batch = approved_batch(finance)
    submission.submit(finance[0], batch.id)
    submission.confirm_sepa(finance[1], batch.id)
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
    submission.submit(finance[0], approved_batch(finance).id)
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


# --- The money audit log ----------------------------------------------------------------------------------

def audit(session, kind: str, when: dt.datetime, **detail) -> AuditEvent:
    accounts.record_audit(kind, **detail)
    session.flush()
    event = session.scalar(sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
    event.created_at = when
    session.commit()
    return event


def test_the_audit_log_shows_money_events_newest_first_with_who_when_and_where(client, session, finance):
    fanny = finance[0]
    expert_user = UserFactory(role=Role.EXPERT, email="camille@example.com")
    noon = dt.datetime(2025, 1, 10, 12, 0, tzinfo=UTC)
    created = audit(session, "payout_batch_created", noon, actor_id=fanny.id, ip="192.0.2.7", batch_id=41,
                    currency="EUR", items=2, total_cents=4_250)
    read = audit(session, "payout_details_read", noon + dt.timedelta(minutes=5), actor_id=fanny.id,
                 subject_id=expert_user.id, ip="192.0.2.7", expert_id=3, reason="=SEPA file of payout batch 41")
    audit(session, "login", noon + dt.timedelta(minutes=6), actor_id=fanny.id, ip="192.0.2.7")  # not money
    finished = audit(session, "payout_batch_finished", noon + dt.timedelta(minutes=7), batch_id=42, status="paid")
    log_in(client, finance[1].email)

    listed = client.get("/api/v1/payout-audit-events").json

    mine = [event for event in listed["events"] if event["id"] in {created.id, read.id, finished.id}]
    assert [event["id"] for event in listed["events"]][:3] == [finished.id, read.id, created.id]
    assert all(event["kind"].startswith("payout_") for event in listed["events"])
    assert mine[2] == {"id": created.id, "created_at": "2025-01-10T12:00:00+00:00", "kind": "payout_batch_created",
                       "actor_id": fanny.id, "actor_name": "Fanny Finance", "actor_email": fanny.email,
                       "actor_label": "Fanny Finance", "kind_name": "Batch drafted",
                       "subject_id": None, "ip": "192.0.2.7",
                       "detail": {"batch_id": 41, "currency": "EUR", "items": 2, "total_cents": 4_250}}
    assert mine[0]["actor_id"] is None and mine[0]["actor_name"] is None  # the system finished it
    assert mine[0]["actor_label"] == "the system" and mine[0]["kind_name"] == "Batch finished"
    assert {"login"} & set(listed["kinds"]) == set()
    assert {"payout_batch_created", "payout_details_read", "payout_batch_finished"} <= set(listed["kinds"])

    page = client.get("/finance/audit").get_data(as_text=True)
    assert format_datetime(noon, "medium", tzinfo=PARIS, locale="en") in page  # 1:00 PM in Paris
    assert "Fanny Finance" in page and "192.0.2.7" in page and "about camille@example.com" in page
    assert "<dt>Total (cents)</dt><dd>4250</dd>" in page and "the system" in page
    assert '<option value="payout_details_read">' in page

    by_batch = client.get("/api/v1/payout-audit-events?batch_id=41").json["events"]
    assert [event["id"] for event in by_batch] == [created.id]
    by_kind = client.get("/api/v1/payout-audit-events?kind=payout_details_read").json["events"]
    assert [event["id"] for event in by_kind] == [read.id]
    filtered_page = client.get("/finance/audit?kind=payout_details_read").get_data(as_text=True)
    assert f'data-testid="event-{read.id}"' in filtered_page
    assert f'data-testid="event-{created.id}"' not in filtered_page

    rows = table(client.get("/finance/audit.csv?batch_id=41"))
    assert rows == [
        ["event_id", "created_at", "kind", "actor_id", "actor_name", "actor_email", "subject_id", "subject_email",
         "ip", "batch_id", "detail"],
        [str(created.id), "2025-01-10T12:00:00Z", "payout_batch_created", str(fanny.id), "Fanny Finance",
         fanny.email, "", "", "192.0.2.7", "41",
         '{"batch_id": 41, "currency": "EUR", "items": 2, "total_cents": 4250}'],
    ]
    read_rows = table(client.get("/api/v1/payout-audit-events.csv?kind=payout_details_read"))
    assert read_rows[1][2] == "payout_details_read" and read_rows[1][7] == "camille@example.com"
    assert read_rows[1][10] == '{"expert_id": 3, "reason": "=SEPA file of payout batch 41"}'  # JSON: no formula


def test_the_audit_log_pages_by_before_id_fifty_at_a_time(client, session, finance):
    start = dt.datetime(2025, 1, 1, tzinfo=UTC)
    events = [audit(session, "payout_batch_approved", start + dt.timedelta(minutes=n), actor_id=finance[0].id,
                    batch_id=900) for n in range(53)]
    newest_first = [event.id for event in reversed(events)]
    log_in(client, finance[1].email)

    first = client.get("/api/v1/payout-audit-events?batch_id=900").json
    second = client.get(f"/api/v1/payout-audit-events?batch_id=900&before_id={first['next_before_id']}").json

    assert [event["id"] for event in first["events"]] == newest_first[:50]
    assert first["next_before_id"] == newest_first[49]
    assert [event["id"] for event in second["events"]] == newest_first[50:]
    assert second["next_before_id"] is None
    page = client.get("/finance/audit?batch_id=900").get_data(as_text=True)
    assert page.count('data-testid="event-') == 50
    assert f'href="/finance/audit?before_id={newest_first[49]}&amp;batch_id=900"' in page
    older = client.get(f"/finance/audit?before_id={newest_first[49]}&batch_id=900").get_data(as_text=True)
    assert older.count('data-testid="event-') == 3 and 'data-testid="older"' not in older


@pytest.mark.parametrize(("query", "field"), [
    ("kind=login", "kind"),  # not a money event
    ("batch_id=abc", "batch_id"),
    ("batch_id=0", "batch_id"),
    ("batch_id=%C2%B2", "batch_id"),  # a superscript two: a digit to Python, not a number
    (f"batch_id={'9' * 30}", "batch_id"),
    ("before_id=-3", "before_id"),
])
def test_bad_audit_filters_are_refused_naming_the_field(client, finance, query, field):
    log_in(client, finance[0].email)

    page = client.get(f"/finance/audit?{query}")
    api = client.get(f"/api/v1/payout-audit-events?{query}")

    assert page.status_code == 422 and "events-title" not in page.get_data(as_text=True)
    assert api.status_code == 422 and list(api.json["errors"]) == [field]


# --- Who may see them -------------------------------------------------------------------------------------

PAGES = ["/finance/exports", "/finance/exports/ledger.csv?from=2025-01-01&to=2025-01-31",
         "/finance/exports/earnings.csv?from=2025-01-01&to=2025-01-31", "/finance/batches/1/items.csv",
         "/finance/reconciliation", "/finance/reconciliation.csv", "/finance/audit", "/finance/audit.csv"]
API = ["/api/v1/exports/ledger.csv?from=2025-01-01&to=2025-01-31",
       "/api/v1/exports/earnings.csv?from=2025-01-01&to=2025-01-31", "/api/v1/payout-batches/1/items.csv",
       "/api/v1/reconciliation", "/api/v1/reconciliation.csv", "/api/v1/payout-audit-events",
       "/api/v1/payout-audit-events.csv"]


@pytest.mark.parametrize("role", [Role.EXPERT, Role.BRAND, Role.OPS])
def test_other_roles_are_refused_every_report(client, session, role):
    log_in(client, UserFactory(role=role).email)
    for path in PAGES + API:
        response = client.get(path)
        assert response.status_code == 403, (role, path)
        assert response.mimetype != "text/csv"


def test_anonymous_people_are_sent_to_log_in_and_programs_get_401(client):
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
    for path in API:
        assert client.get(path).status_code == 401, path


def test_the_services_refuse_anyone_but_finance(session):
    ops = UserFactory(role=Role.OPS)
    for call in (lambda: reports.reconcile(ops), lambda: reports.money_audit(ops),
                 lambda: reports.ledger_csv(ops, "2025-01-01", "2025-01-02"),
                 lambda: reports.earnings_csv(ops, "2025-01-01", "2025-01-02"),
                 lambda: reports.batch_items_csv(ops, 1), lambda: reports.money_audit_csv(ops)):
        with pytest.raises(Forbidden):
            call()
