"""The art. 242 bis CGI notice goes with every payout: on the expert's earnings and statements pages, in the
statement PDF (the statements' CSV files stay data only; the yearly tax summary's CSV has it), in French and in
English."""

from __future__ import annotations

import datetime as dt
import io

import pypdf
import pytest

from marketplace.accounts.models import User
from marketplace.database import db
from marketplace.payouts.tax.notice import IMPOTS_URL, URSSAF_URL
from tests.conftest import log_in
from tests.factories import BrandFactory, EarningFactory
from tests.payouts.earnings.test_services import expert_of


@pytest.fixture
def expert(session):
    shop = BrandFactory(name="Atelier", price_cents=200)
    session.commit()
    profile = expert_of(shop)
    profile.country, profile.business_id = "FR", "73282932000074"
    session.commit()
    EarningFactory(brand=shop, expert=profile, closed_at=dt.datetime(2025, 1, 10, 9, 0, tzinfo=dt.UTC))
    session.commit()
    return profile


def links_in(text: str) -> bool:
    return IMPOTS_URL in text and URSSAF_URL in text and "242 bis" in text


@pytest.mark.parametrize(("language", "words"), [("en", "Your tax and social obligations"),
                                                  ("fr", "Vos obligations fiscales et sociales")])
def test_the_pages_show_the_notice_in_the_readers_language(client, expert, language, words):
    log_in(client, db.session.get(User, expert.user_id).email)
    client.set_cookie("locale", language)
    headers = {"Accept-Language": language}

    for path in ("/expert/earnings", "/expert/statements", "/expert/tax"):
        page = client.get(path, headers=headers).get_data(as_text=True)
        assert 'data-testid="tax-notice"' in page and links_in(page), path
        assert words in page, path


def test_the_statement_pdf_carries_the_notice(client, expert):
    log_in(client, db.session.get(User, expert.user_id).email)

    pdf = client.get("/expert/statements/2025-01.pdf")
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf.data)).pages)

    assert pdf.status_code == 200 and links_in(text.replace("\n", ""))
