"""The tax documents as files: the expert's yearly summary (CSV and PDF, with the art. 242 bis notice) and the
platform's DAC7 report (CSV, columns named after the DAC7 data elements, amounts as "12.50")."""

from __future__ import annotations

from babel.numbers import format_decimal
from flask import current_app
from flask_babel import get_locale, gettext

from marketplace.payouts.statements.documents import Document, notice_block
from marketplace.payouts.tax import notice as tax_notice
from marketplace.payouts.tax.dac7 import QUARTERS, Dac7Report, SellerLine
from marketplace.payouts.tax.services import YearSummary
from marketplace.shared import money, spreadsheets

SUMMARY_COLUMNS = ("line", "year", "currency", "transactions", "chats", "faq_credits", "gross", "fees", "net",
                   "gross_cents", "fees_cents", "net_cents")


def notice_rows(width: int) -> list[list[object]]:
    """The art. 242 bis notice as `notice` lines of a CSV file, its text in the second column (the statements'
    CSV files stay data only: their notice is in their PDF and on the pages)."""
    return [["notice", line, *[""] * (width - 2)] for line in tax_notice.notice().lines()]


def summary_csv(summary: YearSummary) -> str:
    """The yearly summary as CSV (UTF-8, `;`): who, one `total` line per currency, the accounts paid into, the
    notice."""
    width = len(SUMMARY_COLUMNS)
    rows: list[list[object]] = [["expert", summary.legal_name, *[""] * (width - 2)],
                                ["siret", summary.business_id or "", *[""] * (width - 2)]]
    rows += [["total", summary.year, total.currency, total.transactions, total.chats, total.faq_credits,
              money.plain(total.gross_cents, total.currency), money.plain(total.fees_cents, total.currency),
              money.plain(total.net_cents, total.currency), total.gross_cents, total.fees_cents, total.net_cents]
             for total in summary.totals]
    rows += [["bank_account", account, *[""] * (width - 2)] for account in summary.bank_accounts]
    if not summary.complete:
        rows.append(["provisional", "the year is not over", *[""] * (width - 2)])
    rows += notice_rows(width)
    return spreadsheets.text(SUMMARY_COLUMNS, rows)


def summary_pdf(summary: YearSummary) -> bytes:
    """The yearly summary as a PDF in the reader's language."""
    locale = get_locale()
    title = gettext("Tax summary %(year)s", year=str(summary.year))
    document = Document(title, f"242bis-{summary.expert_id}-{summary.year}")
    document.para(current_app.config["PLATFORM_LEGAL_NAME"], size=10, bold=True)
    document.para(current_app.config["PLATFORM_ADDRESS"], size=8, gap=4)
    document.para(title, size=15, bold=True, gap=1)
    if not summary.complete:
        document.para(gettext("Provisional: the year is not over yet."), bold=True)
    document.para(summary.legal_name)
    if summary.business_id:
        document.para(gettext("SIRET %(number)s", number=summary.business_id))
    document.para(gettext("Amounts the platform paid you from 1 January to 31 December %(year)s (art. 242 bis CGI).",
                          year=str(summary.year)), size=8)
    document.heading(gettext("Amounts received"))
    if summary.totals:
        document.grid([gettext("Currency"), gettext("Transactions"), gettext("Gross amount"),
                       gettext("Platform fees"), gettext("Received")],
                      [[total.currency, format_decimal(total.transactions, locale=locale),
                        money.written(total.gross_cents, total.currency, locale),
                        money.written(total.fees_cents, total.currency, locale),
                        money.written(total.net_cents, total.currency, locale)] for total in summary.totals],
                      (20, 30, 43, 43, 44), "LRRRR")
    else:
        document.para(gettext("Nothing was paid to you this year."))
    document.heading(gettext("Bank account used"))
    document.para("\n".join(summary.bank_accounts) or gettext("None"))
    notice_block(document)
    return document.output_bytes()


DAC7_COLUMNS = ("ReportableYear", "SellerId", "Name", "TradingName", "ResCountryCode", "TIN", "IN", "BirthDate",
                "Address", "FinancialIdentifier", "AccountHolderName", "Currency",
                *(f"ConsQ{q}" for q in QUARTERS), *(f"NumbQ{q}" for q in QUARTERS), *(f"FeesQ{q}" for q in QUARTERS),
                *(f"TaxQ{q}" for q in QUARTERS))


def dac7_csv(report: Dac7Report) -> str:
    """The DAC7 report as CSV: one line per seller and currency; amounts as "12.50" in the line's currency."""
    def amounts(seller: SellerLine, attribute: str) -> list[str]:
        return [money.plain(getattr(seller.quarters[q], attribute), seller.currency) for q in QUARTERS]

    rows = []
    for seller in report.sellers:
        rows.append([report.year, seller.expert_id, seller.legal_name, seller.display_name, seller.country or "",
                     seller.tin or "", seller.business_id or "",
                     seller.birth_date.isoformat() if seller.birth_date else "", seller.address or "",
                     seller.account or "", seller.account_holder or "", seller.currency,
                     *amounts(seller, "consideration_cents"), *(seller.quarters[q].activities for q in QUARTERS),
                     *amounts(seller, "fees_cents"), *amounts(seller, "taxes_cents")])
    return spreadsheets.text(DAC7_COLUMNS, rows)
