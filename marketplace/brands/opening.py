"""When a brand takes chats: its weekly hours, its country's public holidays and its one-off closures.

Everything is read in the brand's timezone. Public holidays come from the holidays library for the brand's
country (and subdivision, where holidays differ by region); one-off closures are days the admins add.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import holidays
import sqlalchemy as sa
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from marketplace.accounts import services as accounts
from marketplace.brands.models import Actor, Brand, BrandClosure, BrandRole
from marketplace.brands.services import get_brand
from marketplace.core import clock
from marketplace.core import routing as rules
from marketplace.database import db, use_case, utcnow
from marketplace.errors import Conflict, InvalidInput, NotFound, clean_text

MAX_CLOSURES = 200
ALREADY_CLOSED = _l("The brand is already closed that day.")
UPCOMING_DAYS = 366


@dataclass(frozen=True)
class ClosedDay:
    day: dt.date
    reason: str
    closure_id: int | None  # a one-off closure (removable); None for a public holiday


@functools.cache
def supported_countries() -> dict[str, tuple[str, ...]]:
    """Country codes the holidays library knows, each with its subdivision codes."""
    return {code: tuple(subdivisions) for code, subdivisions in holidays.list_supported_countries().items()}


@functools.lru_cache(maxsize=256)
def _holidays(country: str, subdivision: str | None, year: int, language: str = "en_US") -> dict[dt.date, str]:
    return dict(holidays.country_holidays(country, subdiv=subdivision, years=year, language=language).items())


def _language() -> str:
    """The reader's language for holiday names (the library falls back to the country's own where it lacks it)."""
    locale = get_locale()
    return "fr" if locale is not None and locale.language == "fr" else "en_US"


def public_holiday(brand: Brand, day: dt.date) -> str | None:
    """The name of the public holiday on `day` where the brand is, or None."""
    if not brand.holiday_country:
        return None
    return _holidays(brand.holiday_country, brand.holiday_subdivision, day.year).get(day)


def is_open(brand: Brand, at: dt.datetime | None = None) -> bool:
    """Whether the brand takes chats at `at` (now by default): within its hours, not a holiday, not closed."""
    local = clock.local_time(at or utcnow(), brand.timezone)
    return rules.is_open(brand.opening_hours, local) and not is_closed_day(brand, local.date())


def is_closed_day(brand: Brand, day: dt.date) -> bool:
    """Whether the brand is closed all of a local day: a public holiday where it is, or a closure it set."""
    if public_holiday(brand, day):
        return True
    return bool(db.session.scalar(
        sa.select(sa.exists().where(BrandClosure.brand_id == brand.id, BrandClosure.day == day))
    ))


def open_at(brand: Brand, instants: list[dt.datetime]) -> list[bool]:
    """`is_open` for many instants, each closed day looked up once (a plan asks for every quarter hour)."""
    zone = clock.zone(brand.timezone)
    local = [instant.astimezone(zone) for instant in instants]
    closed = {day for day in {moment.date() for moment in local} if is_closed_day(brand, day)}
    return [moment.date() not in closed and rules.is_open(brand.opening_hours, moment) for moment in local]


def check_holiday_region(country: object, subdivision: object) -> tuple[str | None, str | None]:
    """A country (and subdivision) the holidays library knows, as codes; (None, None) for no holidays."""
    country = str(country or "").strip().upper() or None
    subdivision = str(subdivision or "").strip().upper() or None
    if country is None:
        if subdivision is not None:
            raise InvalidInput(_l("Choose the country first."), "holiday_country")
        return None, None
    if country not in supported_countries():
        raise InvalidInput(_l("No public holidays are known for this country code."), "holiday_country")
    if subdivision is not None and subdivision not in supported_countries()[country]:
        raise InvalidInput(_l("This region is not one of the country's: leave it empty for national holidays."),
                           "holiday_subdivision")
    return country, subdivision


def closed_days(actor: Actor, brand_id: int, *, days: int = UPCOMING_DAYS) -> list[ClosedDay]:
    """The days the brand is closed from today on: public holidays and one-off closures, in date order."""
    brand = get_brand(actor, brand_id)
    today = clock.local_day(utcnow(), brand.timezone)
    last = today + dt.timedelta(days=days)
    found: dict[dt.date, ClosedDay] = {}
    if brand.holiday_country:
        for year in range(today.year, last.year + 1):
            for day, name in _holidays(brand.holiday_country, brand.holiday_subdivision, year, _language()).items():
                if today <= day <= last:
                    found[day] = ClosedDay(day, name, None)
    for closure in db.session.scalars(sa.select(BrandClosure).where(BrandClosure.brand_id == brand_id,
                                                                     BrandClosure.day >= today)):
        found[closure.day] = ClosedDay(closure.day, closure.reason, closure.id)  # a closure outranks a holiday
    return [found[day] for day in sorted(found)]


@use_case
def add_closure(actor: Actor, brand_id: int, day: object, reason: object = "") -> BrandClosure:
    """Close the brand for a whole day (its timezone), today or later."""
    brand = get_brand(actor, brand_id, need=BrandRole.ADMIN)
    if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
        raise InvalidInput(_l("Enter a date."), "day")
    if day < clock.local_day(utcnow(), brand.timezone):
        raise InvalidInput(_l("Choose today or a later day."), "day")
    reason = clean_text(reason, "reason", max_length=120)
    if db.session.scalar(sa.select(sa.exists().where(BrandClosure.brand_id == brand_id, BrandClosure.day == day))):
        raise Conflict(ALREADY_CLOSED, "day")
    if db.session.scalar(sa.select(sa.func.count()).where(BrandClosure.brand_id == brand_id)) >= MAX_CLOSURES:
        raise InvalidInput(_l("Remove past closures before adding more."), "day")
    closure = BrandClosure(brand_id=brand_id, day=day, reason=reason)
    db.session.add(closure)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:
        # Another request closed the same day at the same moment and committed first (one closure per day).
        raise Conflict(ALREADY_CLOSED, "day") from None
    accounts.record_audit("brand_closure_added", actor_id=getattr(actor, "id", None), brand_id=brand_id,
                          day=day.isoformat())
    return closure


@use_case
def remove_closure(actor: Actor, brand_id: int, closure_id: int) -> None:
    get_brand(actor, brand_id, need=BrandRole.ADMIN)
    closure = db.session.scalar(sa.select(BrandClosure).where(BrandClosure.id == closure_id,
                                                              BrandClosure.brand_id == brand_id))
    if closure is None:
        raise NotFound(_l("No such closure."))
    accounts.record_audit("brand_closure_removed", actor_id=getattr(actor, "id", None), brand_id=brand_id,
                          day=closure.day.isoformat())
    db.session.delete(closure)
