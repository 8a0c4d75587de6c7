"""The finance exports read back cell by cell: a batch's items, the ledger and the earnings of a period, streamed
a chunk at a time, and a bad period answered 4xx naming the field."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import sqlalchemy as sa

from marketplace.core import ledger
from marketplace.payouts.batches import submission
from marketplace.payouts.models import EarningStatus, LedgerEntry
from marketplace.payouts.reports import exports
from tests.conftest import log_in
from tests.factories import (
    ApprovedExpertFactory,
    BrandFactory,
    EarningFactory,
    LedgerTransactionFactory,
    PayoutBatchFactory,
)
from tests.payouts.earnings.test_services import expert_of
from tests.payouts.money import sepa_expert, stripe_expert
from tests.payouts.reports.reading import UTC, filename, iso, item_of, table


def test_the_batch_items_csv_lists_every_item_with_cents_decimals_and_utc_times(client, session, fake, finance):
    anna = stripe_expert(session, fake, 1_999, name="Anna")
    sacha = sepa_expert(session, 3_000, name="Sacha")
    batch = PayoutBatchFactory(created_by=finance[0], approved_by=finance[1])
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
    # The first instant of the period.
    earned = LedgerTransactionFactory(movement=ledger.earning(7, expert.id, 250, 50), memo="chat 12",
                                      created_at=dt.datetime(2025, 1, 10, 0, 0, tzinfo=UTC)).id
    released = LedgerTransactionFactory(movement=ledger.release(expert.id, 200), memo="=HYPERLINK(\"http://evil\")",
                                        created_at=dt.datetime(2025, 1, 11, 9, 30, 5, tzinfo=UTC)).id
    # The last second of the period.
    corrected = LedgerTransactionFactory(movement=ledger.reversal(released, ledger.release(expert.id, 200)),
                                         memo="+correction",
                                         created_at=dt.datetime(2025, 1, 12, 23, 59, 59, tzinfo=UTC)).id
    # The day after: left out.
    LedgerTransactionFactory(movement=ledger.release(expert.id, 200), memo="next day",
                             created_at=dt.datetime(2025, 1, 13, 0, 0, tzinfo=UTC))
    session.commit()
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
    monkeypatch.setattr(exports, "CHUNK", 2)
    expert = ApprovedExpertFactory()
    ids = [LedgerTransactionFactory(movement=ledger.release(expert.id, cents), memo=f"r{cents}",
                                    created_at=dt.datetime(2024, 6, 1, 12, tzinfo=UTC)).id for cents in range(101, 108)]
    session.commit()
    log_in(client, finance[0].email)

    response = client.get("/api/v1/exports/ledger.csv?from=2024-06-01&to=2024-06-01")

    assert response.status_code == 200 and response.is_streamed
    chunks = [chunk if isinstance(chunk, str) else chunk.decode() for chunk in response.response]
    assert len(chunks) == 1 + 7  # what the server sends piece by piece: the header, then 14 entries two at a time
    rows = list(csv.reader(io.StringIO("".join(chunks), newline=""), delimiter=";"))
    assert [(row[0], row[7]) for row in rows[1:]] == [(str(tid), str(sign * cents)) for tid, cents in
                                                      zip(ids, range(101, 108), strict=True) for sign in (1, -1)]


def test_the_earnings_csv_lists_the_chats_closed_in_the_period_with_names_guarded(client, session, finance):
    shop = BrandFactory(name="-Atelier", price_cents=200)
    expert = expert_of(shop)
    expert.display_name = "@Camille"
    session.commit()
    first = EarningFactory(brand=shop, expert=expert, closed_at=dt.datetime(2025, 3, 1, 8, 15, tzinfo=UTC),
                           price_cents=200, bonus_cents=50, flags=["short_chat", "repeat_pair"],
                           status=EarningStatus.HELD)
    second = EarningFactory(brand=shop, expert=expert, closed_at=dt.datetime(2025, 3, 31, 23, 0, tzinfo=UTC),
                            price_cents=1_000)
    # After the period, and before it.
    EarningFactory(brand=shop, expert=expert, closed_at=dt.datetime(2025, 4, 1, 0, 0, tzinfo=UTC), price_cents=300)
    EarningFactory(brand=shop, expert=expert, closed_at=dt.datetime(2025, 2, 28, 23, 59, tzinfo=UTC), price_cents=300)
    session.commit()
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
    batch = PayoutBatchFactory(created_by=finance[0])
    log_in(client, finance[1].email)

    page = client.get("/finance/exports").get_data(as_text=True)

    today = dt.datetime.now(UTC).date()
    assert f'name="from" value="{today.replace(day=1).isoformat()}"' in page
    assert f'name="to" value="{today.isoformat()}"' in page
    assert 'formaction="/finance/exports/earnings.csv"' in page
    assert f'href="/finance/batches/{batch.id}/items.csv"' in page
    home = client.get("/finance/").get_data(as_text=True)
    assert all(f'href="/finance/{path}"' in home for path in ("exports", "reconciliation", "audit"))
