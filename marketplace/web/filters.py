"""Template filters every domain's pages use: money in its currency, times and days on a brand's clock."""

from __future__ import annotations

import datetime as dt

from babel.dates import format_skeleton, format_time
from flask import Flask
from flask_babel import get_locale

from marketplace.core import clock
from marketplace.shared import money


def time_in(value: dt.datetime, timezone: str) -> str:
    """A moment's time on the clock of `timezone`, as the reader writes it ("10:00 AM", "10:00")."""
    return format_time(value, "short", tzinfo=clock.zone(timezone), locale=get_locale())


def day_in(value: dt.datetime | dt.date, timezone: str | None = None) -> str:
    """A day as "Tuesday, March 4" (the brand's day when given a moment and its time zone)."""
    if isinstance(value, dt.datetime):
        value = clock.local_day(value, timezone or "UTC")
    return format_skeleton("MMMMEEEEd", value, locale=get_locale())


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(time_in=time_in, day_in=day_in, money=money.shown)
