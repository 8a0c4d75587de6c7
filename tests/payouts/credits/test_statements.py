"""FAQ credits on the monthly documents: the expert's statement lists them apart from the chats (PDF and CSV), in
the month the bot resolved the conversation, and its self-billing invoice covers both; the brand's invoice bills
them with its chats, VAT included."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from marketplace.accounts.models import User
from marketplace.brands.models import Brand
from marketplace.experts.models import ExpertProfile
from marketplace.payouts.credits import services as credits
from marketplace.routing import history
from tests.conftest import log_in
from tests.factories import BrandFactory, EarningFactory, EnrolmentFactory
from tests.payouts.credits.resolutions import entry, resolved
from tests.payouts.statements.test_statements import csv_rows, log_in_as, member_of, pdf_text

UTC = dt.UTC


@pytest.fixture
def shop(session) -> Brand:
    return BrandFactory(name="Atelier", price_cents=200)


@pytest.fixture
def expert(session, shop) -> ExpertProfile:
    profile = EnrolmentFactory(brand_id=shop.id).expert
    profile.country, profile.business_id = "FR", "12345678900017"
    session.get(User, profile.user_id).full_name = "Camille Martin"
    session.commit()
    return profile


def credited(shop: Brand, expert: ExpertProfile, at: dt.datetime, cents: int) -> int:
    """A conversation the bot resolved at `at` with the expert's entry, credited `cents`: its id."""
    conversation = resolved(shop, entry(shop, expert), at=at)
    resolution = history.BotResolution(conversation.id, shop.id, conversation_entry(conversation), expert.id, at)
    assert credits.credit(resolution, cents, "EUR", at) is not None
    return conversation.id


def conversation_entry(conversation) -> int:
    (found,) = history.bot_resolutions(conversation.closed_at, conversation.closed_at + dt.timedelta(seconds=1),
                                       brand_ids={conversation.brand_id})
    return found.entry_id


@pytest.fixture
def january(session, shop, expert) -> tuple[int, int, int]:
    """January 2025: one chat (1.60 net) and two credits (0.30 and 0.45); one credit in February."""
    EarningFactory(brand=shop, expert=expert, closed_at=dt.datetime(2025, 1, 10, 9, 0, tzinfo=UTC))
    first = credited(shop, expert, dt.datetime(2025, 1, 12, 9, 0, tzinfo=UTC), 30)
    second = credited(shop, expert, dt.datetime(2025, 1, 13, 9, 0, tzinfo=UTC), 45)
    february = credited(shop, expert, dt.datetime(2025, 2, 3, 9, 0, tzinfo=UTC), 45)
    session.commit()
    return first, second, february


def test_the_statement_pdf_lists_the_credits_apart_and_invoices_them_with_the_chats(client, session, expert,
                                                                                       january):
    first, second, february = january
    log_in_as(client, expert)
    text = pdf_text(client.get("/expert/statements/2025-01.pdf"))
    summary, credit_part = text.split("FAQ credits")
    assert "EUR 1 2.00 EUR -0.40 EUR 0.00 EUR 1.60 EUR" in summary  # the chats' totals leave the credits out
    assert "EUR 2 0.75 EUR" in credit_part
    assert f"#{first} 0.30 EUR" in credit_part and f"#{second} 0.45 EUR" in credit_part
    assert f"#{february}" not in text
    assert "2 conversations resolved by the FAQ bots of the platform's brands with your answers in January 2025: " \
           "0.75 EUR" in credit_part
    assert "Amount of the invoice: 2.35 EUR" in credit_part


def test_the_statement_csv_adds_a_line_per_credit_and_their_total(client, session, expert, january):
    first, second, _ = january
    log_in_as(client, expert)
    rows = csv_rows(client.get("/expert/statements/2025-01.csv"))
    assert [(r["line"], r["conversation_id"], r["net"], r["net_cents"]) for r in rows] == [
        ("chat", rows[0]["conversation_id"], "1.60", "160"),
        ("total", "", "1.60", "160"),
        ("faq_credit", str(first), "0.30", "30"),
        ("faq_credit", str(second), "0.45", "45"),
        ("faq_credits_total", "", "0.75", "75"),
    ]
    assert (rows[2]["date"], rows[2]["time"], rows[2]["brand"]) == ("2025-01-12", "10:00", "Atelier")  # Paris


def test_a_month_of_credits_alone_has_its_invoice(client, session, expert, january):
    log_in_as(client, expert)
    text = pdf_text(client.get("/expert/statements/2025-02.pdf"))
    assert f"Invoice number: AF-{expert.id}-2025-02" in text
    assert "Amount of the invoice: 0.45 EUR" in text


def test_the_statements_page_lists_a_month_of_credits_alone(client, session, expert, january):
    log_in_as(client, expert)
    page = client.get("/expert/statements").get_data(as_text=True)
    assert re.findall(r'data-testid="statement-(\d{4}-\d{2})"', page) == ["2025-02", "2025-01"]


def test_the_brand_invoice_bills_the_credits_with_the_chats(client, session, shop, january):
    log_in(client, member_of(session, shop).email)
    text = pdf_text(client.get(f"/brands/{shop.slug}/invoices/2025-01.pdf"))
    assert "FAQ credits (your bot's resolutions with answers your experts wrote) 2 0.75 EUR" in text
    assert "Subtotal excl. VAT (1 chat) 2.75 EUR" in text
    assert "VAT 20 % 0.55 EUR" in text and "Total incl. VAT 3.30 EUR" in text
    alone = pdf_text(client.get(f"/brands/{shop.slug}/invoices/2025-02.pdf"))  # credits, no chat
    assert "Subtotal excl. VAT (0 chats) 0.45 EUR" in alone
    page = client.get(f"/brands/{shop.slug}/invoices").get_data(as_text=True)
    assert re.findall(r'data-testid="invoice-(\d{4}-\d{2})"', page) == ["2025-02", "2025-01"]


def test_another_brands_invoice_bills_none_of_these_credits(client, session, shop, january):
    other = BrandFactory(name="Autre")
    log_in(client, member_of(session, other).email)
    text = pdf_text(client.get(f"/brands/{other.slug}/invoices/2025-01.pdf"))
    assert "FAQ credits" not in text and "No answered chats in January 2025" in text


def test_the_yearly_income_adds_the_credits_to_the_chats(client, session, expert, january):
    log_in_as(client, expert)
    rows = csv_rows(client.get("/expert/statements/2025.csv"))
    assert [(r["month"], r["chats"], r["net_cents"], r["faq_credits"], r["faq_credits_cents"], r["income_cents"])
            for r in rows] == [("2025-01", "1", "160", "0.75", "75", "235"), ("2025-02", "0", "0", "0.45", "45", "45"),
                               ("total", "1", "160", "1.20", "120", "280")]
