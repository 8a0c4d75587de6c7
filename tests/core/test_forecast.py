"""Arrival forecasts: the same-weekday average, Holt-Winters, the backtest that picks one, and short histories."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from marketplace.core.forecast import (
    HOLT_WINTERS,
    SAME_WEEKDAY_AVERAGE,
    SLOTS_PER_DAY,
    WAPE_TIE,
    backtest,
    bias,
    forecast_brand,
    holt_winters,
    same_weekday_average,
    wape,
)

START = date(2026, 3, 2)  # a Monday
# A day's shape: most chats in the afternoon, none at night.
PROFILE = np.exp(-(((np.arange(SLOTS_PER_DAY) - 56) / 12.0) ** 2))
PROFILE /= PROFILE.sum()
WEEKDAY_FACTORS = (1.0, 1.1, 1.05, 1.0, 0.9, 0.5, 0.4)


def flat_day(value: float) -> list[float]:
    """Return a day with `value` arrivals in every slot."""
    return [float(value)] * SLOTS_PER_DAY


def history_of(days: list[list[float]]) -> dict[date, list[float]]:
    """Key consecutive days so that the last one is the day before START."""
    return {START - timedelta(days=len(days) - index): day for index, day in enumerate(days)}


def shaped_days(totals: list[float]) -> list[list[float]]:
    """Spread each daily total over the slots like PROFILE."""
    return [list(total * PROFILE) for total in totals]


def growing_totals(days: int) -> list[float]:
    """Return daily totals that grow by 3 a day, with a weekly pattern (the first day a Monday)."""
    return [(100 + 3 * day) * WEEKDAY_FACTORS[day % 7] for day in range(days)]


def test_a_steady_weekly_pattern_is_forecast_exactly():
    # Each weekday has its own shape: weekday w has (w + 1) × (slot mod 4) arrivals.
    def pattern(day: date) -> list[float]:
        return [float((day.weekday() + 1) * (slot % 4)) for slot in range(SLOTS_PER_DAY)]

    history = {START - timedelta(days=back): pattern(START - timedelta(days=back)) for back in range(1, 57)}
    result = forecast_brand(history, START)
    assert result.arrivals == tuple(tuple(pattern(START + timedelta(days=ahead))) for ahead in range(7))
    assert (result.method, result.wape, result.bias) == (SAME_WEEKDAY_AVERAGE, 0.0, 0.0)
    assert result.backtests[HOLT_WINTERS].wape == pytest.approx(0.0, abs=1e-9)


def test_the_average_takes_the_last_eight_weeks_only():
    # Ten weeks of 0, 1, …, 9 arrivals per slot: the two oldest weeks drop out, leaving the mean of 2..9.
    counts = [flat_day(week) for week in range(10) for _ in range(7)]
    assert np.array_equal(same_weekday_average(counts, 7), np.full((7, SLOTS_PER_DAY), 5.5))


def test_with_three_weeks_the_average_is_over_three():
    counts = [flat_day(value) for value in (3, 6, 12) for _ in range(7)]
    assert np.array_equal(same_weekday_average(counts, 7), np.full((7, SLOTS_PER_DAY), 7.0))


def test_with_ten_days_each_weekday_averages_the_weeks_it_has():
    # Days 0..9 carry 1..10 arrivals per slot. The next day (day 10) shares its weekday with day 3 only;
    # day 14 shares it with days 7 and 0, so it gets the mean of 8 and 1.
    counts = [flat_day(value) for value in range(1, 11)]
    per_slot = [4.0, 5.0, 6.0, 7.0, 4.5, 5.5, 6.5]
    assert np.array_equal(same_weekday_average(counts, 7), np.repeat(per_slot, SLOTS_PER_DAY).reshape(7, -1))
    result = forecast_brand(history_of(counts), START)
    assert (result.method, result.wape, result.backtests) == (SAME_WEEKDAY_AVERAGE, None, {})
    assert result.reason == (
        "10 days of history: the average of the same weekday over the last week."
        " Testing it against past days needs 21 days of history."
    )


def test_a_day_missing_inside_the_history_counts_as_zero():
    history = history_of([flat_day(4) for _ in range(14)])
    del history[START - timedelta(days=7)]  # last Monday had no chats
    result = forecast_brand(history, START, days=2)
    assert result.arrivals == (tuple(flat_day(2.0)), tuple(flat_day(4.0)))


def test_history_from_the_start_day_on_is_ignored():
    history = history_of([flat_day(2) for _ in range(14)])
    with_future = {**history, START: flat_day(50), START + timedelta(days=1): flat_day(50)}
    assert forecast_brand(with_future, START) == forecast_brand(history, START)


def test_fewer_than_seven_days_use_the_mean_of_all_days():
    result = forecast_brand(history_of([flat_day(1), flat_day(2), flat_day(6)]), START, days=3)
    assert result.arrivals == tuple(tuple(flat_day(3.0)) for _ in range(3))
    assert (result.method, result.history_days, result.wape, result.backtests) == (SAME_WEEKDAY_AVERAGE, 3, None, {})
    assert result.reason == "3 days of history: the average of all days so far, too few to tell weekdays apart."


def test_no_history_forecasts_zero_and_says_so():
    for history in ({}, {START: flat_day(9)}):
        result = forecast_brand(history, START)
        assert result.no_history and result.history_days == 0
        assert result.arrivals == tuple(tuple(flat_day(0.0)) for _ in range(7))
        assert (result.method, result.wape, result.bias) == (SAME_WEEKDAY_AVERAGE, None, None)
        assert result.reason == "No conversations yet: the forecast is zero until the first chats arrive."


def test_wape_and_bias_match_a_hand_computed_example():
    actual = [10, 0, 5]
    # Misses of 2 and 2 that cancel: 4 of 15 arrivals misplaced, no bias.
    assert (wape(actual, [8, 2, 5]), bias(actual, [8, 2, 5])) == (pytest.approx(4 / 15), 0.0)
    # 3 too many in all.
    assert (wape(actual, [12, 1, 5]), bias(actual, [12, 1, 5])) == (pytest.approx(0.2), pytest.approx(0.2))
    # 5 too few: the bias is negative.
    assert (wape(actual, [5, 0, 5]), bias(actual, [5, 0, 5])) == (pytest.approx(1 / 3), pytest.approx(-1 / 3))


def test_wape_and_bias_are_none_when_nothing_arrived():
    assert (wape([0, 0], [1, 2]), bias([0, 0], [1, 2])) == (None, None)


def test_the_backtest_of_the_average_matches_a_hand_computation():
    # Day i carries i arrivals per slot. Holding out days 14..20, each is forecast as the mean of days
    # i − 7 and i − 14, that is i − 10.5: 10.5 too few per slot on each of 7 days, against Σ i = 119.
    counts = [flat_day(value) for value in range(21)]
    score = backtest(counts, SAME_WEEKDAY_AVERAGE, 7)
    assert score.days == 7
    assert score.wape == pytest.approx(73.5 / 119)
    assert score.bias == pytest.approx(-73.5 / 119)


def test_the_holt_winters_backtest_forecasts_each_day_from_its_own_past():
    rng = np.random.default_rng(3)
    counts = np.array(shaped_days(growing_totals(35))) + rng.uniform(0, 0.2, (35, SLOTS_PER_DAY))
    forecasts = np.array([holt_winters(counts[:day], 1)[0] for day in range(21, 35)])
    score = backtest(counts, HOLT_WINTERS, 14)
    assert score.wape == pytest.approx(wape(counts[21:], forecasts), rel=1e-12)
    assert score.bias == pytest.approx(bias(counts[21:], forecasts), rel=1e-12)


def test_a_growing_series_is_forecast_by_holt_winters():
    result = forecast_brand(history_of(shaped_days(growing_totals(56))), START)
    average, smoothing = result.backtests[SAME_WEEKDAY_AVERAGE], result.backtests[HOLT_WINTERS]
    assert result.method == HOLT_WINTERS
    assert (result.wape, result.bias) == (smoothing.wape, smoothing.bias)
    assert smoothing.wape < 0.01 < 0.3 < average.wape
    assert average.bias < -0.3  # eight weeks behind a growing series, the average falls short
    expected = growing_totals(63)[56:]
    assert [sum(day) for day in result.arrivals] == pytest.approx(expected, rel=0.01)
    assert result.reason.startswith("56 days of history: Holt-Winters, which follows the trend of daily totals,")


def test_a_flat_noisy_series_keeps_the_average():
    for seed in range(5):
        rng = np.random.default_rng(seed)
        counts = [rng.poisson(200 * WEEKDAY_FACTORS[day % 7] * PROFILE).astype(float) for day in range(56)]
        result = forecast_brand(history_of([list(day) for day in counts]), START)
        average, smoothing = result.backtests[SAME_WEEKDAY_AVERAGE], result.backtests[HOLT_WINTERS]
        assert result.method == SAME_WEEKDAY_AVERAGE
        # Neither method can predict the noise; their errors are about the same.
        assert abs(average.wape - smoothing.wape) < WAPE_TIE
        assert result.reason.startswith("56 days of history: the average of the same weekday over the last 8 weeks")


def test_holt_winters_competes_only_from_three_weeks_of_history():
    with pytest.raises(ValueError, match="Holt-Winters needs 14 days"):
        holt_winters([flat_day(1) for _ in range(13)], 7)
    short = forecast_brand(history_of(shaped_days(growing_totals(20))), START)
    assert (short.method, short.backtests) == (SAME_WEEKDAY_AVERAGE, {})
    assert short.reason.endswith("Testing it against past days needs 21 days of history.")
    enough = forecast_brand(history_of(shaped_days(growing_totals(21))), START)
    assert {score.days for score in enough.backtests.values()} == {7}


def test_forecasts_are_never_negative():
    # Falling by 10 a day to 10 on the last day: the trend, carried on, would go below zero.
    counts = shaped_days([280 - 10 * day for day in range(28)])
    forecast = holt_winters(counts, 7)
    assert forecast.min() == 0.0 and forecast.sum(axis=1)[-1] == 0.0
    result = forecast_brand(history_of(counts), START)
    assert min(min(day) for day in result.arrivals) >= 0.0


def test_a_weekday_without_chats_stays_closed_under_holt_winters():
    totals = [0.0 if day % 7 == 6 else total for day, total in enumerate(growing_totals(56))]
    result = forecast_brand(history_of(shaped_days(totals)), START)
    assert result.method == HOLT_WINTERS
    assert sum(result.arrivals[6]) == 0.0  # Sunday
    assert min(sum(day) for day in result.arrivals[:6]) > 100


def test_a_history_without_chats_in_the_backtest_keeps_the_average():
    counts = [flat_day(3) for _ in range(14)] + [flat_day(0) for _ in range(14)]
    result = forecast_brand(history_of(counts), START)
    assert (result.method, result.wape, result.bias) == (SAME_WEEKDAY_AVERAGE, None, None)
    assert result.reason.endswith("There were no chats in the last 14 days to test it against.")


def test_the_forecast_is_deterministic():
    rng = np.random.default_rng(11)
    counts = [list(rng.poisson(3.0, SLOTS_PER_DAY).astype(float)) for _ in range(70)]
    assert forecast_brand(history_of(counts), START) == forecast_brand(history_of(counts), START)


def test_malformed_history_is_refused():
    with pytest.raises(ValueError, match="expected 96 slots"):
        forecast_brand({START - timedelta(days=1): [1.0] * 95}, START)
    with pytest.raises(ValueError, match="not negative"):
        forecast_brand({START - timedelta(days=1): [-1.0] + [0.0] * 95}, START)
    with pytest.raises(ValueError, match="days must not be negative"):
        forecast_brand({}, START, days=-1)
