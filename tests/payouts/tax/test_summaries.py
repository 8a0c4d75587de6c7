"""The expert's yearly summary (art. 242 bis CGI) and the DAC7 report, against a ledger built in the test
(tests/payouts/tax/ledger.py): what was paid in each year and quarter, the fees, who may read what."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import AuditEvent, Role, User
from marketplace.database import db
from marketplace.notifications.models import Notification
from marketplace.payouts.models import TaxSummaryNotice
from marketplace.payouts.tax import dac7
from marketplace.payouts.tax import services as tax
from marketplace.payouts.tax.notice import IMPOTS_URL, URSSAF_URL
from tests.conftest import log_in
from tests.factories import UserFactory
from tests.payouts.tax import ledger

UTC = dt.UTC


@pytest.fixture
def books(session, monkeypatch, fake) -> ledger.Books:
    return ledger.build(session, monkeypatch)


def user_of(expert) -> User:
    return db.session.get(User, expert.user_id)


def csv_rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8").removeprefix("\ufeff")), delimiter=";"))


def test_the_summary_counts_what_was_paid_in_the_year_on_the_platforms_clock(books):
    summary = tax.own_summary(user_of(books.camille), 2025)

    (total,) = summary.totals
    # e1 (paid 1 April 00:30 in Paris), e2 and the FAQ credit; not e3 (paid 1 January 2026 in Paris), not the 2024
    # chat, not the reversed one
    assert (total.currency, total.transactions, total.chats, total.faq_credits) == ("EUR", 3, 2, 1)
    assert (total.gross_cents, total.fees_cents, total.net_cents) == (1100 + 2000 + 150, 200 + 400, 900 + 1600 + 150)
    assert summary.complete and summary.legal_name == "Camille Martin" and summary.business_id == "73282932000074"
    assert summary.bank_accounts == ["IBAN FR•• •••• •••• •••• 2606 (Camille Martin)"]
    assert [t.net_cents for t in tax.own_summary(user_of(books.camille), 2026).totals] == [400]
    assert [t.net_cents for t in tax.own_summary(user_of(books.camille), 2024).totals] == [640]
    assert tax.own_summary_years(user_of(books.camille)) == [2026, 2025, 2024]


def test_the_summaries_for_the_experts_export_are_plain_values(books):
    exported = tax.tax_summaries_for_export(books.camille.id)

    assert [item["year"] for item in exported] == [2024, 2025, 2026]
    assert exported[1]["totals"] == [{"currency": "EUR", "transactions": 3, "chats": 2, "faq_credits": 1,
                                      "gross_cents": 3250, "fees_cents": 600, "net_cents": 2650}]
    assert "2606" in exported[1]["bank_accounts"][0] and CAMILLE_FULL_IBAN_ABSENT(exported)


def CAMILLE_FULL_IBAN_ABSENT(exported) -> bool:  # noqa: N802 - reads as the assertion it is
    return ledger.CAMILLE_IBAN not in repr(exported)


def test_the_api_gives_the_callers_summary_with_the_notice(client, books):
    log_in(client, user_of(books.camille).email)

    response = client.get("/api/v1/experts/me/tax-summaries/2025")

    assert response.status_code == 200
    assert response.json["totals"][0]["net_cents"] == 2650 and response.json["totals"][0]["transactions"] == 3
    assert {link["url"] for link in response.json["notice"]["links"]} == {IMPOTS_URL, URSSAF_URL}
    assert ledger.CAMILLE_IBAN not in response.get_data(as_text=True)


@pytest.mark.parametrize("year", ["abc", "1850", "3000", "20255", "２０２５"])
def test_a_bad_year_is_refused_naming_the_year(client, books, year):
    log_in(client, user_of(books.camille).email)

    api = client.get(f"/api/v1/experts/me/tax-summaries/{year}")
    page = client.get(f"/expert/tax/{year}.csv")

    assert api.status_code == 422 and "year" in api.json["errors"], api.get_data(as_text=True)
    assert page.status_code == 422


def test_an_expert_sees_only_their_own_summary(client, books):
    log_in(client, user_of(books.sacha).email)

    rows = csv_rows(client.get("/expert/tax/2025.csv"))

    totals = [row for row in rows if row["line"] == "total"]
    assert [(row["transactions"], row["net_cents"]) for row in totals] == [("1", "2400")]
    assert not any("Camille" in value for row in rows for value in row.values())


def test_the_summary_files_carry_the_figures_and_the_notice(client, books):
    log_in(client, user_of(books.camille).email)

    rows = csv_rows(client.get("/expert/tax/2025.csv"))
    pdf = client.get("/expert/tax/2025.pdf")
    page = client.get("/expert/tax/2025")

    total = next(row for row in rows if row["line"] == "total")
    assert (total["gross"], total["fees"], total["net"], total["transactions"]) == ("32.50", "6.00", "26.50", "3")
    notice = " ".join(row["year"] for row in rows if row["line"] == "notice")
    assert IMPOTS_URL in notice and URSSAF_URL in notice and "242 bis" in notice
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")
    assert page.status_code == 200 and IMPOTS_URL in page.get_data(as_text=True)


def test_dac7_reports_each_sellers_quarters_and_fees(books):
    report = dac7.report(books.finance[0], 2025)

    sellers = {seller.expert_id: seller for seller in report.sellers}
    assert set(sellers) == {books.camille.id, books.sacha.id}
    camille, sacha = sellers[books.camille.id], sellers[books.sacha.id]
    assert {q: (f.consideration_cents, f.activities, f.fees_cents) for q, f in camille.quarters.items()} == {
        1: (0, 0, 0), 2: (2500, 2, 600), 3: (150, 1, 0), 4: (0, 0, 0)}
    assert {q: (f.consideration_cents, f.activities, f.fees_cents) for q, f in sacha.quarters.items()} == {
        1: (0, 0, 0), 2: (0, 0, 0), 3: (2400, 1, 600), 4: (0, 0, 0)}
    assert camille.business_id == "73282932000074" and camille.country == "FR"
    assert camille.account == "FR•• •••• •••• •••• 2606"  # the page shows the masked IBAN
    next_year = {s.expert_id: s for s in dac7.report(books.finance[0], 2026).sellers}
    assert set(next_year) == {books.camille.id}
    assert next_year[books.camille.id].quarters[1].consideration_cents == 400


def test_the_dac7_file_holds_the_full_iban_and_each_read_is_audited(client, session, books):
    log_in(client, books.finance[0].email)

    rows = csv_rows(client.get("/finance/tax/dac7-2025.csv"))

    camille = next(row for row in rows if row["SellerId"] == str(books.camille.id))
    assert camille["FinancialIdentifier"] == ledger.CAMILLE_IBAN and camille["AccountHolderName"] == "Camille Martin"
    assert (camille["ConsQ1"], camille["ConsQ2"], camille["NumbQ2"], camille["FeesQ2"], camille["TaxQ2"]) == (
        "0.00", "25.00", "2", "6.00", "0.00")
    assert (camille["ConsQ3"], camille["NumbQ3"], camille["FeesQ3"], camille["ConsQ4"]) == ("1.50", "1", "0.00", "0.00")
    assert camille["IN"] == "73282932000074" and camille["ResCountryCode"] == "FR" and camille["BirthDate"] == ""
    reads = session.scalars(sa.select(AuditEvent).where(AuditEvent.kind == "payout_details_read")).all()
    assert {event.detail["expert_id"] for event in reads} == {books.camille.id, books.sacha.id}
    page = client.get("/finance/tax?year=2025")
    assert page.status_code == 200 and "Camille Martin" in page.get_data(as_text=True)
    assert ledger.CAMILLE_IBAN not in page.get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.EXPERT, Role.OPS, Role.BRAND])
def test_only_finance_reads_dac7(client, books, role):
    email = user_of(books.camille).email if role == Role.EXPERT else UserFactory(role=role).email
    db.session.commit()
    log_in(client, email)

    assert client.get("/finance/tax").status_code in (403, 404)
    assert client.get("/finance/tax/dac7-2025.csv").status_code in (403, 404)


def test_a_bad_dac7_year_is_refused(client, books):
    log_in(client, books.finance[0].email)

    assert client.get("/finance/tax/dac7-abc.csv").status_code == 422
    assert client.get("/finance/tax?year=1850").status_code == 422


def test_in_january_experts_paid_last_year_are_told_once(books):
    assert tax.publish_year_summaries(dt.datetime(2026, 12, 1, tzinfo=UTC)) is None  # not January

    first = tax.publish_year_summaries(dt.datetime(2026, 1, 5, tzinfo=UTC))
    again = tax.publish_year_summaries(dt.datetime(2026, 1, 6, tzinfo=UTC))

    assert first.year == 2025 and sorted(first.notified) == sorted([books.camille.id, books.sacha.id])
    assert again.notified == []
    told = db.session.scalars(sa.select(Notification).where(Notification.kind == "tax_summary")).all()
    assert sorted(n.user_id for n in told) == sorted([books.camille.user_id, books.sacha.user_id])
    assert {n.url for n in told} == {"/expert/tax/2025"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TaxSummaryNotice)) == 2


def test_the_payout_notification_carries_the_notice(books):
    told = db.session.scalars(sa.select(Notification).where(Notification.kind == "payout_paid",
                                                            Notification.user_id == books.camille.user_id)).all()

    assert told and all(IMPOTS_URL in n.body and URSSAF_URL in n.body for n in told)


def test_the_summary_api_is_the_experts_alone(client, app, books):
    assert client.get("/api/v1/experts/me/tax-summaries/2025").status_code == 401
    log_in(client, books.finance[0].email)

    assert client.get("/api/v1/experts/me/tax-summaries/2025").status_code == 403


def test_the_january_job_is_scheduled(app):
    (job,) = [job for job in app.extensions["scheduled_jobs"] if job.id == "payouts-tax-summaries"]

    assert job.func is tax.publish_year_summaries
