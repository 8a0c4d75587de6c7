"""Two finance users pay Emma in a real browser, and Emma reads what she was paid on her phone.

The first finance user drafts a EUR batch and may not approve it; the second approves it, submits it,
downloads the SEPA credit-transfer file (the demo server has no Stripe, so Emma is paid by SEPA transfer)
and records that the bank executed it. Emma then sees the money paid, and downloads last month's statement
as CSV and PDF: the PDF's self-billing invoice carries her name, its number and the French VAT mention, and
invoices what her chats of the month add up to.

This is the only browser test that creates a batch; it leaves it paid, so no EUR batch stays open.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import sqlite3
import xml.etree.ElementTree as ET
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
from babel.dates import format_date
from babel.numbers import format_currency
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from pypdf import PdfReader

from tests.browser.conftest import ACTION_MS, DESKTOP, NAVIGATION_MS, PHONE, Viewport
from tests.browser.test_brand_console import demo_database_url
from tests.browser.test_demo_logins import log_in, path_is

pytestmark = pytest.mark.browser

EMMA = "expert@demo.example.com"  # marketplace/demo.py: French, a SIRET and an IBAN on file
EMMA_NAME = "Emma Expert"
EMMA_SIRET = "73282932000074"
EMMA_IBAN = "FR1420041010050500013M02606"
PLATFORM_CLOCK = zoneinfo.ZoneInfo("Europe/Paris")  # BABEL_DEFAULT_TIMEZONE: statements' months follow it
PAIN = "{urn:iso:std:iso:20022:tech:xsd:pain.001.001.03}"
LOCALE = "en"  # what the app picks for the contexts' en-GB (LANGUAGES has "en"); pages and files follow it

# A month's PDF statement of the demo's ~1,500 chats takes the server 6-8 s on a busy two-core machine.
DOWNLOAD_TIMEOUT_MS = 30_000


@dataclass
class People:
    """Each person in a fresh browser context, and the page errors and console errors any of them met."""

    browser: Browser
    base_url: str
    errors: list[str] = field(default_factory=list)
    contexts: list[BrowserContext] = field(default_factory=list)

    def page(self, viewport: Viewport) -> Page:
        context = self.browser.new_context(base_url=self.base_url, **viewport.context_options())
        context.set_default_timeout(ACTION_MS)
        context.set_default_navigation_timeout(NAVIGATION_MS)
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        page.on("console", self._on_console)
        return page

    def _on_console(self, message) -> None:
        url = message.location.get("url", "")
        if message.type == "error" and not url.endswith("/favicon.ico"):  # the app ships no favicon
            self.errors.append(f"console: {message.text} ({url})")


@pytest.fixture
def people(browser: Browser, demo_server) -> Iterator[People]:
    crowd = People(browser, demo_server.url)
    try:
        yield crowd
    finally:
        for context in crowd.contexts:
            context.close()


def cents_of(text: str) -> int:
    """An English amount as the pages write it ("€1,234.50", "1,234.50 EUR") in cents."""
    match = re.search(r"\d[\d,]*\.\d{2}", text)
    assert match, f"no amount in {text!r}"
    return int(Decimal(match[0].replace(",", "")) * 100)


def expert_id(database_url: str, email: str) -> int:
    """Emma's expert number, which her invoice numbers carry; read from the demo's database, read-only."""
    path = database_url.removeprefix("sqlite:///")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        row = connection.execute("SELECT expert_profiles.id FROM expert_profiles JOIN users "
                                 "ON users.id = expert_profiles.user_id WHERE users.email = ?", (email,)).fetchone()
    assert row, f"no expert profile for {email}"
    return int(row[0])


def download(page: Page, link: Locator) -> tuple[str, bytes]:
    """Click a download link; the file's suggested name and its bytes."""
    with page.expect_download(timeout=DOWNLOAD_TIMEOUT_MS) as started:
        link.click()
    file = started.value
    return file.suggested_filename, Path(file.path()).read_bytes()


def flash(page: Page) -> Locator:
    """The message the last action left at the top of the page."""
    return page.locator("main .flash")


def batch_status(page: Page) -> Locator:
    return page.get_by_test_id("batch-status")


def emma_line(page: Page) -> Locator:
    return page.get_by_test_id("batch-items").locator("tbody tr").filter(
        has=page.get_by_role("rowheader", name="Emma", exact=True))


def last_month(today: dt.date) -> dt.date:
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def statement_rows(content: bytes) -> list[dict[str, str]]:
    """The CSV statement's rows by column (UTF-8, with or without a byte order mark; `;` between cells)."""
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=";"))


def pdf_text(content: bytes) -> str:
    """The PDF's text, whitespace folded to single spaces (extraction breaks lines where the layout does)."""
    assert content.startswith(b"%PDF-"), content[:40]
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split())


def test_two_finance_users_pay_emma_by_sepa_and_she_reads_her_statement(request, people, demo_server):
    # 1. The first finance user drafts a EUR batch; the creator may not approve it.
    farid = people.page(DESKTOP)
    log_in(farid, demo_server.logins["finance"], demo_server.password)
    expect(farid).to_have_url(path_is("/finance/"))
    expect(farid.get_by_role("heading", level=1)).to_have_text("Payouts")
    farid.get_by_label("Currency").fill("EUR")
    farid.get_by_label("Minimum payout").fill("10.00")
    farid.get_by_role("button", name="Draft a batch").click()
    expect(farid).to_have_url(re.compile(r"/finance/batches/\d+$"))
    batch_id = int(re.search(r"/finance/batches/(\d+)$", farid.url)[1])
    batch_path = f"/finance/batches/{batch_id}"
    expect(flash(farid)).to_have_text(
        f"Batch {batch_id} drafted: another finance user reviews and approves it.")
    expect(farid.get_by_role("heading", level=1)).to_have_text(f"Batch {batch_id} · EUR")
    expect(batch_status(farid)).to_contain_text("Status: draft")
    expect(batch_status(farid)).to_contain_text("created by Farid Finance")

    line = emma_line(farid)
    expect(line).to_have_count(1)
    cells = line.locator("td")
    expect(cells.nth(1)).to_have_text("SEPA transfer")
    expect(cells.nth(2).get_by_test_id("item-status")).to_have_text("pending")
    amount = cells.nth(0).inner_text().strip()
    amount_cents = cents_of(amount)
    assert amount.startswith("€") and amount_cents >= 1000, f"Emma's line is {amount!r}, below the 10.00 minimum"
    item_id = int(line.get_attribute("data-testid").removeprefix("item-"))
    expect(farid.get_by_text("You created this batch: another finance user must approve it.")).to_be_visible()
    expect(farid.get_by_role("button", name="Approve the batch")).to_have_count(0)

    # 2. The second finance user approves it, submits it, takes the SEPA file to the bank and records it paid.
    fanny = people.page(DESKTOP)
    log_in(fanny, demo_server.logins["finance (second approver)"], demo_server.password)
    expect(fanny).to_have_url(path_is("/finance/"))
    fanny.goto(batch_path)
    expect(emma_line(fanny).locator("td").nth(0)).to_have_text(amount)
    fanny.get_by_role("button", name="Approve the batch").click()
    expect(flash(fanny)).to_have_text("Batch approved: it can be submitted.")
    expect(batch_status(fanny)).to_contain_text("Status: approved")
    expect(batch_status(fanny)).to_contain_text("approved by Fanny Finance")
    expect(fanny.get_by_role("heading", name="SEPA transfer file")).to_have_count(0)

    fanny.get_by_role("button", name="Submit: pay the experts").click()
    expect(flash(fanny)).to_have_text("Batch submitted: the transfers are on their way.")
    expect(batch_status(fanny)).to_contain_text("Status: submitting")
    expect(batch_status(fanny)).to_contain_text("submitted by Fanny Finance")
    expect(emma_line(fanny).get_by_test_id("item-status")).to_have_text("submitted")
    expect(fanny.get_by_role("heading", name="SEPA transfer file")).to_be_visible()

    filename, sepa = download(fanny, fanny.get_by_role("link", name="Download the SEPA file (pain.001)"))
    assert filename == f"payout-batch-{batch_id}-sepa.xml"
    root = ET.fromstring(sepa)  # noqa: S314 - the file our own server just wrote
    header = root.find(f"{PAIN}CstmrCdtTrfInitn/{PAIN}GrpHdr")
    assert header.findtext(f"{PAIN}MsgId") == f"PAYOUT-BATCH-{batch_id}"
    transfers = root.findall(f".//{PAIN}CdtTrfTxInf")
    emma_transfers = [t for t in transfers if t.findtext(f"{PAIN}CdtrAcct/{PAIN}Id/{PAIN}IBAN") == EMMA_IBAN]
    assert len(emma_transfers) == 1, f"Emma's IBAN should be paid once in the file:\n{sepa.decode()}"
    transfer = emma_transfers[0]
    instructed = transfer.find(f"{PAIN}Amt/{PAIN}InstdAmt")
    assert (instructed.get("Ccy"), Decimal(instructed.text)) == ("EUR", Decimal(amount_cents) / 100)
    assert transfer.findtext(f"{PAIN}Cdtr/{PAIN}Nm") == EMMA_NAME
    assert transfer.findtext(f"{PAIN}PmtId/{PAIN}EndToEndId") == f"PAYOUT-ITEM-{item_id}"
    assert len(transfers) == emma_line(fanny).count() == fanny.get_by_test_id("batch-items").locator(
        "tbody tr").count(), "the SEPA file should hold one transfer per line of the batch"

    fanny.get_by_role("button", name="The bank executed the file").click()
    expect(flash(fanny)).to_have_text("The SEPA transfers are recorded as paid.")
    expect(batch_status(fanny)).to_contain_text("Status: paid")
    expect(emma_line(fanny).get_by_test_id("item-status")).to_have_text("paid")
    expect(emma_line(fanny).locator("td").nth(1)).to_contain_text(f"PAYOUT-ITEM-{item_id}")
    expect(fanny.get_by_role("button", name="The bank executed the file")).to_have_count(0)

    # 3. Emma, on her phone, sees the money paid and how she is paid.
    emma = people.page(PHONE)
    log_in(emma, EMMA, demo_server.password)
    expect(emma).to_have_url(path_is("/expert"))
    expect(emma.locator("html")).to_have_attribute("lang", "en")
    emma.goto("/expert/earnings")
    expect(emma.get_by_role("heading", level=1)).to_have_text("Earnings")
    paid = emma.get_by_test_id("earnings-totals-EUR").locator(".figure").filter(
        has=emma.get_by_text("Paid", exact=True)).locator(".figure__value")
    expect(paid, "Emma's paid money should be the batch's line").to_have_text(amount)
    expect(emma.get_by_test_id("payout-method")).to_contain_text("By SEPA bank transfer to the IBAN in your profile.")

    # Her statement of last month (the newest month that is over, so it holds the self-billing invoice).
    emma.get_by_role("link", name="Monthly statements and invoices").click()
    expect(emma).to_have_url(path_is("/expert/statements"))
    expect(emma.get_by_role("heading", level=1)).to_have_text("Statements and invoices")
    month = last_month(dt.datetime.now(PLATFORM_CLOCK).date())
    period, month_name = month.strftime("%Y-%m"), format_date(month, "LLLL y", locale=LOCALE)
    entry = emma.get_by_test_id(f"statement-{period}")
    expect(entry).to_contain_text(month_name)

    # The scheduler earns older chats every minute, this month's too while the demo is young: read the page
    # and the files again until they were all read between two of its passes.
    def month_summary() -> str:
        emma.reload()
        return entry.locator(".muted").inner_text().strip()

    for _ in range(3):
        summary = month_summary()
        csv_name, before = download(emma, entry.get_by_role("link", name=f"Statement of {month_name}, CSV"))
        pdf_name, pdf = download(emma, entry.get_by_role("link", name=f"Statement of {month_name}, PDF"))
        _, after = download(emma, entry.get_by_role("link", name=f"Statement of {month_name}, CSV"))
        if before == after and month_summary() == summary:
            break
    else:
        pytest.fail(f"the statement of {period} kept changing")
    assert (csv_name, pdf_name) == (f"statement-{period}.csv", f"statement-{period}.pdf")

    rows = statement_rows(before)
    chats = [row for row in rows if row["line"] == "chat" and row["currency"] == "EUR"]
    totals = [row for row in rows if row["line"] == "total" and row["currency"] == "EUR"]
    assert chats and len(totals) == 1, f"the {period} CSV should list chats and one EUR total:\n{before.decode()}"
    net_cents = sum(int(row["net_cents"]) for row in chats)
    assert int(totals[0]["net_cents"]) == net_cents
    assert Decimal(totals[0]["net"]) == Decimal(net_cents) / 100
    assert all(row["date"].startswith(period) for row in chats), "a chat of another month is on the statement"

    text = pdf_text(pdf)
    number = f"AF-{expert_id(demo_database_url(request, demo_server), EMMA)}-{period}"
    assert f"Monthly statement, {month_name}" in text
    assert "Provisional" not in text, f"the statement of {period}, a month that is over, is provisional"
    assert f"Invoice number: {number}" in text, text[-1500:]
    issued = format_date(month.replace(year=month.year + month.month // 12, month=month.month % 12 + 1), "long",
                         locale=LOCALE)
    assert f"Date of issue: {issued}" in text, "the invoice should be dated the first day after its month"
    assert f"Supplier {EMMA_NAME} SIRET {EMMA_SIRET}" in text, text[-1500:]
    assert "TVA non applicable, art. 293 B du CGI" in text
    assert "Autofacturation" in text
    invoiced = re.search(r"Amount of the invoice: ([\d,]+\.\d{2}) EUR", text)
    assert invoiced, text[-1500:]
    assert cents_of(invoiced[1]) == net_cents, f"the invoice says {invoiced[1]} EUR; the month's chats sum to " \
                                               f"{Decimal(net_cents) / 100}"
    assert f"{len(chats)} answered chats for the platform's brands in {month_name}: {invoiced[1]} EUR" in text

    # The statements page sums the month up the same way.
    assert summary == f"{len(chats)} chats · {format_currency(Decimal(net_cents) / 100, 'EUR', locale=LOCALE)}"
    assert people.errors == [], people.errors
