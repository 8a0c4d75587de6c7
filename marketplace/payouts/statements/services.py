"""Statements and invoices, what they say: the expert's monthly statement with its self-billing invoice, the
expert's yearly income, the brand's monthly invoice (`documents` writes them as PDF and CSV).

A chat belongs to the calendar month, on the platform's clock (BABEL_DEFAULT_TIMEZONE), in which it closed,
so the same chat is in the same month on the expert's statement and on the brand's invoice. Reversed earnings
count nowhere; the statement lists them apart. The expert's FAQ credits (payouts/credits/) belong to the month the
bot resolved their conversation in: the statement lists them apart from the chats, the self-billing invoice covers
both, and the brand's invoice bills them. A month that is not over gives a provisional document (no invoice date,
nothing issued); a month not yet begun is refused. Invoices are numbered AF-<expert>-<YYYY-MM>
(self-billing) and F-<brand>-<YYYY-MM>, and dated the first day after their month, so a document downloaded
again is the same document.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from marketplace.accounts.models import Role, User
from marketplace.brands import services as brands
from marketplace.brands.models import Brand
from marketplace.core import clock
from marketplace.core import rates as pricing
from marketplace.database import db, use_case, utcnow
from marketplace.errors import Forbidden, InvalidInput
from marketplace.experts import services as experts
from marketplace.payouts.models import Earning, EarningStatus, FaqCredit
from marketplace.routing.channels import fees as channel_fees

FIRST_YEAR = 2000  # nothing was earned before; older periods are refused as typos
COUNTED = Earning.status != EarningStatus.REVERSED


# Periods and money as plain values.

@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def start(self, zone: zoneinfo.ZoneInfo) -> dt.datetime:
        return dt.datetime(self.year, self.month, 1, tzinfo=zone)

    @classmethod
    def of(cls, instant: dt.datetime, zone: zoneinfo.ZoneInfo) -> Month:
        local = instant.astimezone(zone)
        return cls(local.year, local.month)


def months_between(first: Month, last: Month) -> list[Month]:
    months = [first]
    while months[-1] < last:
        months.append(months[-1].next())
    return months


def check_month(year: int, month: int, current: Month) -> Month:
    """The month if it may have a statement (begun, from FIRST_YEAR on); InvalidInput naming the field if not."""
    if not 1 <= month <= 12:
        raise InvalidInput(_l("The month must be from 01 to 12."), "month")
    if not FIRST_YEAR <= year <= 9999:
        raise InvalidInput(_l("The year must be from %(first)d to %(last)d.", first=FIRST_YEAR, last=current.year),
                           "year")
    if Month(year, month) > current:
        raise InvalidInput(_l("This month has not begun yet: choose %(month)s or earlier.", month=str(current)),
                           "month")
    return Month(year, month)


def check_year(year: int, current: Month) -> int:
    if not FIRST_YEAR <= year <= current.year:
        raise InvalidInput(_l("The year must be from %(first)d to %(last)d.", first=FIRST_YEAR, last=current.year),
                           "year")
    return year


def parse_month(text: str) -> tuple[int, int]:
    """"2026-03" as (2026, 3); InvalidInput naming the month when it is not written YYYY-MM."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", text or "")
    if match is None:
        raise InvalidInput(_l("Write the month as YYYY-MM, e.g. 2026-03."), "month")
    return int(match[1]), int(match[2])


def parse_year(text: str) -> int:
    if re.fullmatch(r"\d{1,6}", text or "") is None:
        raise InvalidInput(_l("Write the year as YYYY, e.g. 2026."), "year")
    return int(text)


@dataclass(frozen=True)
class Amounts:
    """What a set of earnings in one currency adds up to."""

    currency: str
    chats: int = 0
    price_cents: int = 0
    commission_cents: int = 0
    bonus_cents: int = 0
    net_cents: int = 0  # to the expert: price + bonus - commission

    def __add__(self, other: Amounts) -> Amounts:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Amounts(self.currency, self.chats + other.chats, self.price_cents + other.price_cents,
                       self.commission_cents + other.commission_cents, self.bonus_cents + other.bonus_cents,
                       self.net_cents + other.net_cents)

    @classmethod
    def of(cls, earning: Earning) -> Amounts:
        return cls(earning.currency, 1, earning.price_cents, earning.commission_cents, earning.bonus_cents,
                   earning.expert_cents)


def by_currency(amounts: Iterable[Amounts]) -> list[Amounts]:
    """The amounts summed per currency, in currency order."""
    totals: dict[str, Amounts] = {}
    for item in amounts:
        totals[item.currency] = totals.get(item.currency, Amounts(item.currency)) + item
    return [totals[currency] for currency in sorted(totals)]


def vat_cents(subtotal_cents: int, vat_bps: int) -> int:
    """VAT on an amount, rounded half up to the cent: the platform's one rounding rule, that of commissions."""
    return pricing.commission_cents(subtotal_cents, vat_bps)


@dataclass(frozen=True)
class Platform:
    legal_name: str
    address: str
    siret: str
    vat_number: str


def _platform() -> Platform:
    config = current_app.config
    return Platform(config["PLATFORM_LEGAL_NAME"], config["PLATFORM_ADDRESS"], config["PLATFORM_SIRET"],
                    config["PLATFORM_VAT_NUMBER"])


def _zone() -> zoneinfo.ZoneInfo:
    return clock.zone(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def _sums(conditions: Sequence[sa.ColumnElement[bool]], bounds: Sequence[dt.datetime]) -> dict[int, list[Amounts]]:
    """Counted earnings summed per interval [bounds[i], bounds[i + 1]) and currency, by interval index."""
    bucket = sa.case(*[(Earning.closed_at < bound, index) for index, bound in enumerate(bounds[1:])])
    # The bucket is computed in a subquery and grouped outside: PostgreSQL would not see the CASE of the
    # select list and that of GROUP BY, each with its own parameters, as the same expression.
    rows = sa.select(bucket.label("bucket"), Earning.currency, Earning.price_cents, Earning.commission_cents,
                     Earning.bonus_cents, Earning.expert_cents).where(
        *conditions, COUNTED, Earning.closed_at >= bounds[0], Earning.closed_at < bounds[-1]).subquery()
    found: dict[int, list[Amounts]] = {}
    for index, currency, chats, price, commission, bonus, net in db.session.execute(
            sa.select(rows.c.bucket, rows.c.currency, sa.func.count(), sa.func.sum(rows.c.price_cents),
                      sa.func.sum(rows.c.commission_cents), sa.func.sum(rows.c.bonus_cents),
                      sa.func.sum(rows.c.expert_cents))
            .group_by(rows.c.bucket, rows.c.currency).order_by(rows.c.bucket, rows.c.currency)):
        found.setdefault(index, []).append(
            Amounts(currency, chats, int(price), int(commission), int(bonus), int(net)))
    return found


@dataclass(frozen=True)
class MonthTotals:
    month: Month
    totals: list[Amounts]  # per currency


def _months_with_earnings(conditions: Sequence[sa.ColumnElement[bool]], zone: zoneinfo.ZoneInfo,
                          ) -> list[MonthTotals]:
    """The months with counted earnings, newest first, with their totals per currency."""
    first, last = db.session.execute(sa.select(sa.func.min(Earning.closed_at), sa.func.max(Earning.closed_at))
                                     .where(*conditions, COUNTED)).one()
    if first is None:
        return []
    months = months_between(Month.of(first, zone), Month.of(last, zone))
    sums = _sums(conditions, [month.start(zone) for month in months] + [months[-1].next().start(zone)])
    return [MonthTotals(months[index], totals) for index, totals in sorted(sums.items(), reverse=True)]


def _with_credit_months(months: list[MonthTotals], conditions: Sequence[sa.ColumnElement[bool]],
                        zone: zoneinfo.ZoneInfo) -> list[MonthTotals]:
    """The months with counted earnings, and those with FAQ credits alone (no totals of chats), newest first."""
    counted = (*conditions, FaqCredit.status != EarningStatus.REVERSED)
    first, last = db.session.execute(sa.select(sa.func.min(FaqCredit.resolved_at), sa.func.max(FaqCredit.resolved_at))
                                     .where(*counted)).one()
    if first is None:
        return months
    listed = {item.month for item in months}

    def credited_in(month: Month) -> bool:
        return bool(db.session.scalar(sa.select(sa.exists().where(
            *counted, FaqCredit.resolved_at >= month.start(zone), FaqCredit.resolved_at < month.next().start(zone)))))

    alone = [MonthTotals(month, []) for month in months_between(Month.of(first, zone), Month.of(last, zone))
             if month not in listed and credited_in(month)]
    return sorted([*months, *alone], key=lambda item: item.month, reverse=True)


# The expert's side.

@dataclass(frozen=True)
class StatementIndex:
    months: list[MonthTotals]
    years: list[int]  # newest first


@use_case
def statement_index(actor: User) -> StatementIndex:
    """The calling expert's months with earnings or FAQ credits (newest first) and the years they span."""
    profile = experts.own_profile(actor)
    zone = _zone()
    months = _with_credit_months(_months_with_earnings([Earning.expert_id == profile.id], zone),
                                 [FaqCredit.expert_id == profile.id], zone)
    return StatementIndex(months, sorted({item.month.year for item in months}, reverse=True))


@dataclass(frozen=True)
class StatementLine:
    closed_at: dt.datetime  # on the platform's clock
    brand_name: str
    conversation_id: int
    amounts: Amounts


@dataclass(frozen=True)
class BrandSummary:
    brand_name: str
    amounts: Amounts


@dataclass(frozen=True)
class CreditLine:
    """One conversation the FAQ bot resolved with an entry the expert wrote, and its credit."""

    resolved_at: dt.datetime  # on the platform's clock
    brand_name: str
    conversation_id: int
    currency: str
    amount_cents: int


@dataclass(frozen=True)
class CreditSum:
    """The FAQ credits of a month in one currency."""

    currency: str
    resolutions: int
    credited_cents: int


def credit_sums(lines: Iterable[CreditLine]) -> list[CreditSum]:
    """The credits summed per currency, in currency order."""
    sums: dict[str, CreditSum] = {}
    for line in lines:
        before = sums.get(line.currency, CreditSum(line.currency, 0, 0))
        sums[line.currency] = CreditSum(line.currency, before.resolutions + 1,
                                        before.credited_cents + line.amount_cents)
    return [sums[currency] for currency in sorted(sums)]


@dataclass(frozen=True)
class SelfBillingInvoice:
    """The invoice the platform issues in the expert's name for the month's net earnings and FAQ credits
    (autofacturation)."""

    number: str
    issued_on: dt.date
    supplier_name: str
    supplier_siret: str | None
    vat_exempt: bool  # a French micro-entrepreneur under the franchise en base de TVA
    amounts: list[Amounts]  # per currency; the chats' invoiced amount is net_cents
    faq_credits: list[CreditSum] = field(default_factory=list)  # per currency, invoiced in full

    @property
    def invoiced(self) -> list[tuple[str, int]]:
        """The amount of the invoice per currency: the chats' net and the FAQ credits, in currency order."""
        cents: dict[str, int] = {}
        for total in self.amounts:
            cents[total.currency] = cents.get(total.currency, 0) + total.net_cents
        for credit in self.faq_credits:
            cents[credit.currency] = cents.get(credit.currency, 0) + credit.credited_cents
        return sorted(cents.items())


@dataclass(frozen=True)
class ExpertStatement:
    month: Month
    timezone: str
    complete: bool  # False while the month is under way: a provisional statement, no invoice yet
    expert_name: str
    expert_siret: str | None
    platform: Platform
    lines: list[StatementLine]
    reversed: list[StatementLine]  # chats of the month whose earning was reversed: counted nowhere
    by_brand: list[BrandSummary]
    totals: list[Amounts]  # per currency
    invoice: SelfBillingInvoice | None  # None while the month is under way or when nothing was earned
    faq_credits: list[CreditLine] = field(default_factory=list)  # the month's credits (reversed ones left out)
    faq_credit_totals: list[CreditSum] = field(default_factory=list)  # per currency


@use_case
def expert_statement(actor: User, year: int, month: int, *, now: dt.datetime | None = None) -> ExpertStatement:
    """The calling expert's statement of a month: their chats, their FAQ credits, totals, and the self-billing
    invoice."""
    profile = experts.own_profile(actor)
    zone = _zone()
    current = Month.of(now or utcnow(), zone)
    period = check_month(year, month, current)
    earnings = list(db.session.scalars(
        sa.select(Earning).where(Earning.expert_id == profile.id, Earning.closed_at >= period.start(zone),
                                 Earning.closed_at < period.next().start(zone))
        .order_by(Earning.closed_at, Earning.id)))
    credited = list(db.session.scalars(
        sa.select(FaqCredit).where(FaqCredit.expert_id == profile.id, FaqCredit.status != EarningStatus.REVERSED,
                                   FaqCredit.resolved_at >= period.start(zone),
                                   FaqCredit.resolved_at < period.next().start(zone))
        .order_by(FaqCredit.resolved_at, FaqCredit.id)))
    names = {brand.id: brand.name for brand in brands.brands_by_id({e.brand_id for e in earnings}
                                                                     | {c.brand_id for c in credited}).values()}
    credit_lines = [CreditLine(c.resolved_at.astimezone(zone), names.get(c.brand_id, "?"), c.conversation_id,
                               c.currency, c.amount_cents) for c in credited]
    credit_totals = credit_sums(credit_lines)
    lines, reversed_lines = [], []
    for earning in earnings:
        line = StatementLine(earning.closed_at.astimezone(zone), names.get(earning.brand_id, "?"),
                             earning.conversation_id, Amounts.of(earning))
        (reversed_lines if earning.status == EarningStatus.REVERSED else lines).append(line)
    summaries: dict[tuple[str, str], Amounts] = {}
    for line in lines:
        key = (line.brand_name, line.amounts.currency)
        summaries[key] = summaries.get(key, Amounts(line.amounts.currency)) + line.amounts
    totals = by_currency(line.amounts for line in lines)
    complete = period < current
    invoice = None
    if complete and (lines or credit_lines):
        invoice = SelfBillingInvoice(f"AF-{profile.id}-{period}", period.next().first_day, actor.full_name,
                                     profile.business_id or None, profile.country == "FR", totals, credit_totals)
    return ExpertStatement(period, zone.key, complete, actor.full_name, profile.business_id or None, _platform(),
                           lines, reversed_lines, [BrandSummary(name, amounts) for (name, _), amounts
                                                   in sorted(summaries.items())], totals, invoice, credit_lines,
                           credit_totals)


@dataclass(frozen=True)
class YearRow:
    month: Month
    amounts: Amounts
    faq_credits_cents: int = 0  # the month's FAQ credits in the currency

    @property
    def income_cents(self) -> int:
        return self.amounts.net_cents + self.faq_credits_cents


@dataclass(frozen=True)
class YearIncome:
    year: int
    rows: list[YearRow]  # per month and currency, months in order
    totals: list[YearRow]  # per currency (the month of each: the year's first)


@use_case
def expert_year(actor: User, year: int, *, now: dt.datetime | None = None) -> YearIncome:
    """The calling expert's income from the platform in a calendar year, per month and currency: their answered
    chats' net and their FAQ credits."""
    profile = experts.own_profile(actor)
    zone = _zone()
    current = Month.of(now or utcnow(), zone)
    check_year(year, current)
    months = [Month(year, number) for number in range(1, 13)]
    bounds = [m.start(zone) for m in months] + [Month(year + 1, 1).start(zone)]
    sums = _sums([Earning.expert_id == profile.id], bounds)
    credited: dict[tuple[Month, str], int] = {}
    for resolved_at, currency, cents in db.session.execute(
            sa.select(FaqCredit.resolved_at, FaqCredit.currency, FaqCredit.amount_cents)
            .where(FaqCredit.expert_id == profile.id, FaqCredit.status != EarningStatus.REVERSED,
                   FaqCredit.resolved_at >= bounds[0], FaqCredit.resolved_at < bounds[-1])):
        key = (Month.of(resolved_at, zone), currency)
        credited[key] = credited.get(key, 0) + cents
    earned = {(months[index], amounts.currency): amounts for index in sums for amounts in sums[index]}
    rows = [YearRow(month, earned.get((month, currency), Amounts(currency)), credited.get((month, currency), 0))
            for month, currency in sorted(set(earned) | set(credited))]
    totals = [YearRow(months[0], amounts, sum(row.faq_credits_cents for row in rows
                                              if row.amounts.currency == amounts.currency))
              for amounts in by_currency(row.amounts for row in rows)]
    return YearIncome(year, rows, totals)


# The brand's side.

def _invoiced_brand(actor: brands.Actor, brand_id: int) -> Brand:
    """The brand if the actor may read its invoices: its members (and its API tokens), finance and ops staff."""
    if not actor.is_token and actor.role not in (Role.BRAND, Role.FINANCE, Role.OPS):
        raise Forbidden(_l("Only the brand's members and platform staff see its invoices."))
    return brands.get_brand(actor, brand_id)


@use_case
def invoice_index(actor: brands.Actor, brand_id: int) -> tuple[Brand, list[MonthTotals]]:
    """The brand and its months with answered chats or FAQ credits, newest first."""
    brand = _invoiced_brand(actor, brand_id)
    zone = _zone()
    months = _with_credit_months(_months_with_earnings([Earning.brand_id == brand.id], zone),
                                 [FaqCredit.brand_id == brand.id], zone)
    return brand, months


@dataclass(frozen=True)
class InvoiceDay:
    day: dt.date
    chats: int
    price_cents: int


@dataclass(frozen=True)
class InvoiceTotals:
    """One currency's part of a brand invoice."""

    currency: str
    days: list[InvoiceDay]
    chats: int
    price_cents: int
    bonus_chats: int  # chats that earned a bonus
    bonus_cents: int
    subtotal_cents: int  # excluding VAT (chats, bonuses and channel fees)
    vat_cents: int
    total_cents: int  # including VAT
    # Messaging apps' outbound messages, by app and category (the brand's currency only: its fee table's).
    channel_fees: list[channel_fees.FeeLine] = field(default_factory=list)
    # Conversations its FAQ bot resolved with an entry an expert wrote, at its credit per resolution then.
    faq_credit_resolutions: int = 0
    faq_credits_cents: int = 0

    @property
    def channel_fees_cents(self) -> int:
        return sum(line.amount_cents for line in self.channel_fees)


@dataclass(frozen=True)
class BrandInvoice:
    number: str
    month: Month
    timezone: str
    complete: bool  # False while the month is under way: a provisional invoice, not issued
    issued_on: dt.date | None
    brand_name: str
    platform: Platform
    vat_bps: int
    parts: list[InvoiceTotals] = field(default_factory=list)  # one per currency; empty: no answered chat


@use_case
def brand_invoice(actor: brands.Actor, brand_id: int, year: int, month: int, *,
                  now: dt.datetime | None = None) -> BrandInvoice:
    """The brand's invoice for a month: its answered chats per day at their prices, the bonuses, the FAQ credits
    its bot's resolutions earned the experts who wrote their entries, VAT."""
    brand = _invoiced_brand(actor, brand_id)
    zone = _zone()
    current = Month.of(now or utcnow(), zone)
    period = check_month(year, month, current)
    days = [period.first_day + dt.timedelta(days=n) for n in range((period.next().first_day - period.first_day).days)]
    bounds = [dt.datetime.combine(day, dt.time(), zone) for day in days] + [period.next().start(zone)]
    conditions = [Earning.brand_id == brand.id]
    sums = _sums(conditions, bounds)
    bonus_chats = dict(db.session.execute(
        sa.select(Earning.currency, sa.func.count()).where(*conditions, COUNTED, Earning.bonus_cents > 0,
                                                           Earning.closed_at >= bounds[0],
                                                           Earning.closed_at < bounds[-1])
        .group_by(Earning.currency)).all())
    vat_bps = current_app.config["PLATFORM_VAT_BPS"]
    fee_lines = channel_fees.charged_fees(brand.id, bounds[0], bounds[-1])
    credited = {currency: (int(count), int(cents)) for currency, count, cents in db.session.execute(
        sa.select(FaqCredit.currency, sa.func.count(), sa.func.sum(FaqCredit.amount_cents))
        .where(FaqCredit.brand_id == brand.id, FaqCredit.status != EarningStatus.REVERSED,
               FaqCredit.resolved_at >= bounds[0], FaqCredit.resolved_at < bounds[-1])
        .group_by(FaqCredit.currency))}
    totals = by_currency(amounts for found in sums.values() for amounts in found)
    if fee_lines and brand.currency not in {total.currency for total in totals}:
        totals.append(Amounts(brand.currency))  # fees and no answered chat: a part of their own
    totals += [Amounts(currency) for currency in sorted(credited) if currency not in {t.currency for t in totals}]
    parts = []
    for total in totals:
        per_day = [InvoiceDay(days[index], amounts.chats, amounts.price_cents) for index in sorted(sums)
                   for amounts in sums[index] if amounts.currency == total.currency]
        fees = fee_lines if total.currency == brand.currency else []
        resolutions, credits_cents = credited.get(total.currency, (0, 0))
        subtotal = total.price_cents + total.bonus_cents + sum(line.amount_cents for line in fees) + credits_cents
        vat = vat_cents(subtotal, vat_bps)
        parts.append(InvoiceTotals(total.currency, per_day, total.chats, total.price_cents,
                                   bonus_chats.get(total.currency, 0), total.bonus_cents, subtotal, vat,
                                   subtotal + vat, fees, resolutions, credits_cents))
    complete = period < current
    return BrandInvoice(f"F-{brand.id}-{period}", period, zone.key, complete,
                        period.next().first_day if complete else None, brand.name, _platform(), vat_bps, parts)
