"""Shift times as people read them: on the brand's clock, in the reader's language."""

from __future__ import annotations

import datetime as dt

from babel.dates import format_skeleton, format_time
from flask_babel import get_locale

from marketplace.core import clock


def describe_times(starts_at: dt.datetime, ends_at: dt.datetime, timezone: str) -> str:
    """E.g. "Tue, Mar 4, 10:00 AM – 12:00 PM", in the brand's time zone and the current language."""
    zone, locale = clock.zone(timezone), get_locale() or "en"
    day = format_skeleton("MMMEd", starts_at, tzinfo=zone, locale=locale)
    start = format_time(starts_at, "short", tzinfo=zone, locale=locale)
    end = format_time(ends_at, "short", tzinfo=zone, locale=locale)
    return f"{day}, {start} – {end}"
