"""Arrival forecasts per brand and 15-minute interval for the coming days (DESIGN section 5).

History is a mapping from a local date to that day's 96 arrival counts, one per 15-minute slot of the
brand's local wall-clock time, midnight first. Daylight-saving days keep 96 slots: the caller leaves the
skipped hour's four slots at zero on the 23-hour day and adds both passes of the repeated hour into the
same four slots on the 25-hour day; forecasts come back in the same wall-clock slots. History runs from its
earliest date to the day before the forecast starts: a date missing inside that span had no arrivals, and
nothing is known before the earliest date. Pass recent history only (a few months): the average reads 8
weeks, and a Holt-Winters fit costs time in proportion to the days it runs over.

Two methods compete per brand:

- the same-weekday average: each slot is the mean of the same weekday and slot over the last 8 weeks
  (fewer weeks when history is shorter), or the mean of all days while history is shorter than a week;
- Holt-Winters: exponential smoothing of daily totals with a trend and a weekly season, additive or
  multiplicative, its smoothing parameters picked from a small grid by the least one-step-ahead squared
  error; each forecast day's total is spread over its slots like the same weekday in recent weeks.

The backtest holds out the last 14 days and forecasts each of them from the days before it only, refitting
as it goes. Every forecast there keeps the 14 days Holt-Winters starts from, so a backtest needs 21 days of
history and holds out fewer days (at least 7) until there are 28. WAPE and bias are taken over every slot of
the held-out days. Holt-Winters replaces the average only when its WAPE is lower by more than `WAPE_TIE`;
without a backtest the average stands.

Pure logic: the standard library and numpy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

SLOTS_PER_DAY = 96
SAME_WEEKDAY_AVERAGE = "same_weekday_average"
HOLT_WINTERS = "holt_winters"
WEEKS_AVERAGED = 8
# Under a week some weekdays have never been seen, so only the mean of all days treats each day alike.
MIN_DAYS_FOR_WEEKDAYS = 7
# Holt-Winters starts its level from the first week and its trend from the change to the second.
MIN_DAYS_FOR_HOLT_WINTERS = 14
BACKTEST_DAYS = 14
# Fewer held-out days than a week would leave some weekdays out of the comparison.
MIN_BACKTEST_DAYS = 7
# Two weeks of backtest tell WAPEs apart only roughly: the less obvious method must win by more than this.
WAPE_TIE = 0.01

_WEEK = 7
# A small grid keeps a fit to a few milliseconds; finer steps hardly change a 7-day forecast.
_ALPHAS = (0.1, 0.3, 0.5, 0.7, 0.9)  # level
_BETAS = (0.0, 0.05, 0.1, 0.2)  # trend
_GAMMAS = (0.05, 0.1, 0.2, 0.4)  # weekly season


@dataclass(frozen=True)
class BacktestScore:
    """How far one method's forecasts were from the arrivals on the held-out days."""

    days: int  # held-out days, each forecast from the days before it only
    wape: float | None  # Σ|actual − forecast| / Σ actual over every slot; None without arrivals
    bias: float | None  # Σ(forecast − actual) / Σ actual; positive means over-forecast


@dataclass(frozen=True)
class BrandForecast:
    """A brand's expected arrivals per slot, the method that made them, and why."""

    start: date  # the first forecast day
    method: str  # SAME_WEEKDAY_AVERAGE or HOLT_WINTERS
    arrivals: tuple[tuple[float, ...], ...]  # arrivals[d][s]: expected arrivals on start + d days, slot s
    wape: float | None  # the chosen method's backtest WAPE; None when untested or nothing arrived
    bias: float | None  # the chosen method's backtest bias, likewise
    backtests: Mapping[str, BacktestScore]  # per method; empty when history is too short to backtest
    history_days: int  # days from the earliest date of history to the day before `start`
    reason: str  # the choice in words a brand admin can read

    @property
    def no_history(self) -> bool:
        """Tell whether the brand has no history at all, so every forecast is zero."""
        return self.history_days == 0


def forecast_brand(history: Mapping[date, Sequence[float]], start: date, days: int = 7) -> BrandForecast:
    """Forecast `days` days of arrivals from `start` by the method that backtests better."""
    if days < 0:
        raise ValueError(f"days must not be negative, got {days}")
    counts = _counts_before(history, start)
    scores = _backtest_both(counts)
    method = _choose(scores)
    arrivals = _FORECASTERS[method](counts, days)
    chosen = scores.get(method)
    return BrandForecast(
        start=start,
        method=method,
        arrivals=tuple(tuple(float(value) for value in day) for day in arrivals),
        wape=chosen.wape if chosen else None,
        bias=chosen.bias if chosen else None,
        backtests=scores,
        history_days=len(counts),
        reason=_reason(len(counts), method, scores),
    )


def same_weekday_average(counts: npt.ArrayLike, horizon: int) -> np.ndarray:
    """Forecast `horizon` days after `counts` by the mean of the same weekday and slot over the last 8 weeks."""
    counts = _as_counts(counts)
    if len(counts) < MIN_DAYS_FOR_WEEKDAYS:
        mean = counts.mean(axis=0) if len(counts) else np.zeros(SLOTS_PER_DAY)
        return np.tile(mean, (horizon, 1))
    forecast = np.zeros((horizon, SLOTS_PER_DAY))
    for ahead in range(horizon):
        forecast[ahead] = counts[_same_weekday_rows(len(counts), ahead)].mean(axis=0)
    return forecast


def holt_winters(counts: npt.ArrayLike, horizon: int) -> np.ndarray:
    """Forecast `horizon` days after `counts` by Holt-Winters on daily totals, spread like recent weeks."""
    counts = _as_counts(counts)
    _require_holt_winters_history(len(counts))
    totals = _fit_grid(counts.sum(axis=1)).extrapolate(horizon)
    forecast = np.zeros((horizon, SLOTS_PER_DAY))
    for ahead in range(horizon):
        forecast[ahead] = totals[ahead] * _intraday_profile(counts, ahead)
    return forecast


def backtest(counts: npt.ArrayLike, method: str, holdout: int) -> BacktestScore:
    """Score `method` on the last `holdout` days of `counts`, each forecast from the days before it."""
    counts = _as_counts(counts)
    first = len(counts) - holdout
    if holdout < 1 or first < 0:
        raise ValueError(f"cannot hold out {holdout} of {len(counts)} days")
    if method == HOLT_WINTERS:
        _require_holt_winters_history(first)
    forecasts = _ROLLING_FORECASTERS[method](counts, range(first, len(counts)))
    actual = counts[first:]
    return BacktestScore(days=holdout, wape=wape(actual, forecasts), bias=bias(actual, forecasts))


def wape(actual: npt.ArrayLike, forecast: npt.ArrayLike) -> float | None:
    """Return Σ|actual − forecast| / Σ actual, or None when nothing arrived."""
    actual, forecast = np.asarray(actual, dtype=float), np.asarray(forecast, dtype=float)
    total = actual.sum()
    return float(np.abs(actual - forecast).sum() / total) if total > 0 else None


def bias(actual: npt.ArrayLike, forecast: npt.ArrayLike) -> float | None:
    """Return Σ(forecast − actual) / Σ actual, positive when over-forecast, or None when nothing arrived."""
    actual, forecast = np.asarray(actual, dtype=float), np.asarray(forecast, dtype=float)
    total = actual.sum()
    return float((forecast - actual).sum() / total) if total > 0 else None


def _counts_before(history: Mapping[date, Sequence[float]], start: date) -> np.ndarray:
    """Lay out the history before `start` as one row per day, from its earliest date, missing days zero."""
    known = {day: row for day, row in history.items() if day < start}
    if not known:
        return np.zeros((0, SLOTS_PER_DAY))
    earliest = min(known)
    counts = np.zeros(((start - earliest).days, SLOTS_PER_DAY))
    for day, row in known.items():
        values = np.asarray(row, dtype=float)
        if values.shape != (SLOTS_PER_DAY,):
            raise ValueError(f"{day}: expected {SLOTS_PER_DAY} slots, got shape {values.shape}")
        counts[(day - earliest).days] = values
    return _as_counts(counts)


def _as_counts(counts: npt.ArrayLike) -> np.ndarray:
    """Check that `counts` is days × 96 non-negative numbers, oldest day first."""
    array = np.asarray(counts, dtype=float)
    if array.size == 0:
        return np.zeros((0, SLOTS_PER_DAY))
    if array.ndim != 2 or array.shape[1] != SLOTS_PER_DAY:
        raise ValueError(f"expected days × {SLOTS_PER_DAY} counts, got shape {array.shape}")
    if not np.all(np.isfinite(array) & (array >= 0)):
        raise ValueError("arrival counts must be finite and not negative")
    return array


def _require_holt_winters_history(days: int) -> None:
    """Refuse a Holt-Winters fit on fewer days than it needs to start from."""
    if days < MIN_DAYS_FOR_HOLT_WINTERS:
        raise ValueError(f"Holt-Winters needs {MIN_DAYS_FOR_HOLT_WINTERS} days of history, got {days}")


def _same_weekday_rows(days: int, ahead: int) -> np.ndarray:
    """Index the last 8 days of a `days`-day history that share the weekday of the day `ahead` after it."""
    # ahead = 0 is the day right after the history; its weekday last occurred 7 days earlier.
    newest = days - _WEEK + ahead % _WEEK
    return np.arange(newest, -1, -_WEEK)[:WEEKS_AVERAGED]


def _intraday_profile(counts: np.ndarray, ahead: int) -> np.ndarray:
    """Share each slot took of its day's arrivals on the same weekday over the last 8 weeks."""
    # A ratio of sums weights each week by its volume, so a quiet week's noise counts for less. A weekday
    # without any arrivals in those weeks gets no arrivals: the brand is evidently closed then.
    same_weekday = counts[_same_weekday_rows(len(counts), ahead)].sum(axis=0)
    total = same_weekday.sum()
    return same_weekday / total if total > 0 else same_weekday


@dataclass(frozen=True)
class _GridFit:
    """Holt-Winters run over one series of daily totals once for every point of the parameter grid."""

    predictions: np.ndarray  # (points, days): each day's total forecast from the days before it
    running_error: np.ndarray  # (points, days): sum of squared one-step errors up to and including each day
    level: np.ndarray  # (points,) at the end of the series
    trend: np.ndarray  # (points,)
    season: np.ndarray  # (points, 7), indexed by day number mod 7
    multiplicative: np.ndarray  # (points,) bool

    def best_point(self, days_seen: int) -> int:
        """Pick the grid point with the least one-step error over the first `days_seen` days."""
        # argmin keeps the first of equals, so ties resolve the same way every time.
        return int(np.argmin(self.running_error[:, days_seen - 1]))

    def predict_day(self, day: int) -> float:
        """Forecast the total of `day` from the days before it, by the point that fitted them best."""
        return float(_non_negative(self.predictions[self.best_point(day), day]))

    def extrapolate(self, horizon: int) -> np.ndarray:
        """Forecast the totals of the `horizon` days after the series, by the point that fitted it best."""
        days_seen = self.predictions.shape[1]
        point = self.best_point(days_seen)
        ahead = np.arange(1, horizon + 1)
        base = self.level[point] + ahead * self.trend[point]
        seasonal = self.season[point, (days_seen + ahead - 1) % _WEEK]
        return _non_negative(base * seasonal if self.multiplicative[point] else base + seasonal)


def _fit_grid(totals: np.ndarray) -> _GridFit:
    """Run Holt-Winters over daily `totals` for every grid point at once, started from the first two weeks."""
    # Multiplicative seasons divide by the first week's days, so that week must have had arrivals every day.
    kinds = (False, True) if np.all(totals[:_WEEK] > 0) else (False,)
    grid = np.meshgrid(_ALPHAS, _BETAS, _GAMMAS, kinds, indexing="ij")
    alpha, beta, gamma, multiplicative = (axis.ravel() for axis in grid)
    first_week, second_week = totals[:_WEEK].mean(), totals[_WEEK : 2 * _WEEK].mean()
    level = np.full(alpha.size, first_week)
    trend = np.full(alpha.size, (second_week - first_week) / _WEEK)
    predictions = np.full((alpha.size, totals.size), np.nan)
    # Both kinds are computed for every point and each keeps its own, so the other kind's division by a
    # zero season is dropped; a multiplicative run whose level reaches zero turns not-a-number and loses.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        season = np.where(multiplicative[:, None], totals[:_WEEK] / first_week, totals[:_WEEK] - first_week)
        for day in range(_WEEK, totals.size):
            slot, actual = day % _WEEK, totals[day]
            seasonal, base = season[:, slot].copy(), level + trend
            predictions[:, day] = np.where(multiplicative, base * seasonal, base + seasonal)
            deseasoned = np.where(multiplicative, actual / seasonal, actual - seasonal)
            new_level = alpha * deseasoned + (1 - alpha) * base
            trend = beta * (new_level - level) + (1 - beta) * trend
            seasonal_now = np.where(multiplicative, actual / new_level, actual - new_level)
            season[:, slot] = gamma * seasonal_now + (1 - gamma) * seasonal
            level = new_level
        squared = np.where(np.isfinite(predictions), (predictions - totals) ** 2, np.inf)
    squared[:, :_WEEK] = 0.0  # the first week has no forecast: it is where the run starts from
    return _GridFit(predictions, np.cumsum(squared, axis=1), level, trend, season, multiplicative)


def _non_negative(values: npt.ArrayLike) -> np.ndarray:
    """Clip forecasts at zero, and take a run that broke down (not a number) to forecast nothing."""
    return np.maximum(np.nan_to_num(np.asarray(values, dtype=float), nan=0.0, posinf=0.0, neginf=0.0), 0.0)


def _rolling_average(counts: np.ndarray, days: range) -> np.ndarray:
    """Forecast each of `days` by the same-weekday average of the days before it."""
    return np.array([same_weekday_average(counts[:day], 1)[0] for day in days])


def _rolling_holt_winters(counts: np.ndarray, days: range) -> np.ndarray:
    """Forecast each of `days` by Holt-Winters fitted to the days before it."""
    # Running the grid over a prefix gives the same states and errors as over the whole series up to that
    # point, so one run over everything serves every origin, each refitted on its own past only.
    fit = _fit_grid(counts.sum(axis=1))
    return np.array([fit.predict_day(day) * _intraday_profile(counts[:day], 0) for day in days])


_FORECASTERS: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    SAME_WEEKDAY_AVERAGE: same_weekday_average,
    HOLT_WINTERS: holt_winters,
}
_ROLLING_FORECASTERS: dict[str, Callable[[np.ndarray, range], np.ndarray]] = {
    SAME_WEEKDAY_AVERAGE: _rolling_average,
    HOLT_WINTERS: _rolling_holt_winters,
}


def _backtest_both(counts: np.ndarray) -> dict[str, BacktestScore]:
    """Score both methods on the same held-out days, or neither when history is too short to hold any out."""
    # Every origin keeps at least the two weeks Holt-Winters starts from, so both methods face the same days.
    holdout = min(BACKTEST_DAYS, len(counts) - MIN_DAYS_FOR_HOLT_WINTERS)
    if holdout < MIN_BACKTEST_DAYS:
        return {}
    return {method: backtest(counts, method, holdout) for method in (SAME_WEEKDAY_AVERAGE, HOLT_WINTERS)}


def _choose(scores: Mapping[str, BacktestScore]) -> str:
    """Keep the same-weekday average unless Holt-Winters backtested clearly better."""
    average, smoothing = scores.get(SAME_WEEKDAY_AVERAGE), scores.get(HOLT_WINTERS)
    if average is None or smoothing is None or average.wape is None or smoothing.wape is None:
        return SAME_WEEKDAY_AVERAGE
    return HOLT_WINTERS if smoothing.wape < average.wape - WAPE_TIE else SAME_WEEKDAY_AVERAGE


def _reason(history_days: int, method: str, scores: Mapping[str, BacktestScore]) -> str:
    """Explain the forecast's method to a brand admin."""
    if history_days == 0:
        return "No conversations yet: the forecast is zero until the first chats arrive."
    seen = f"{_plural(history_days, 'day')} of history"
    if history_days < MIN_DAYS_FOR_WEEKDAYS:
        return f"{seen}: the average of all days so far, too few to tell weekdays apart."
    weeks = min(WEEKS_AVERAGED, history_days // _WEEK)
    average = f"the average of the same weekday over the last {_plural(weeks, 'week') if weeks > 1 else 'week'}"
    if not scores:
        needed = MIN_DAYS_FOR_HOLT_WINTERS + MIN_BACKTEST_DAYS
        return f"{seen}: {average}. Testing it against past days needs {needed} days of history."
    tested, smoothing = scores[SAME_WEEKDAY_AVERAGE], scores[HOLT_WINTERS]
    held_out = f"the last {_plural(tested.days, 'day')}"
    if tested.wape is None or smoothing.wape is None:
        return f"{seen}: {average}. There were no chats in {held_out} to test it against."
    if method == HOLT_WINTERS:
        return (
            f"{seen}: Holt-Winters, which follows the trend of daily totals, was off by {_percent(smoothing.wape)}"
            f" of arrivals over {held_out}, against {_percent(tested.wape)} for {average}."
        )
    return (
        f"{seen}: {average}, off by {_percent(tested.wape)} of arrivals over {held_out};"
        f" Holt-Winters was not clearly better ({_percent(smoothing.wape)})."
    )


def _plural(count: int, noun: str) -> str:
    """Write `count noun`, with an s unless the count is one."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _percent(share: float) -> str:
    """Write a share as a whole percentage, without rounding a small error down to none."""
    return "under 1 %" if 0 < share < 0.005 else f"{round(100 * share)} %"
