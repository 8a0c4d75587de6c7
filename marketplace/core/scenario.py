"""The simulation's scenario: one brand's day and its planner and expert pool, read from JSON and checked.

A scenario is a JSON object (every field but `arrivals_per_interval` has the default shown):

    {
      "name": "default",                   text
      "description": "",                   text
      "arrivals_per_interval": [3, 2, ...], expected chats per 15-minute interval from 00:00 (1 to 672 numbers)
      "handle_s": 600,                     mean seconds a chat holds one of an expert's slots
      "concurrency": 3,                    k, the chats an expert holds at once
      "target_sl": 0.8,                    share of chats to answer within answer_within_s
      "answer_within_s": 60,
      "patience_s": 600,                   a visitor's mean patience; null: nobody leaves (Erlang C)
      "max_abandon": 0.05,                 the planner's cap on abandonment; null: none
      "priority_share": 0.0,               share of chats with priority 1 (the others have 0)
      "forecast_noise": 0.0,               sd of the forecast's relative error per interval
      "max_active_experts": null,          the brand's cap on experts online
      "planner": {"lead_minutes": 6, "invitation_expiry_minutes": 8, "rest_minutes": 15},
      "pool": {"size": 80, "acceptance": [0.4, 0.9], "accept_delay_minutes": [1, 6], "decline_share": 0.5}
    }

`pool.acceptance` bounds each expert's own acceptance probability (drawn uniformly once per pool),
`pool.accept_delay_minutes` the uniform delay before they accept or decline, `pool.decline_share` the
share of the refusals that are said (the others let the invitation expire); `planner.rest_minutes` is how
long an expert who declined or let an invitation expire is left alone. Unknown fields are refused.

Pure logic: the standard library (and the staffing math).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from marketplace.core.staffing import staff_intervals

INTERVAL_S = 900  # every scenario counts its arrivals per quarter hour


class ScenarioError(ValueError):
    """A scenario field is missing or wrong; `field` names it (dotted, with list indexes)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class Scenario:
    arrivals_per_interval: tuple[float, ...]
    name: str = "default"
    description: str = ""
    handle_s: float = 600.0
    concurrency: int = 3
    target_sl: float = 0.8
    answer_within_s: float = 60.0
    patience_s: float | None = 600.0
    max_abandon: float | None = 0.05
    priority_share: float = 0.0
    forecast_noise: float = 0.0
    max_active_experts: int | None = None
    lead_minutes: float = 6.0
    invitation_expiry_minutes: float = 8.0
    rest_minutes: float = 15.0
    pool_size: int = 80
    acceptance: tuple[float, float] = (0.4, 0.9)
    accept_delay_minutes: tuple[float, float] = (1.0, 6.0)
    decline_share: float = 0.5

    @property
    def day_s(self) -> float:
        return len(self.arrivals_per_interval) * INTERVAL_S

    def requirement(self, arrivals: Sequence[float]) -> list[int]:
        """The experts each interval needs for these expected counts."""
        return [s.experts for s in staff_intervals(arrivals, INTERVAL_S, self.handle_s, self.concurrency,
                                                   self.target_sl, self.answer_within_s, self.patience_s,
                                                   self.max_abandon)]


def _number(data: Mapping[str, Any], field: str, default: Any, low: float, high: float, *, integer: bool = False,
            nullable: bool = False, low_open: bool = False, path: str = "") -> Any:
    return _checked(data.get(field, default), path + field, low, high, integer=integer, nullable=nullable,
                    low_open=low_open)


def _checked(value: Any, name: str, low: float, high: float, *, integer: bool = False, nullable: bool = False,
             low_open: bool = False) -> Any:
    if value is None and nullable:
        return None
    kind = "a whole number" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, int | float) or (integer and not isinstance(value, int)):
        raise ScenarioError(name, f"must be {kind}" + (" or null" if nullable else ""))
    if not math.isfinite(value) or value < low or value > high or (low_open and value == low):
        raise ScenarioError(name, f"must be {'above' if low_open else 'at least'} {low:g} and at most {high:g}")
    return value


def _pair(data: Mapping[str, Any], field: str, default: tuple[float, float], low: float, high: float,
          path: str) -> tuple[float, float]:
    value = data.get(field, list(default))
    if not isinstance(value, list) or len(value) != 2:
        raise ScenarioError(path + field, "must be a pair [low, high]")
    first, second = (float(_checked(v, f"{path}{field}[{i}]", low, high)) for i, v in enumerate(value))
    if first > second:
        raise ScenarioError(path + field, "the first must not exceed the second")
    return first, second


def _section(data: Mapping[str, Any], field: str, known: set[str]) -> Mapping[str, Any]:
    section = data.get(field, {})
    if not isinstance(section, dict):
        raise ScenarioError(field, "must be an object")
    _refuse_unknown(section, known, f"{field}.")
    return section


def _refuse_unknown(data: Mapping[str, Any], known: set[str], path: str = "") -> None:
    for key in data:
        if key not in known:
            raise ScenarioError(path + str(key), f"is not a scenario field (known: {', '.join(sorted(known))})")


def scenario_from_dict(data: Any) -> Scenario:
    """Check a scenario read from JSON; raise ScenarioError naming the first bad field."""
    if not isinstance(data, dict):
        raise ScenarioError("scenario", "must be a JSON object")
    _refuse_unknown(data, {"name", "description", "arrivals_per_interval", "handle_s", "concurrency", "target_sl",
                           "answer_within_s", "patience_s", "max_abandon", "priority_share", "forecast_noise",
                           "max_active_experts", "planner", "pool"})
    arrivals = data.get("arrivals_per_interval")
    if not isinstance(arrivals, list) or not 1 <= len(arrivals) <= 7 * 96:
        raise ScenarioError("arrivals_per_interval", "must be a list of 1 to 672 expected counts per 15 minutes")
    counts = tuple(float(_checked(n, f"arrivals_per_interval[{i}]", 0, 100_000)) for i, n in enumerate(arrivals))
    for field in ("name", "description"):
        if not isinstance(data.get(field, ""), str):
            raise ScenarioError(field, "must be text")
    planner = _section(data, "planner", {"lead_minutes", "invitation_expiry_minutes", "rest_minutes"})
    pool = _section(data, "pool", {"size", "acceptance", "accept_delay_minutes", "decline_share"})
    defaults = Scenario(())
    return Scenario(
        arrivals_per_interval=counts,
        name=data.get("name", defaults.name),
        description=data.get("description", ""),
        handle_s=_number(data, "handle_s", defaults.handle_s, 0, 86_400, low_open=True),
        concurrency=_number(data, "concurrency", defaults.concurrency, 1, 20, integer=True),
        target_sl=_number(data, "target_sl", defaults.target_sl, 0, 0.999, low_open=True),
        answer_within_s=_number(data, "answer_within_s", defaults.answer_within_s, 0, 3600),
        patience_s=_number(data, "patience_s", defaults.patience_s, 0, 86_400, nullable=True, low_open=True),
        max_abandon=_number(data, "max_abandon", defaults.max_abandon, 0, 1, nullable=True, low_open=True),
        priority_share=_number(data, "priority_share", 0.0, 0, 1),
        forecast_noise=_number(data, "forecast_noise", 0.0, 0, 1),
        max_active_experts=_number(data, "max_active_experts", None, 0, 100_000, integer=True, nullable=True),
        lead_minutes=_number(planner, "lead_minutes", defaults.lead_minutes, 0, 240, path="planner."),
        invitation_expiry_minutes=_number(planner, "invitation_expiry_minutes", defaults.invitation_expiry_minutes,
                                          0, 240, low_open=True, path="planner."),
        rest_minutes=_number(planner, "rest_minutes", defaults.rest_minutes, 0, 1440, path="planner."),
        pool_size=_number(pool, "size", defaults.pool_size, 1, 10_000, integer=True, path="pool."),
        acceptance=_pair(pool, "acceptance", defaults.acceptance, 0, 1, "pool."),
        accept_delay_minutes=_pair(pool, "accept_delay_minutes", defaults.accept_delay_minutes, 0, 240, "pool."),
        decline_share=_number(pool, "decline_share", defaults.decline_share, 0, 1, path="pool."),
    )
