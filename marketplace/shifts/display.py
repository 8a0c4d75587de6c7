"""Shift times and amounts as people read them: in the brand's time zone, in the reader's language."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton, format_time
from babel.numbers import get_currency_precision
from flask_babel import get_locale


def brand_time(value: dt.datetime, timezone: str) -> dt.datetime:
    return value.astimezone(ZoneInfo(timezone))


def describe_times(starts_at: dt.datetime, ends_at: dt.datetime, timezone: str) -> str:
    """E.g. "Tue, Mar 4, 10:00 AM – 12:00 PM", in the brand's time zone and the current language."""
    zone, locale = ZoneInfo(timezone), get_locale() or "en"
    day = format_skeleton("MMMEd", starts_at, tzinfo=zone, locale=locale)
    start = format_time(starts_at, "short", tzinfo=zone, locale=locale)
    end = format_time(ends_at, "short", tzinfo=zone, locale=locale)
    return f"{day}, {start} – {end}"


def minor_to_decimal(cents: int, currency: str) -> Decimal:
    """Integer minor units as an exact amount in currency units (750 EUR -> 7.50)."""
    return Decimal(cents).scaleb(-get_currency_precision(currency))
