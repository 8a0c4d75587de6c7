"""What the platform owes the tax administration and its experts under French law, read from the ledger.

**What counts, and when.** Art. 242 bis CGI speaks of the gross amounts the seller *received* through the
platform during the year, and DAC7 (CGI art. 1649 ter A) of consideration *paid or credited* in each quarter.
Both are read here as *paid*: an answered chat (an earning) or a FAQ credit counts in the year and quarter, on the
platform's clock (BABEL_DEFAULT_TIMEZONE), of the paid payout that paid it (first in, first out: see `core.tax`).
Money earned but still held, payable or in transit counts in no year yet; reversed earnings never count (they are
never released, so never paid). For each one:

- gross: what the brand paid for the service, the price plus any bonus (a FAQ credit: its amount);
- fees: what the platform withheld, its commission (a FAQ credit: none);
- net: what the expert received, gross less fees (what the self-billing invoices invoice);
- one transaction (a DAC7 "activity").

The ceilings (micro-entrepreneur, VAT franchise) are measured against the net received in the calendar year: the
turnover a micro-entrepreneur declares is what they cash in, and the self-billing invoices are of the net.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from marketplace.accounts import services as accounts
from marketplace.accounts.language import in_language_of
from marketplace.accounts.models import Role, User
from marketplace.core import clock
from marketplace.core import tax as rules
from marketplace.database import db, unit_of_work, use_case, utcnow
from marketplace.errors import Forbidden, InvalidInput
from marketplace.experts import services as experts
from marketplace.notifications import services as notifications
from marketplace.payouts.models import (
    ConnectedAccount,
    Earning,
    EarningStatus,
    FaqCredit,
    ItemStatus,
    LedgerTransaction,
    PayoutBatch,
    PayoutItem,
    PayoutRail,
    TaxSummaryNotice,
    TaxThreshold,
)

FIRST_YEAR = 2000  # nothing was paid before; older years are refused as typos
THRESHOLD_KINDS = {
    "micro_services": _l("Micro-entrepreneur turnover ceiling (services, BNC/BIC)"),
    "vat_franchise_services": _l("VAT franchise ceiling (services)"),
}


def zone() -> zoneinfo.ZoneInfo:
    return clock.zone(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def year_start(year: int) -> dt.datetime:
    return dt.datetime(year, 1, 1, tzinfo=zone())


def parse_year(value: object, *, now: dt.datetime | None = None) -> int:
    """A year written as digits, from FIRST_YEAR to this year; InvalidInput naming the year if not."""
    text = str(value if value is not None else "").strip()
    current = (now or utcnow()).astimezone(zone()).year
    if not text.isascii() or not text.isdigit() or len(text) > 4:
        raise InvalidInput(_l("Write the year as YYYY, e.g. %(year)d.", year=current), "year")
    year = int(text)
    if not FIRST_YEAR <= year <= current:
        raise InvalidInput(_l("The year must be from %(first)d to %(last)d.", first=FIRST_YEAR, last=current),
                           "year")
    return year


# --- What was paid, and when -------------------------------------------------------------------------------

@dataclass(frozen=True)
class PaidAmount:
    """One answered chat or FAQ credit, paid to its expert at `paid_at` (on the platform's clock)."""

    kind: str  # chat | faq_credit
    expert_id: int
    currency: str
    gross_cents: int
    fees_cents: int
    net_cents: int
    paid_at: dt.datetime


def paid_amounts(start: dt.datetime, end: dt.datetime, expert_ids: set[int] | None = None) -> list[PaidAmount]:
    """The chats and FAQ credits paid in [start, end), of the experts given (everyone's when None)."""
    def only(column):
        return (column.in_(expert_ids),) if expert_ids is not None else ()

    released = sa.orm.aliased(LedgerTransaction)
    credited: dict[tuple[int, str], list[rules.Credited]] = defaultdict(list)
    figures: dict[tuple[str, int], tuple[str, int, int, int]] = {}
    for row in db.session.execute(
            sa.select(Earning.id, Earning.expert_id, Earning.currency, Earning.price_cents, Earning.bonus_cents,
                      Earning.commission_cents, Earning.expert_cents, released.created_at)
            .join(released, released.id == Earning.released_by_id)
            .where(*only(Earning.expert_id), Earning.status != EarningStatus.REVERSED, Earning.expert_cents > 0,
                   released.created_at < end)):
        key = ("chat", row.id)
        credited[(row.expert_id, row.currency)].append(rules.Credited(key, row.created_at, row.expert_cents))
        figures[key] = ("chat", row.price_cents + row.bonus_cents, row.commission_cents, row.expert_cents)
    for row in db.session.execute(
            sa.select(FaqCredit.id, FaqCredit.expert_id, FaqCredit.currency, FaqCredit.amount_cents,
                      released.created_at)
            .join(released, released.id == FaqCredit.released_by_id)
            .where(*only(FaqCredit.expert_id), FaqCredit.status != EarningStatus.REVERSED, released.created_at < end)):
        key = ("faq_credit", row.id)
        credited[(row.expert_id, row.currency)].append(rules.Credited(key, row.created_at, row.amount_cents))
        figures[key] = ("faq_credit", row.amount_cents, 0, row.amount_cents)
    payments: dict[tuple[int, str], list[rules.Payment]] = defaultdict(list)
    for expert_id, currency, finished_at, cents in db.session.execute(
            sa.select(PayoutItem.expert_id, PayoutBatch.currency, PayoutItem.finished_at, PayoutItem.amount_cents)
            .join(PayoutBatch, PayoutBatch.id == PayoutItem.batch_id)
            .where(*only(PayoutItem.expert_id), PayoutItem.status == ItemStatus.PAID,
                   PayoutItem.finished_at < end)):
        payments[(expert_id, currency)].append(rules.Payment(finished_at, cents))
    found = []
    for (expert_id, currency), items in credited.items():
        for key, paid_at in rules.paid_on(items, payments.get((expert_id, currency), [])).items():
            if start <= paid_at < end:
                kind, gross, fees, net = figures[key]
                found.append(PaidAmount(kind, expert_id, currency, gross, fees, net, paid_at.astimezone(zone())))
    return sorted(found, key=lambda item: (item.expert_id, item.paid_at))


# --- The expert's yearly summary (art. 242 bis CGI) -----------------------------------------------------------

@dataclass(frozen=True)
class SummaryTotals:
    """A year's paid amounts in one currency."""

    currency: str
    transactions: int = 0
    chats: int = 0
    faq_credits: int = 0
    gross_cents: int = 0
    fees_cents: int = 0
    net_cents: int = 0

    def plus(self, item: PaidAmount) -> SummaryTotals:
        return SummaryTotals(self.currency, self.transactions + 1, self.chats + (item.kind == "chat"),
                             self.faq_credits + (item.kind == "faq_credit"), self.gross_cents + item.gross_cents,
                             self.fees_cents + item.fees_cents, self.net_cents + item.net_cents)


@dataclass(frozen=True)
class YearSummary:
    expert_id: int
    year: int
    complete: bool  # False while the year is under way: provisional
    legal_name: str
    business_id: str | None  # SIRET for experts in France
    country: str | None
    totals: list[SummaryTotals]  # per currency, in currency order
    bank_accounts: list[str]  # the accounts paid into: masked IBAN, or the Stripe connected account


def totals_of(items: Iterable[PaidAmount]) -> list[SummaryTotals]:
    totals: dict[str, SummaryTotals] = {}
    for item in items:
        totals[item.currency] = totals.get(item.currency, SummaryTotals(item.currency)).plus(item)
    return [totals[currency] for currency in sorted(totals)]


def _bank_accounts(expert_id: int, start: dt.datetime, end: dt.datetime) -> list[str]:
    rails = set(db.session.scalars(sa.select(PayoutItem.rail).distinct().where(
        PayoutItem.expert_id == expert_id, PayoutItem.status == ItemStatus.PAID, PayoutItem.finished_at >= start,
        PayoutItem.finished_at < end)))
    found = []
    if PayoutRail.SEPA in rails:
        details = experts.masked_payout_details({expert_id}).get(expert_id)
        if details is not None:
            found.append(f"IBAN {details.iban_masked} ({details.account_holder})")
    if PayoutRail.STRIPE in rails:
        account = db.session.get(ConnectedAccount, expert_id)
        if account is not None:
            found.append(f"Stripe {account.account_id}")
    return found


def summary_of(expert_id: int, year: int, *, now: dt.datetime | None = None) -> YearSummary:
    """The expert's summary of a year (no access check: callers check it)."""
    profile = experts.get_profile(expert_id)
    user = accounts.get_user(profile.user_id)
    start, end = year_start(year), year_start(year + 1)
    return YearSummary(profile.id, year, (now or utcnow()) >= end, user.full_name, profile.business_id,
                       profile.country, totals_of(paid_amounts(start, end, {profile.id})),
                       _bank_accounts(profile.id, start, end))


@use_case
def own_summary(actor: User, year: object, *, now: dt.datetime | None = None) -> YearSummary:
    """The calling expert's summary of a year: what the platform paid them, how many transactions, into which
    account. The current year's is provisional."""
    profile = experts.own_profile(actor)
    return summary_of(profile.id, parse_year(year, now=now), now=now)


def _paid_years(expert_id: int) -> list[int]:
    """The years the expert was paid in, newest first."""
    first, last = db.session.execute(sa.select(sa.func.min(PayoutItem.finished_at), sa.func.max(PayoutItem.finished_at))
                                     .where(PayoutItem.expert_id == expert_id,
                                            PayoutItem.status == ItemStatus.PAID)).one()
    if first is None:
        return []
    return list(range(last.astimezone(zone()).year, first.astimezone(zone()).year - 1, -1))


@use_case
def own_summary_years(actor: User) -> list[int]:
    """The years the calling expert has a summary for (they were paid in), newest first."""
    return _paid_years(experts.own_profile(actor).id)


def tax_summaries_for_export(expert_id: int) -> list[dict]:
    """Every yearly summary of the expert as plain values (for the expert's data export)."""
    summaries = []
    for year in reversed(_paid_years(expert_id)):
        summary = summary_of(expert_id, year)
        summaries.append({
            "year": summary.year, "complete": summary.complete, "legal_name": summary.legal_name,
            "business_id": summary.business_id, "country": summary.country, "bank_accounts": summary.bank_accounts,
            "totals": [{"currency": t.currency, "transactions": t.transactions, "chats": t.chats,
                        "faq_credits": t.faq_credits, "gross_cents": t.gross_cents, "fees_cents": t.fees_cents,
                        "net_cents": t.net_cents} for t in summary.totals]})
    return summaries


# --- Ceilings ----------------------------------------------------------------------------------------------

def thresholds() -> list[rules.Threshold]:
    return [rules.Threshold(row.kind, row.effective_from, row.amount_cents, row.currency)
            for row in db.session.scalars(sa.select(TaxThreshold).order_by(TaxThreshold.kind,
                                                                          TaxThreshold.effective_from))]


@dataclass(frozen=True)
class CeilingWarning:
    kind: str
    label: str
    level: str  # near | passed
    percent: int
    year_cents: int
    amount_cents: int
    currency: str
    effective_from: dt.date


def ceiling_warnings(expert_id: int, *, now: dt.datetime | None = None) -> list[CeilingWarning]:
    """The ceilings the expert's net received this calendar year (EUR) approaches or has passed, measured against
    the amounts in force today."""
    today = (now or utcnow()).astimezone(zone()).date()
    start = year_start(today.year)
    received = sum(item.net_cents for item in paid_amounts(start, now or utcnow(), {expert_id})
                   if item.currency == "EUR")
    return [CeilingWarning(status.threshold.kind, str(THRESHOLD_KINDS.get(status.threshold.kind,
                                                                         status.threshold.kind)),
                           status.level, status.percent, received, status.threshold.amount_cents,
                           status.threshold.currency, status.threshold.effective_from)
            for status in rules.ceilings(thresholds(), THRESHOLD_KINDS, today, received)]


@use_case
def own_ceiling_warnings(actor: User, *, now: dt.datetime | None = None) -> list[CeilingWarning]:
    return ceiling_warnings(experts.own_profile(actor).id, now=now)


def require_finance(actor: User) -> User:
    if actor.is_token or actor.role != Role.FINANCE:
        raise Forbidden(_l("Only finance staff see the platform's tax reports."))
    return actor


@use_case
def list_thresholds(actor: User) -> list[TaxThreshold]:
    require_finance(actor)
    return list(db.session.scalars(sa.select(TaxThreshold).order_by(TaxThreshold.kind,
                                                                    TaxThreshold.effective_from.desc())))


@use_case
def add_threshold(actor: User, kind: object, effective_from: object, amount_cents: object, note: object = "",
                  *, ip: str | None = None) -> TaxThreshold:
    """A new amount for a ceiling from a day on (a finance law changed it); audited. Past years keep theirs."""
    require_finance(actor)
    if kind not in THRESHOLD_KINDS:
        raise InvalidInput(_l("Choose one of the ceilings."), "kind")
    if not isinstance(effective_from, dt.date) or not FIRST_YEAR <= effective_from.year <= 9999:
        raise InvalidInput(_l("Give the day the amount takes effect."), "effective_from")
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or not 0 < amount_cents <= 10**12:
        raise InvalidInput(_l("The amount is a positive number of euros."), "amount")
    if db.session.scalar(sa.select(TaxThreshold.id).where(TaxThreshold.kind == kind,
                                                          TaxThreshold.effective_from == effective_from)):
        raise InvalidInput(_l("This ceiling already has an amount from that day."), "effective_from")
    row = TaxThreshold(kind=kind, effective_from=effective_from, amount_cents=amount_cents, currency="EUR",
                       note=str(note or "")[:200], created_by_id=actor.id, created_at=utcnow())
    db.session.add(row)
    db.session.flush()
    accounts.record_audit("tax_threshold_added", actor_id=actor.id, ip=ip, ceiling=kind,
                          effective_from=effective_from.isoformat(), amount_cents=amount_cents)
    return row


# --- Making the summaries available each January -----------------------------------------------------------

@dataclass(frozen=True)
class Published:
    year: int
    notified: list[int] = field(default_factory=list)  # the experts told


def publish_year_summaries(now: dt.datetime | None = None) -> Published | None:
    """From 1 to 31 January, tell each expert paid in the previous year that its summary is ready (once each:
    `TaxSummaryNotice`); outside January, nothing. The summary itself is read from the ledger when asked for."""
    now = now or utcnow()
    local = now.astimezone(zone())
    if local.month != 1:
        return None
    year = local.year - 1
    published = Published(year)
    with unit_of_work():
        paid = set(db.session.scalars(sa.select(PayoutItem.expert_id).distinct().where(
            PayoutItem.status == ItemStatus.PAID, PayoutItem.finished_at >= year_start(year),
            PayoutItem.finished_at < year_start(year + 1))))
        told = set(db.session.scalars(sa.select(TaxSummaryNotice.expert_id).where(TaxSummaryNotice.year == year)))
        for expert_id in sorted(paid - told):
            profile = experts.get_profile(expert_id)
            user = accounts.get_user(profile.user_id) if profile else None
            db.session.add(TaxSummaryNotice(expert_id=expert_id, year=year, notified_at=now))
            if user is None:
                continue
            with in_language_of(user):
                title = str(_l("Your %(year)d tax summary is ready", year=year))
                body = str(_l("The amounts the platform paid you in %(year)d, to declare your income (art. 242 bis "
                              "CGI).", year=year))
            notifications.notify(user.id, "tax_summary", title, body, url=f"/expert/tax/{year}")
            published.notified.append(expert_id)
    return published
