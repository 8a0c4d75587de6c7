"""The platform's DAC7 report of a year (Directive 2021/514, CGI art. 1649 ter A), for finance to file.

One line per seller (expert) paid in the reportable year, per currency: who they are, the account they were paid
into, and per quarter (Q1 to Q4, on the platform's clock) the consideration, the number of activities and the fees
the platform withheld. A quarter holds what was *paid* in it (see `services`: an answered chat or a FAQ credit
counts on the day of the payout that paid it). DAC7's consideration is net of the platform's fees, so it is the
expert's net; the fees are the platform's commission on the brand's price (FAQ credits carry none); the platform
withholds no tax (TaxQ1-4 are 0).

The expert's identity is what the platform holds: legal name, country, business registration number (the SIRET of
an expert in France). Neither an address, a date of birth nor a tax identification number is collected yet: those
columns stay empty, and the page says so. The full IBAN is read only for the file, and each read is audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa

from marketplace.accounts import services as accounts
from marketplace.accounts.models import User
from marketplace.core import tax as rules
from marketplace.database import db, use_case, utcnow
from marketplace.experts import services as experts
from marketplace.payouts.models import ConnectedAccount
from marketplace.payouts.tax import services as tax

QUARTERS = (1, 2, 3, 4)


@dataclass(frozen=True)
class QuarterFigures:
    consideration_cents: int = 0
    activities: int = 0
    fees_cents: int = 0
    taxes_cents: int = 0


@dataclass(frozen=True)
class SellerLine:
    expert_id: int
    legal_name: str
    display_name: str
    country: str | None
    business_id: str | None  # SIRET in France
    currency: str
    quarters: dict[int, QuarterFigures]
    account_holder: str | None = None
    account: str | None = None  # the IBAN (file) or its masked form (page), or the Stripe account
    address: str | None = None  # not held
    birth_date: dt.date | None = None  # not held
    tin: str | None = None  # not held

    @property
    def consideration_cents(self) -> int:
        return sum(figures.consideration_cents for figures in self.quarters.values())

    @property
    def activities(self) -> int:
        return sum(figures.activities for figures in self.quarters.values())

    @property
    def fees_cents(self) -> int:
        return sum(figures.fees_cents for figures in self.quarters.values())


@dataclass(frozen=True)
class Dac7Report:
    year: int
    complete: bool  # False while the year is under way
    sellers: list[SellerLine] = field(default_factory=list)


def _quarters(items: list[tax.PaidAmount]) -> dict[int, QuarterFigures]:
    found = {quarter: QuarterFigures() for quarter in QUARTERS}
    for item in items:
        quarter = rules.quarter(item.paid_at.date())
        before = found[quarter]
        found[quarter] = QuarterFigures(before.consideration_cents + item.net_cents, before.activities + 1,
                                        before.fees_cents + item.fees_cents)
    return found


@use_case
def report(actor: User, year: object, *, full_accounts: bool = False, ip: str | None = None,
           now: dt.datetime | None = None) -> Dac7Report:
    """The DAC7 report of a year (finance only); with `full_accounts`, the sellers' full IBANs, each read audited."""
    tax.require_finance(actor)
    year = tax.parse_year(year, now=now)
    start, end = tax.year_start(year), tax.year_start(year + 1)
    paid: dict[tuple[int, str], list[tax.PaidAmount]] = {}
    for item in tax.paid_amounts(start, end):
        paid.setdefault((item.expert_id, item.currency), []).append(item)
    expert_ids = {expert_id for expert_id, _ in paid}
    profiles = experts.profiles_by_id(expert_ids)
    users = accounts.users_by_id({profile.user_id for profile in profiles.values()})
    if full_accounts:
        banks = {expert_id: (bank.account_holder, bank.iban) for expert_id, bank in experts.bank_accounts_for_transfer(
            actor, expert_ids, ip=ip, reason=f"DAC7 report {year}").items()}
    else:
        banks = {expert_id: (view.account_holder, view.iban_masked)
                 for expert_id, view in experts.masked_payout_details(expert_ids).items()}
    stripe = {row.expert_id: row.account_id for row in db.session.scalars(
        sa.select(ConnectedAccount).where(ConnectedAccount.expert_id.in_(expert_ids)))} if expert_ids else {}
    sellers = []
    for (expert_id, currency), items in sorted(paid.items()):
        profile = profiles[expert_id]
        user = users.get(profile.user_id)
        holder, account = banks.get(expert_id, (None, None))
        if account is None and expert_id in stripe:
            holder, account = (user.full_name if user else None), f"Stripe {stripe[expert_id]}"
        sellers.append(SellerLine(expert_id, user.full_name if user else "", profile.display_name, profile.country,
                                  profile.business_id, currency, _quarters(items), holder, account))
    return Dac7Report(year, (now or utcnow()) >= end, sellers)
