"""The brand's clock: local days and their bounds across daylight-saving changes."""

import datetime as dt

from marketplace.core import clock

UTC = dt.UTC


def test_local_day_is_the_brands_day_not_utcs():
    late_evening_in_new_york = dt.datetime(2026, 3, 5, 2, 30, tzinfo=UTC)
    assert clock.local_day(late_evening_in_new_york, "America/New_York") == dt.date(2026, 3, 4)
    assert clock.local_day(late_evening_in_new_york, "Europe/Paris") == dt.date(2026, 3, 5)


def test_local_time_keeps_the_instant():
    at = dt.datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    local = clock.local_time(at, "Europe/Paris")
    assert (local.hour, local.utcoffset()) == (12, dt.timedelta(hours=2))
    assert local == at


def test_a_day_that_loses_an_hour_lasts_23_hours():
    start, end = clock.day_bounds(dt.date(2026, 3, 29), "Europe/Paris")
    assert start == dt.datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert end - start == dt.timedelta(hours=23)


def test_a_day_that_gains_an_hour_lasts_25_hours():
    start, end = clock.day_bounds(dt.date(2026, 10, 25), "Europe/Paris")
    assert end - start == dt.timedelta(hours=25)
    assert start.tzinfo == UTC


def test_bounds_of_several_days_run_from_the_first_midnight_to_the_last():
    start, end = clock.day_bounds(dt.date(2026, 1, 1), "Asia/Tokyo", days=7)
    assert start == dt.datetime(2025, 12, 31, 15, 0, tzinfo=UTC)
    assert end == dt.datetime(2026, 1, 7, 15, 0, tzinfo=UTC)
    assert clock.day_start(dt.date(2026, 1, 1), "Asia/Tokyo") == start


def test_quarter_start_follows_the_local_clock_of_a_half_hour_zone():
    at = dt.datetime(2026, 5, 1, 10, 50, 17, tzinfo=UTC)  # 16:20:17 in Kolkata (UTC+5:30)
    assert clock.quarter_start(at, "Asia/Kolkata") == dt.datetime(2026, 5, 1, 10, 45, tzinfo=UTC)
    assert clock.quarter_start(at, "UTC") == dt.datetime(2026, 5, 1, 10, 45, tzinfo=UTC)
    at = dt.datetime(2026, 5, 1, 10, 40, tzinfo=UTC)  # 16:10 in Kolkata: its quarter began at 16:00 = 10:30 UTC
    assert clock.quarter_start(at, "Asia/Kolkata") == dt.datetime(2026, 5, 1, 10, 30, tzinfo=UTC)
