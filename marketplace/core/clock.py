"""The brand's clock: local time, local day and the instants a local day begins and ends.

A brand works on its own wall clock (its IANA time zone); the database keeps instants in UTC. Days are
wall-clock days: a day that loses an hour to daylight saving lasts 23 hours, one that gains an hour 25.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo


@functools.cache
def zone(timezone: str) -> zoneinfo.ZoneInfo:
    """The time zone named `timezone` (an IANA name such as "Europe/Paris")."""
    return zoneinfo.ZoneInfo(timezone)


def local_time(at: dt.datetime, timezone: str) -> dt.datetime:
    """The instant `at` on the wall clock of `timezone`."""
    return at.astimezone(zone(timezone))


def local_day(at: dt.datetime, timezone: str) -> dt.date:
    """The local day the instant `at` falls on in `timezone`."""
    return local_time(at, timezone).date()


def day_start(day: dt.date, timezone: str) -> dt.datetime:
    """The instant (UTC) the local day `day` begins: its local midnight."""
    return dt.datetime.combine(day, dt.time(0), zone(timezone)).astimezone(dt.UTC)


def day_bounds(day: dt.date, timezone: str, days: int = 1) -> tuple[dt.datetime, dt.datetime]:
    """The instants (UTC) from the start of the local day `day` to the end of the `days` days from it, right across
    daylight-saving changes."""
    return day_start(day, timezone), day_start(day + dt.timedelta(days=days), timezone)


def quarter_start(at: dt.datetime, timezone: str) -> dt.datetime:
    """The instant (UTC) the local quarter hour holding `at` began (a zone may be offset by 30 or 45 minutes)."""
    local = local_time(at, timezone)
    return local.replace(minute=local.minute - local.minute % 15, second=0, microsecond=0).astimezone(dt.UTC)
