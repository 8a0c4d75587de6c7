"""The statements and invoices as files: CSV (UTF-8, `;`, amounts as "12.50") and PDF (fpdf2, A4).

PDFs are written in the reader's language, amounts with the ISO code ("1 234,50 EUR" in French); the legal
mentions of the self-billing invoice stay in French whatever the language.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_decimal
from flask import current_app
from flask_babel import get_locale, gettext, ngettext
from fpdf import FPDF

from marketplace.payouts.statements.services import (
    Amounts,
    BrandInvoice,
    ExpertStatement,
    Month,
    Platform,
    StatementLine,
    YearIncome,
    YearRow,
)
from marketplace.payouts.tax import notice as tax_notice
from marketplace.routing.channels import fees as channel_fees
from marketplace.shared import money, spreadsheets

# Legal mentions of a French self-billing invoice: French whatever the reader's language.
SELF_BILLING_MENTION = "Autofacturation – facture émise par le client au nom et pour le compte du fournisseur"
FRENCH_VAT_EXEMPTION = "TVA non applicable, art. 293 B du CGI"






def _money_cells(amounts: Amounts) -> list[str]:
    return [money.plain(cents, amounts.currency) for cents in
            (amounts.price_cents, amounts.commission_cents, amounts.bonus_cents, amounts.net_cents)]


STATEMENT_COLUMNS = ("line", "date", "time", "brand", "conversation_id", "currency", "price", "commission", "bonus",
                     "net", "net_cents")


def statement_csv(statement: ExpertStatement) -> str:
    """The statement as CSV (UTF-8, `;`): one `chat` line per counted chat, one `reversed` line per reversed
    chat (counted nowhere), then one `total` line per currency; then one `faq_credit` line per conversation the
    FAQ bot resolved with the expert's answer and one `faq_credits_total` line per currency (apart from the
    chats' totals). Amounts as "12.50", the net also in cents."""
    def chat_row(kind: str, line: StatementLine) -> list[object]:
        return [kind, line.closed_at.date().isoformat(), line.closed_at.strftime("%H:%M"),
                line.brand_name, line.conversation_id, line.amounts.currency,
                *_money_cells(line.amounts), line.amounts.net_cents]

    rows = [chat_row("chat", line) for line in statement.lines]
    rows += [chat_row("reversed", line) for line in statement.reversed]
    rows += [["total", "", "", "", "", total.currency, *_money_cells(total), total.net_cents]
             for total in statement.totals]
    rows += [["faq_credit", credit.resolved_at.date().isoformat(), credit.resolved_at.strftime("%H:%M"),
              credit.brand_name, credit.conversation_id, credit.currency, "", "", "",
              money.plain(credit.amount_cents, credit.currency), credit.amount_cents]
             for credit in statement.faq_credits]
    rows += [["faq_credits_total", "", "", "", "", total.currency, "", "", "",
              money.plain(total.credited_cents, total.currency), total.credited_cents]
             for total in statement.faq_credit_totals]
    return spreadsheets.text(STATEMENT_COLUMNS, rows)


YEAR_COLUMNS = ("month", "currency", "chats", "price", "commission", "bonus", "net", "net_cents", "faq_credits",
                "faq_credits_cents", "income_cents")


def year_csv(income: YearIncome) -> str:
    """The year's income as CSV: one line per month and currency, then a `total` line per currency; the income is
    the chats' net plus the FAQ credits."""
    def cells(label: str, row: YearRow) -> list[object]:
        return [label, row.amounts.currency, row.amounts.chats, *_money_cells(row.amounts), row.amounts.net_cents,
                money.plain(row.faq_credits_cents, row.amounts.currency), row.faq_credits_cents, row.income_cents]

    rows = [cells(str(row.month), row) for row in income.rows]
    rows += [cells("total", total) for total in income.totals]
    return spreadsheets.text(YEAR_COLUMNS, rows)


class Document(FPDF):
    """An A4 page in a built-in font, page numbers in the footer.

    The built-in fonts are single-byte: windows-1252 gives them "€", "–" and the French accents; what it
    lacks (narrow no-break spaces, emoji in a brand's name) is replaced rather than refused."""

    def __init__(self, title: str, reference: str) -> None:
        super().__init__(format="A4")
        self.core_fonts_encoding = "windows-1252"
        self.reference = reference
        self.set_title(title)
        self.set_author(current_app.config["PLATFORM_LEGAL_NAME"])
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(True, margin=18)
        self.add_page()

    def normalize_text(self, text: str) -> str:
        """Replace what windows-1252 cannot write (fpdf2 would refuse the whole text)."""
        text = text.replace("\u202f", " ").replace("\u2009", " ")
        return super().normalize_text(text.encode("windows-1252", "replace").decode("windows-1252"))

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=7)
        self.cell(0, 5, f"{self.reference} · " + gettext("Page %(page)d of %(pages)s", page=self.page_no(),
                                                           pages=self.str_alias_nb_pages), align="C")

    def para(self, text: str, *, size: float = 9, bold: bool = False, gap: float = 0) -> None:
        self.set_font("Helvetica", "B" if bold else "", size)
        self.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        if gap:
            self.ln(gap)

    def heading(self, text: str) -> None:
        self.ln(3)
        self.para(text, size=11, bold=True, gap=1)

    def grid(self, header: Sequence[str] | None, rows: Sequence[Sequence[str]], widths: Sequence[float],
             align: str, *, bold_last: bool = False) -> None:
        """A table whose header (if any) repeats on each page; `align` has one letter (L or R) per column and
        `widths` are shares of the page's width. Plain cells, one line each (too long a text is shortened):
        a month of a busy expert's chats is thousands of cells, and fpdf2's tables are ten times slower."""
        scale = self.epw / sum(widths)
        widths = [width * scale for width in widths]
        height = 4.5

        def line(values: Sequence[str], style: str = "", fill: bool = False) -> None:
            self.set_font("Helvetica", style, 8)
            for width, value, side in zip(widths, values, align, strict=True):
                self.cell(width, height, self._fit(str(value), width - 2), border="B", align=side, fill=fill)
            self.ln(height)

        def headings() -> None:
            if header is not None:
                self.set_fill_color(235, 235, 235)
                line(header, "B", fill=True)

        headings()
        for number, values in enumerate(rows, start=1):
            if self.will_page_break(height):
                self.add_page()
                headings()
            line(values, "B" if bold_last and number == len(rows) else "")
        self.ln(2)

    def _fit(self, text: str, width: float) -> str:
        """The text, shortened with an ellipsis until it fits `width` millimetres."""
        if self.get_string_width(text) <= width:
            return text
        while text and self.get_string_width(text + "…") > width:
            text = text[:-1]
        return text + "…"

    def keep_together(self, height: float) -> None:
        """Start a new page unless `height` millimetres still fit on this one."""
        if self.will_page_break(height):
            self.add_page()

    def output_bytes(self) -> bytes:
        return bytes(self.output())


def _month_name(month: Month, locale) -> str:
    return format_date(month.first_day, "LLLL y", locale=locale)


def _party(document: Document, label: str, lines: Sequence[str]) -> None:
    document.para(label, bold=True)
    document.para("\n".join(line for line in lines if line), gap=2)


def _platform_lines(platform: Platform) -> list[str]:
    return [platform.legal_name, platform.address, gettext("SIRET %(number)s", number=platform.siret),
            gettext("VAT number %(number)s", number=platform.vat_number)]


def statement_pdf(statement: ExpertStatement) -> bytes:
    """The statement as a PDF in the reader's language; the self-billing mentions stay in French."""
    locale = get_locale()
    name = _month_name(statement.month, locale)
    title = gettext("Monthly statement, %(month)s", month=name)
    document = Document(title, statement.invoice.number if statement.invoice else str(statement.month))
    document.para(statement.platform.legal_name, size=10, bold=True)
    document.para(statement.platform.address, size=8, gap=4)
    document.para(title, size=15, bold=True, gap=1)
    if not statement.complete:
        document.para(gettext("Provisional: the month is not over yet."), bold=True)
    document.para(statement.expert_name)
    if statement.expert_siret:
        document.para(gettext("SIRET %(number)s", number=statement.expert_siret))
    document.para(gettext("Answered chats closed from %(first)s to %(last)s (%(timezone)s time).",
                          first=format_date(statement.month.first_day, "long", locale=locale),
                          last=format_date(statement.month.next().first_day - dt.timedelta(days=1), "long",
                                           locale=locale),
                          timezone=statement.timezone), size=8)

    def amount(cents: int, currency: str) -> str:
        return money.written(cents, currency, locale)

    amount_header = [gettext("Price"), gettext("Commission"), gettext("Bonus"), gettext("Net to you")]

    def amount_cells(amounts: Amounts) -> list[str]:
        return [amount(amounts.price_cents, amounts.currency), amount(-amounts.commission_cents, amounts.currency),
                amount(amounts.bonus_cents, amounts.currency), amount(amounts.net_cents, amounts.currency)]

    if not statement.lines:
        document.heading(gettext("Summary"))
        document.para(gettext("No earnings this month: no answered chat of yours closed in %(month)s.", month=name))
    else:
        document.heading(gettext("Summary"))
        document.grid([gettext("Currency"), gettext("Answered chats"), *amount_header],
                      [[total.currency, format_decimal(total.chats, locale=locale), *amount_cells(total)]
                       for total in statement.totals], (16, 24, 35, 35, 35, 35), "LRRRRR")
        document.heading(gettext("By brand"))
        document.grid([gettext("Brand"), gettext("Answered chats"), *amount_header],
                      [[summary.brand_name, format_decimal(summary.amounts.chats, locale=locale),
                        *amount_cells(summary.amounts)] for summary in statement.by_brand],
                      (40, 24, 29, 29, 29, 29), "LRRRRR")
        document.heading(gettext("Answered chats"))
        document.grid(*_chat_table(statement.lines, amount_header, amount_cells, locale))
    if statement.reversed:
        document.heading(gettext("Reversed chats, not counted above"))
        document.para(gettext("These chats were disputed or failed a check: their earnings were cancelled and are "
                              "neither in the totals nor paid."), size=8, gap=1)
        document.grid(*_chat_table(statement.reversed, amount_header, amount_cells, locale))
    if statement.faq_credits:
        _faq_credits_block(document, statement, amount, locale)
    _self_billing_block(document, statement, name, amount)
    notice_block(document)
    return document.output_bytes()


def notice_block(document: Document) -> None:
    """The art. 242 bis notice: the expert's tax and social obligations, with the official links."""
    text = tax_notice.notice()
    document.keep_together(40)
    document.heading(f"{text.title} ({text.legal_basis})")
    for paragraph in text.paragraphs:
        document.para(paragraph, size=8, gap=1)
    for label, address in text.links:
        document.para(f"{label}: {address}", size=8)


def _chat_table(lines: Sequence[StatementLine], amount_header: list[str], amount_cells, locale):
    return ([gettext("Date"), gettext("Brand"), gettext("Chat"), *amount_header],
            [[format_date(line.closed_at.date(), "short", locale=locale), line.brand_name,
              f"#{line.conversation_id}", *amount_cells(line.amounts)] for line in lines],
            (20, 34, 22, 26, 26, 26, 26), "LLRRRRR")


def _faq_credits_block(document: Document, statement: ExpertStatement, amount, locale) -> None:
    document.heading(gettext("FAQ credits"))
    document.para(gettext("Conversations a brand's FAQ bot resolved with an answer you wrote: each earns you the "
                          "brand's credit. They are no answered chats and are not counted above."), size=8, gap=1)
    document.grid([gettext("Currency"), gettext("Resolutions"), gettext("Credited")],
                  [[total.currency, format_decimal(total.resolutions, locale=locale),
                    amount(total.credited_cents, total.currency)] for total in statement.faq_credit_totals],
                  (30, 40, 40), "LRR")
    document.grid([gettext("Date"), gettext("Brand"), gettext("Chat"), gettext("Credited")],
                  [[format_date(credit.resolved_at.date(), "short", locale=locale), credit.brand_name,
                    f"#{credit.conversation_id}", amount(credit.amount_cents, credit.currency)]
                   for credit in statement.faq_credits], (24, 60, 30, 40), "LLRR")


def _self_billing_block(document: Document, statement: ExpertStatement, month_name: str, amount) -> None:
    invoice = statement.invoice
    document.keep_together(100 if invoice is not None else 20)  # an invoice is not cut across two pages
    document.heading(gettext("Self-billing invoice"))
    if invoice is None:
        document.para(gettext("The self-billing invoice is issued once the month is over.") if not statement.complete
                      else gettext("No invoice: nothing was earned this month."))
        return
    document.para(gettext("Invoice number: %(number)s", number=invoice.number), bold=True)
    document.para(gettext("Date of issue: %(day)s", day=format_date(invoice.issued_on, "long",
                                                                       locale=get_locale())), gap=2)
    _party(document, gettext("Supplier"), [invoice.supplier_name, gettext("SIRET %(number)s",
                                                                          number=invoice.supplier_siret)
                                           if invoice.supplier_siret else ""])
    _party(document, gettext("Client"), _platform_lines(statement.platform))
    for total in invoice.amounts:
        document.para(ngettext("%(num)d answered chat for the platform's brands in %(month)s: %(amount)s",
                               "%(num)d answered chats for the platform's brands in %(month)s: %(amount)s",
                               total.chats, month=month_name, amount=amount(total.net_cents, total.currency)))
    for credit in invoice.faq_credits:
        document.para(ngettext("%(num)d conversation resolved by the FAQ bots of the platform's brands with your "
                               "answers in %(month)s: %(amount)s",
                               "%(num)d conversations resolved by the FAQ bots of the platform's brands with your "
                               "answers in %(month)s: %(amount)s",
                               credit.resolutions, month=month_name,
                               amount=amount(credit.credited_cents, credit.currency)))
    document.ln(1)
    document.para(gettext("Amount of the invoice: %(amounts)s", amounts=", ".join(
        amount(cents, currency) for currency, cents in invoice.invoiced)), bold=True, gap=2)
    if invoice.vat_exempt:
        document.para(FRENCH_VAT_EXEMPTION)
    document.para(SELF_BILLING_MENTION)


def invoice_pdf(invoice: BrandInvoice) -> bytes:
    """The brand's invoice as a PDF in the reader's language."""
    locale = get_locale()
    name = _month_name(invoice.month, locale)
    title = (gettext("Invoice %(number)s", number=invoice.number) if invoice.complete
             else gettext("Provisional invoice %(number)s", number=invoice.number))
    document = Document(title, invoice.number)
    document.para(invoice.platform.legal_name, size=10, bold=True)
    document.para(invoice.platform.address, size=8, gap=4)
    document.para(title, size=15, bold=True, gap=1)
    if invoice.issued_on is not None:
        document.para(gettext("Date of issue: %(day)s", day=format_date(invoice.issued_on, "long", locale=locale)))
    else:
        document.para(gettext("Provisional: the month is not over yet; the invoice is issued once it is."),
                      bold=True)
    document.para(gettext("Answered chats closed in %(month)s (%(timezone)s time).", month=name,
                          timezone=invoice.timezone), size=8, gap=3)
    _party(document, gettext("Seller"), _platform_lines(invoice.platform))
    _party(document, gettext("Buyer"), [invoice.brand_name])
    document.para(gettext("Service: your website's customer chats answered by the platform's experts, billed per "
                          "answered chat at the price in effect when the expert accepted it."), size=8)
    if not invoice.parts:
        document.heading(gettext("Answered chats"))
        document.para(gettext("No answered chats in %(month)s: nothing to pay.", month=name))
    rate = format_decimal(Decimal(invoice.vat_bps).scaleb(-2), locale=locale)
    for part in invoice.parts:
        def amount(cents: int, currency: str = part.currency) -> str:
            return money.written(cents, currency, locale)

        document.heading(gettext("Answered chats in %(currency)s", currency=part.currency))
        rows = [[format_date(day.day, "full", locale=locale), format_decimal(day.chats, locale=locale),
                 amount(day.price_cents)] for day in part.days]
        rows.append([gettext("Bonuses (visitor ratings, reply times)"), format_decimal(part.bonus_chats,
                                                                                      locale=locale),
                     amount(part.bonus_cents)])
        rows += [[gettext("Channel fees: %(app)s, %(category)s messages", app=channel_fees.APP_NAMES[line.kind],
                          category=channel_fees.CATEGORY_NAMES[line.category]),
                  format_decimal(line.messages, locale=locale), amount(line.amount_cents)]
                 for line in part.channel_fees]
        if part.faq_credit_resolutions:
            rows.append([gettext("FAQ credits (your bot's resolutions with answers your experts wrote)"),
                         format_decimal(part.faq_credit_resolutions, locale=locale), amount(part.faq_credits_cents)])
        document.grid([gettext("Day"), gettext("Answered chats"), gettext("Amount excl. VAT")], rows,
                      (100, 35, 45), "LRR")
        document.keep_together(20)
        document.grid(None, [
            [ngettext("Subtotal excl. VAT (%(num)d chat)", "Subtotal excl. VAT (%(num)d chats)", part.chats),
             amount(part.subtotal_cents)],
            [gettext("VAT %(rate)s %%", rate=rate), amount(part.vat_cents)],
            [gettext("Total incl. VAT"), amount(part.total_cents)],
        ], (135, 45), "LR", bold_last=True)
    return document.output_bytes()
