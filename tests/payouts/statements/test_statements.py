"""Monthly statements with their self-billing invoice, the yearly income export and the brand's invoice:
the files' real contents (PDF text read back with pypdf, CSV parsed), who may fetch them, and bad periods."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zoneinfo

import pypdf
import pytest
import sqlalchemy as sa

from marketplace.accounts.models import Role, User
from marketplace.brands import services as brand_services
from marketplace.brands.models import Brand, BrandRole, RateCard
from marketplace.database import db
from marketplace.experts.models import ExpertProfile
from marketplace.payouts.models import EarningStatus
from marketplace.payouts.statements import services as statements
from tests.conftest import log_in
from tests.factories import BrandFactory, EarningFactory, MembershipFactory, UserFactory
from tests.payouts.earnings.test_services import expert_of

UTC = dt.UTC
MENTION = "Autofacturation – facture émise par le client au nom et pour le compte du fournisseur"
VAT_EXEMPTION = "TVA non applicable, art. 293 B du CGI"
PARIS = zoneinfo.ZoneInfo("Europe/Paris")


@pytest.fixture
def shop(session) -> Brand:
    """A brand paying 2.00 a chat at 20 % commission."""
    return BrandFactory(name="Atelier", price_cents=200)


@pytest.fixture
def expert(session, shop) -> ExpertProfile:
    """A French expert with a SIRET, approved for the shop."""
    profile = expert_of(shop)
    profile.country, profile.business_id = "FR", "12345678900017"
    session.get(User, profile.user_id).full_name = "Camille Martin"
    session.commit()
    return profile


def pdf_text(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(response.data))
    return "\n".join(page.extract_text() for page in reader.pages)


def csv_rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/csv"
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")  # a byte order mark, so French spreadsheets read the accents
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))


def log_in_as(client, expert: ExpertProfile) -> None:
    log_in(client, db.session.get(User, expert.user_id).email)


@pytest.fixture
def january(session, shop, expert):
    """January 2025: two chats at the shop (one with a 0.50 bonus), one at 3.00 at another brand, one
    reversed; and one chat in December 2024 that is not January's."""
    other = BrandFactory(name="Boutique Élan", price_cents=300)
    session.commit()
    counted = [EarningFactory(brand=shop, expert=expert, closed_at=dt.datetime(2025, 1, 10, 9, 0, tzinfo=UTC)),
               EarningFactory(brand=shop, expert=expert, closed_at=dt.datetime(2025, 1, 15, 14, 0, tzinfo=UTC),
                              bonus_cents=50),
               EarningFactory(brand=other, expert=expert, closed_at=dt.datetime(2025, 1, 20, 18, 0, tzinfo=UTC),
                              price_cents=300)]
    cancelled = EarningFactory(brand=shop, expert=expert, closed_at=dt.datetime(2025, 1, 22, 10, 0, tzinfo=UTC),
                               status=EarningStatus.REVERSED)
    earlier = EarningFactory(brand=shop, expert=expert, closed_at=dt.datetime(2024, 12, 31, 12, 0, tzinfo=UTC))
    session.commit()
    return counted, cancelled, earlier


# The expert's monthly statement.

def test_the_statement_pdf_lists_each_chat_totals_and_the_self_billing_invoice(client, session, expert, january):
    counted, cancelled, earlier = january
    log_in_as(client, expert)
    response = client.get("/expert/statements/2025-01.pdf")
    text = pdf_text(response)
    assert response.headers["Content-Disposition"] == 'attachment; filename="statement-2025-01.pdf"'
    assert "Monthly statement, January 2025" in text and "Camille Martin" in text
    # One line per counted chat: date, brand, conversation, price, commission (negative), bonus, net.
    assert re.search(rf"1/10/25 Atelier #{counted[0].conversation_id} 2\.00 EUR -0\.40 EUR 0\.00 EUR 1\.60 EUR", text)
    assert re.search(rf"1/15/25 Atelier #{counted[1].conversation_id} 2\.00 EUR -0\.40 EUR 0\.50 EUR 2\.10 EUR", text)
    assert re.search(rf"1/20/25 Boutique Élan #{counted[2].conversation_id} 3\.00 EUR -0\.60 EUR 0\.00 EUR "
                     rf"2\.40 EUR", text)
    assert f"#{earlier.conversation_id}" not in text  # December's
    # Totals per currency leave the reversed chat out; it is listed apart.
    assert "EUR 3 7.00 EUR -1.40 EUR 0.50 EUR 6.10 EUR" in text
    summary, reversed_part = text.split("Reversed chats, not counted above")
    assert f"#{cancelled.conversation_id}" not in summary
    assert f"#{cancelled.conversation_id} 2.00 EUR -0.40 EUR 0.00 EUR 1.60 EUR" in reversed_part
    # Per brand.
    assert "Atelier 2 4.00 EUR -0.80 EUR 0.50 EUR 3.70 EUR" in text
    assert "Boutique Élan 1 3.00 EUR -0.60 EUR 0.00 EUR 2.40 EUR" in text
    # The self-billing invoice: the expert supplies, the platform is the client.
    assert f"Invoice number: AF-{expert.id}-2025-01" in reversed_part
    assert "Date of issue: February 1, 2025" in reversed_part
    assert "Camille Martin\nSIRET 12345678900017" in reversed_part
    assert "Marketplace SAS\n10 rue de la Paix, 75002 Paris, France\nSIRET 48123456500002\nVAT number FR36481234565" \
        in reversed_part
    assert "Amount of the invoice: 6.10 EUR" in reversed_part
    assert VAT_EXEMPTION in reversed_part and MENTION in reversed_part


def test_a_non_french_expert_gets_the_invoice_without_the_french_vat_exemption(client, session, expert, january):
    expert.country, expert.business_id = "BE", None
    session.commit()
    log_in_as(client, expert)
    text = pdf_text(client.get("/expert/statements/2025-01.pdf"))
    assert f"AF-{expert.id}-2025-01" in text and MENTION in text
    assert "TVA non applicable" not in text and "SIRET 12345678900017" not in text


def test_the_statement_speaks_the_experts_language_but_the_legal_mentions_stay_french(client, session, expert,
                                                                                         january):
    session.get(User, expert.user_id).locale = "fr"
    session.commit()
    log_in_as(client, expert)
    text = pdf_text(client.get("/expert/statements/2025-01.pdf"))
    # Labels follow the French catalogue; dates and numbers are French whether or not it has them yet.
    assert "janvier 2025" in text and ": 1 février 2025" in text
    assert "6,10 EUR" in text and "-1,40 EUR" in text  # French numbers
    assert VAT_EXEMPTION in text and MENTION in text


def test_the_statement_csv_has_one_line_per_chat_then_the_totals(client, session, expert, january):
    counted, cancelled, _ = january
    log_in_as(client, expert)
    response = client.get("/expert/statements/2025-01.csv")
    rows = csv_rows(response)
    assert response.headers["Content-Disposition"] == 'attachment; filename="statement-2025-01.csv"'
    assert list(rows[0]) == ["line", "date", "time", "brand", "conversation_id", "currency", "price", "commission",
                             "bonus", "net", "net_cents"]
    assert [(r["line"], r["conversation_id"], r["date"], r["time"], r["brand"]) for r in rows[:3]] == [
        ("chat", str(counted[0].conversation_id), "2025-01-10", "10:00", "Atelier"),  # Paris time
        ("chat", str(counted[1].conversation_id), "2025-01-15", "15:00", "Atelier"),
        ("chat", str(counted[2].conversation_id), "2025-01-20", "19:00", "Boutique Élan"),
    ]
    assert [(r["price"], r["commission"], r["bonus"], r["net"], r["net_cents"]) for r in rows[:3]] == [
        ("2.00", "0.40", "0.00", "1.60", "160"), ("2.00", "0.40", "0.50", "2.10", "210"),
        ("3.00", "0.60", "0.00", "2.40", "240")]
    assert (rows[3]["line"], rows[3]["conversation_id"]) == ("reversed", str(cancelled.conversation_id))
    assert rows[4] == {"line": "total", "date": "", "time": "", "brand": "", "conversation_id": "", "currency": "EUR",
                       "price": "7.00", "commission": "1.40", "bonus": "0.50", "net": "6.10", "net_cents": "610"}
    assert len(rows) == 5
    assert sum(int(r["net_cents"]) for r in rows if r["line"] == "chat") == 610


def test_a_chat_closed_at_2330_utc_on_the_last_day_of_a_month_is_next_months_in_paris(client, session, shop,
                                                                                        expert):
    # `late` is 00:30 on 1 Feb in Paris, `inside` 23:59 on 31 Jan.
    late = EarningFactory(brand=shop, expert=expert, closed_at=dt.datetime(2025, 1, 31, 23, 30, tzinfo=UTC))
    inside = EarningFactory(brand=shop, expert=expert, closed_at=dt.datetime(2025, 1, 31, 22, 59, tzinfo=UTC))
    session.commit()
    log_in_as(client, expert)
    january_ids = [r["conversation_id"] for r in csv_rows(client.get("/expert/statements/2025-01.csv"))]
    february = csv_rows(client.get("/expert/statements/2025-02.csv"))
    assert january_ids == [str(inside.conversation_id), ""]  # the chat, then the total
    assert (february[0]["conversation_id"], february[0]["date"], february[0]["time"]) == (
        str(late.conversation_id), "2025-02-01", "00:30")


def test_an_empty_month_gives_a_valid_statement_that_says_so(client, session, expert):
    log_in_as(client, expert)
    text = pdf_text(client.get("/expert/statements/2024-06.pdf"))
    assert "Monthly statement, June 2024" in text
    assert "No earnings this month" in text and "No invoice: nothing was earned this month." in text
    assert "AF-" not in text
    assert csv_rows(client.get("/expert/statements/2024-06.csv")) == []


def test_the_month_under_way_gives_a_provisional_statement_without_invoice(session, expert, shop):
    EarningFactory(brand=shop, expert=expert, closed_at=dt.datetime(2025, 1, 10, 9, 0, tzinfo=UTC))
    session.commit()
    user = session.get(User, expert.user_id)
    during = statements.expert_statement(user, 2025, 1, now=dt.datetime(2025, 1, 20, tzinfo=UTC))
    after = statements.expert_statement(user, 2025, 1, now=dt.datetime(2025, 2, 1, tzinfo=UTC))
    assert (during.complete, during.invoice, [t.net_cents for t in during.totals]) == (False, None, [160])
    assert after.complete and after.invoice.number == f"AF-{expert.id}-2025-01"
    assert after.invoice.issued_on == dt.date(2025, 2, 1)


def test_statements_are_always_the_callers_own(client, session, shop, expert, january):
    counted, _, _ = january
    stranger = expert_of(shop)
    session.commit()
    log_in_as(client, stranger)
    text = pdf_text(client.get("/expert/statements/2025-01.pdf"))
    assert "No earnings this month" in text and "Camille Martin" not in text
    assert all(f"#{e.conversation_id}" not in text for e in counted)
    assert csv_rows(client.get("/api/v1/experts/me/statements/2025-01.csv")) == []
    assert csv_rows(client.get("/expert/statements/2025.csv")) == []


def test_the_statements_page_lists_the_months_and_years_with_their_files(client, session, shop, expert, january):
    EarningFactory(brand=shop, expert=expert, closed_at=dt.datetime(2025, 3, 3, 12, 0, tzinfo=UTC))
    session.commit()
    log_in_as(client, expert)
    earnings_page = client.get("/expert/earnings").get_data(as_text=True)
    assert 'href="/expert/statements"' in earnings_page
    page = client.get("/expert/statements").get_data(as_text=True)
    months = re.findall(r'data-testid="statement-(\d{4}-\d{2})"', page)
    assert months == ["2025-03", "2025-01", "2024-12"]
    assert "3 chats · €6.10" in page
    for link in ("/expert/statements/2025-03.pdf", "/expert/statements/2025-01.csv", "/expert/statements/2025.csv",
                 "/expert/statements/2024.csv"):
        assert f'href="{link}"' in page


def test_the_yearly_export_has_a_line_per_month_and_currency_and_a_total(client, session, shop, expert, january):
    EarningFactory(brand=shop, expert=expert, closed_at=dt.datetime(2025, 3, 3, 12, 0, tzinfo=UTC), bonus_cents=50)
    # 2026 in Paris.
    EarningFactory(brand=shop, expert=expert, closed_at=dt.datetime(2025, 12, 31, 23, 30, tzinfo=UTC))
    session.commit()
    log_in_as(client, expert)
    response = client.get("/expert/statements/2025.csv")
    rows = csv_rows(response)
    assert response.headers["Content-Disposition"] == 'attachment; filename="income-2025.csv"'
    assert [list(r.values()) for r in rows] == [
        ["2025-01", "EUR", "3", "7.00", "1.40", "0.50", "6.10", "610", "0.00", "0", "610"],
        ["2025-03", "EUR", "1", "2.00", "0.40", "0.50", "2.10", "210", "0.00", "0", "210"],
        ["total", "EUR", "4", "9.00", "1.80", "1.00", "8.20", "820", "0.00", "0", "820"],
    ]
    assert list(rows[0]) == ["month", "currency", "chats", "price", "commission", "bonus", "net", "net_cents",
                             "faq_credits", "faq_credits_cents", "income_cents"]
    api_rows = csv_rows(client.get("/api/v1/experts/me/statements/2025.csv"))
    assert api_rows == rows


def test_the_api_serves_the_same_statement(client, session, expert, january):
    log_in_as(client, expert)
    response = client.get("/api/v1/experts/me/statements/2025-01.pdf")
    assert f"AF-{expert.id}-2025-01" in pdf_text(response)
    assert response.headers["Content-Disposition"] == 'attachment; filename="statement-2025-01.pdf"'
    rows = csv_rows(client.get("/api/v1/experts/me/statements/2025-01.csv"))
    assert rows[-1]["net_cents"] == "610"


def test_a_brand_name_that_looks_like_a_formula_is_defused_in_the_csv(client, session, expert):
    sneaky = BrandFactory(name="=HYPERLINK(\"http://x\")")
    session.commit()
    EarningFactory(brand=sneaky, expert=expert, closed_at=dt.datetime(2025, 1, 10, tzinfo=UTC))
    session.commit()
    log_in_as(client, expert)
    assert csv_rows(client.get("/expert/statements/2025-01.csv"))[0]["brand"] == "'=HYPERLINK(\"http://x\")"


def test_a_brand_name_outside_the_pdf_fonts_is_replaced_not_refused(client, session, expert):
    cafe = BrandFactory(name="Café ☕ Noir")
    session.commit()
    EarningFactory(brand=cafe, expert=expert, closed_at=dt.datetime(2025, 1, 10, tzinfo=UTC))
    session.commit()
    log_in_as(client, expert)
    assert "Café ? Noir" in pdf_text(client.get("/expert/statements/2025-01.pdf"))
    assert csv_rows(client.get("/expert/statements/2025-01.csv"))[0]["brand"] == "Café ☕ Noir"


# Bad periods.

@pytest.mark.parametrize(("path", "field"), [
    ("/api/v1/experts/me/statements/2026-13.pdf", "month"),
    ("/api/v1/experts/me/statements/2026-00.csv", "month"),
    ("/api/v1/experts/me/statements/99999-01.pdf", "year"),
    ("/api/v1/experts/me/statements/99999.csv", "year"),
    ("/api/v1/experts/me/statements/1999.csv", "year"),
])
def test_the_api_refuses_a_bad_period_naming_the_field(client, session, expert, path, field):
    log_in_as(client, expert)
    response = client.get(path)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert list(response.json["errors"]) == [field]


def test_a_month_not_yet_begun_is_refused(client, session, expert):
    now = dt.datetime.now(PARIS)
    coming = statements.Month(now.year, now.month).next()
    log_in_as(client, expert)
    response = client.get(f"/api/v1/experts/me/statements/{coming.year}-{coming.month:02d}.pdf")
    assert response.status_code == 422 and "not begun" in response.json["errors"]["month"][0]
    assert client.get(f"/expert/statements/{coming.year + 1}.csv").status_code == 422
    this_month = client.get(f"/expert/statements/{now.year}-{now.month:02d}.pdf")
    assert "Provisional: the month is not over yet." in pdf_text(this_month)


@pytest.mark.parametrize(("path", "message"), [
    ("/expert/statements/2026-13.pdf", "The month must be from 01 to 12."),
    ("/expert/statements/march.pdf", "Write the month as YYYY-MM"),
    ("/expert/statements/2026-3.csv", "Write the month as YYYY-MM"),
    ("/expert/statements/99999.csv", "The year must be from 2000 to"),
    ("/expert/statements/2026.pdf", "Write the month as YYYY-MM"),
])
def test_the_pages_answer_a_bad_period_with_a_page_that_says_what_is_wrong(client, session, expert, path, message):
    log_in_as(client, expert)
    response = client.get(path)
    assert response.status_code == 422
    assert response.mimetype == "text/html" and message in response.get_data(as_text=True)


def test_only_experts_have_statements(client, session):
    log_in(client, UserFactory(role=Role.FINANCE).email)
    assert client.get("/expert/statements/2025-01.pdf").status_code == 403
    assert client.get("/api/v1/experts/me/statements/2025-01.pdf").status_code == 403


# The brand's invoice.

@pytest.fixture
def invoiced(session, shop, expert):
    """January 2025 at the shop: three chats at 2.00, one with a 0.50 bonus, one reversed; one in February."""
    for day, bonus in ((15, 0), (15, 50), (16, 0)):
        EarningFactory(brand=shop, expert=expert, closed_at=dt.datetime(2025, 1, day, 10, 0, tzinfo=UTC),
                       bonus_cents=bonus)
    EarningFactory(brand=shop, expert=expert, closed_at=dt.datetime(2025, 1, 17, 10, 0, tzinfo=UTC),
                   status=EarningStatus.REVERSED)
    EarningFactory(brand=shop, expert=expert, closed_at=dt.datetime(2025, 2, 1, 10, 0, tzinfo=UTC))
    session.commit()


def member_of(session, brand: Brand, role: BrandRole = BrandRole.VIEWER) -> User:
    membership = MembershipFactory(brand=brand, role=role)
    session.commit()
    return session.get(User, membership.user_id)


def test_the_brand_invoice_adds_vat_to_the_chats_and_bonuses(client, session, shop, invoiced):
    log_in(client, member_of(session, shop).email)
    response = client.get(f"/brands/{shop.slug}/invoices/2025-01.pdf")
    text = pdf_text(response)
    assert response.headers["Content-Disposition"] == f'attachment; filename="invoice-F-{shop.id}-2025-01.pdf"'
    assert f"Invoice F-{shop.id}-2025-01" in text and "Date of issue: February 1, 2025" in text
    assert "Seller\nMarketplace SAS" in text and "VAT number FR36481234565" in text and "Buyer\nAtelier" in text
    assert "Wednesday, January 15, 2025 2 4.00 EUR" in text
    assert "Thursday, January 16, 2025 1 2.00 EUR" in text
    assert "January 17" not in text and "February 1, 2025 " not in text.split("Date of issue")[1]
    assert "Bonuses (visitor ratings, reply times) 1 0.50 EUR" in text
    assert "Subtotal excl. VAT (3 chats) 6.50 EUR" in text
    assert "VAT 20 % 1.30 EUR" in text
    assert "Total incl. VAT 7.80 EUR" in text


def test_vat_rounds_half_up_to_the_cent(client, app, session, shop, invoiced, monkeypatch):
    monkeypatch.setitem(app.config, "PLATFORM_VAT_BPS", 100)  # 1 % of 6.50 is 0.065
    log_in(client, member_of(session, shop).email)
    text = pdf_text(client.get(f"/api/v1/brands/{shop.id}/invoices/2025-01.pdf"))
    assert "VAT 1 % 0.07 EUR" in text and "Total incl. VAT 6.57 EUR" in text
    assert [statements.vat_cents(cents, 5000) for cents in (1, 2, 3)] == [1, 1, 2]


def test_an_invoice_for_a_month_without_chats_says_so(client, session, shop):
    log_in(client, member_of(session, shop).email)
    text = pdf_text(client.get(f"/brands/{shop.slug}/invoices/2024-06.pdf"))
    assert f"Invoice F-{shop.id}-2024-06" in text and "No answered chats in June 2024: nothing to pay." in text


def test_finance_fetches_any_brands_invoice_and_other_brands_members_get_nothing(client, app, session, shop,
                                                                                  invoiced):
    log_in(client, UserFactory(role=Role.FINANCE).email)
    assert "7.80 EUR" in pdf_text(client.get(f"/brands/{shop.slug}/invoices/2025-01.pdf"))
    assert "7.80 EUR" in pdf_text(client.get(f"/api/v1/brands/{shop.id}/invoices/2025-01.pdf"))
    outsider = app.test_client()
    log_in(outsider, member_of(session, BrandFactory(), BrandRole.ADMIN).email)
    assert outsider.get(f"/brands/{shop.slug}/invoices/2025-01.pdf").status_code == 404
    assert outsider.get(f"/brands/{shop.slug}/invoices").status_code == 404
    refused = outsider.get(f"/api/v1/brands/{shop.id}/invoices/2025-01.pdf")
    assert refused.status_code == 404 and refused.mimetype == "application/problem+json"


def test_experts_get_no_brand_invoice_and_ops_do(client, session, shop):
    log_in(client, UserFactory(role=Role.EXPERT).email)
    assert client.get(f"/brands/{shop.slug}/invoices/2025-01.pdf").status_code == 403
    assert client.get(f"/api/v1/brands/{shop.id}/invoices/2025-01.pdf").status_code == 403
    ops = UserFactory(role=Role.OPS)
    client = client.application.test_client()  # another person, another browser
    log_in(client, ops.email)
    assert client.get(f"/brands/{shop.slug}/invoices/2025-01.pdf").status_code == 200


def test_a_brand_api_token_fetches_its_own_brands_invoice_only(client, session, shop, invoiced):
    admin = member_of(session, shop, BrandRole.ADMIN)
    own = brand_services.issue_api_token(admin, shop.id, "accounting").secret
    other_brand = BrandFactory()
    other = brand_services.issue_api_token(member_of(session, other_brand, BrandRole.ADMIN), other_brand.id,
                                           "accounting").secret
    path = f"/api/v1/brands/{shop.id}/invoices/2025-01.pdf"
    assert "7.80 EUR" in pdf_text(client.get(path, headers={"Authorization": f"Bearer {own}"}))
    assert client.get(path, headers={"Authorization": f"Bearer {other}"}).status_code == 404


def test_a_bad_invoice_month_is_refused_naming_the_field(client, session, shop):
    log_in(client, member_of(session, shop).email)
    response = client.get(f"/api/v1/brands/{shop.id}/invoices/2025-13.pdf")
    assert response.status_code == 422 and list(response.json["errors"]) == ["month"]
    page = client.get(f"/brands/{shop.slug}/invoices/2025-1.pdf")
    assert page.status_code == 422 and "Write the month as YYYY-MM" in page.get_data(as_text=True)


def test_the_invoices_page_lists_the_months_and_is_a_console_tab(client, session, shop, invoiced):
    log_in(client, member_of(session, shop).email)
    page = client.get(f"/brands/{shop.slug}/invoices").get_data(as_text=True)
    assert re.findall(r'data-testid="invoice-(\d{4}-\d{2})"', page) == ["2025-02", "2025-01"]
    assert f'href="/brands/{shop.slug}/invoices/2025-01.pdf"' in page and "€6.50" in page
    overview = client.get(f"/brands/{shop.slug}").get_data(as_text=True)
    assert f'href="/brands/{shop.slug}/invoices"' in overview


def test_the_rate_card_price_is_not_what_the_invoice_uses(client, session, shop, invoiced):
    """The invoice bills each chat at its earning's price, not at today's rate card."""
    session.scalar(sa.select(RateCard).where(RateCard.brand_id == shop.id)).price_cents = 999
    session.commit()
    log_in(client, member_of(session, shop).email)
    assert "Total incl. VAT 7.80 EUR" in pdf_text(client.get(f"/brands/{shop.slug}/invoices/2025-01.pdf"))
