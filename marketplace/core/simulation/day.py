"""A scenario's simulated day through the planner's and the router's rules, beside an oracle that staffs exactly.

The requirement comes from `staffing.staff_intervals` on the planner's forecast: the scenario's expected
counts, times a per-interval error when the scenario sets `forecast_noise`. The forecast does not change
within the day, so the requirement is computed once.

Both the planner and the oracle start the day with the first interval's requirement online (the night
shift is already on). Both see the same chats. Expert-hours count online time within the day, draining
after release included; after the day's end nobody is invited or released and the chats still open are
served to their end.

The scenario format is in `core/scenario.py`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from marketplace.core.scaling import desired_experts
from marketplace.core.scenario import INTERVAL_S, Scenario
from marketplace.core.simulation.floor import Chat, Events, Floor, Outcome, dice
from marketplace.core.simulation.planner import Oracle, Planner

# The acceptance criteria for a simulated day.
SERVICE_LEVEL_SLACK = 0.02
EXPERT_HOURS_RATIO_MAX = 1.10


def day_arrivals(scenario: Scenario, seed: int) -> list[Chat]:
    """The day's chats: Poisson within each interval at its expected count, exponential handle and patience."""
    rng = dice("arrivals", seed)
    chats: list[Chat] = []
    for index, expected in enumerate(scenario.arrivals_per_interval):
        if expected <= 0:
            continue
        at, end = index * INTERVAL_S, (index + 1) * INTERVAL_S
        while (at := at + rng.expovariate(expected / INTERVAL_S)) < end:
            handle = rng.expovariate(1 / scenario.handle_s)
            patience = rng.expovariate(1 / scenario.patience_s) if scenario.patience_s else math.inf
            priority = int(rng.random() < scenario.priority_share)
            chats.append(Chat(len(chats), at, handle, patience, priority))
    return chats


def forecast(scenario: Scenario, seed: int) -> list[float]:
    """The planner's forecast: the expected counts, each off by a relative error of sd `forecast_noise`."""
    rng = dice("forecast", seed)
    return [n * max(0.0, 1 + rng.gauss(0, scenario.forecast_noise)) if scenario.forecast_noise else n
            for n in scenario.arrivals_per_interval]


def _run(scenario: Scenario, chats: Sequence[Chat], make_controller: Callable[[Floor], Any]) -> tuple[Any, Floor]:
    events = Events()
    floor = Floor(events, scenario.concurrency, scenario.answer_within_s, scenario.day_s)
    controller = make_controller(floor)
    controller.start()
    for chat in chats:
        events.at(chat.arrives_s, floor.arrive, chat)
    events.run()
    floor.close()
    return controller, floor


@dataclass(frozen=True)
class DayReport:
    scenario: Scenario
    seed: int
    planner: Outcome
    oracle: Outcome
    planned_requirement: tuple[int, ...]  # from the planner's forecast
    exact_requirement: tuple[int, ...]  # from the true expected counts: the oracle's staffing
    planner_online: tuple[int, ...] = ()  # experts online at the middle of each interval
    oracle_online: tuple[int, ...] = ()

    def expert_hours_ratio(self) -> float | None:
        """The planner's expert-hours over the oracle's; None when only the planner had anyone online."""
        if self.oracle.expert_hours:
            return self.planner.expert_hours / self.oracle.expert_hours
        return None if self.planner.expert_hours else 1.0

    def criteria(self) -> dict[str, dict[str, Any]]:
        """The issue's three: service level near target, expert-hours near the oracle's, no flaps."""
        floor = self.scenario.target_sl - SERVICE_LEVEL_SLACK
        ratio = self.expert_hours_ratio()
        return {
            "service_level": {"value": round(self.planner.service_level, 4), "at_least": round(floor, 4),
                              "met": self.planner.service_level >= floor},
            "expert_hours_ratio": {"value": None if ratio is None else round(ratio, 4),
                                   "at_most": EXPERT_HOURS_RATIO_MAX,
                                   "met": ratio is not None and ratio <= EXPERT_HOURS_RATIO_MAX},
            "flaps": {"value": self.planner.flaps, "at_most": 0, "met": self.planner.flaps == 0},
        }

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary: the planner's figures beside the oracle's, the targets, the criteria."""
        criteria = self.criteria()
        planner, oracle = _rounded(self.planner), _rounded(self.oracle)
        return {
            "scenario": self.scenario.name,
            "seed": self.seed,
            "targets": {"service_level": self.scenario.target_sl, "answer_within_s": self.scenario.answer_within_s,
                        "max_abandon": self.scenario.max_abandon},
            "planner": planner,
            "oracle": {k: v for k, v in oracle.items() if k in _ORACLE_FIELDS},
            "ratios": {"expert_hours": criteria["expert_hours_ratio"]["value"],
                       "service_level": round(self.planner.service_level / self.oracle.service_level, 4)
                       if self.oracle.service_level else None},
            "requirement": {"planned_expert_hours": sum(self.planned_requirement) * INTERVAL_S / 3600,
                            "exact_expert_hours": sum(self.exact_requirement) * INTERVAL_S / 3600,
                            "peak_experts": max(self.exact_requirement, default=0)},
            "criteria": criteria,
            "met": all(c["met"] for c in criteria.values()),
            "by_interval": {"needed": list(self.exact_requirement), "planner_online": list(self.planner_online),
                            "oracle_online": list(self.oracle_online)},
        }


_ORACLE_FIELDS = ("arrivals", "answered", "answered_in_time", "abandoned", "service_level", "abandon_rate",
                  "mean_wait_s", "wait_probability", "expert_hours", "peak_online", "invitations_sent", "flaps")


def _rounded(outcome: Outcome) -> dict[str, Any]:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(outcome).items()}


def simulate_day(scenario: Scenario, seed: int) -> DayReport:
    """Run the scenario's day twice on the same chats: staffed by the planner, and by the oracle."""
    chats = day_arrivals(scenario, seed)
    planned = scenario.requirement(forecast(scenario, seed))
    cap = scenario.max_active_experts
    exact = [desired_experts([n], cap) for n in scenario.requirement(scenario.arrivals_per_interval)]
    rng = dice("experts", seed)
    planner, planner_floor = _run(scenario, chats, lambda floor: Planner(scenario, planned, floor, rng))
    _, oracle_floor = _run(scenario, chats, lambda floor: Oracle(exact, floor))
    intervals = len(scenario.arrivals_per_interval)
    return DayReport(scenario, seed, planner.outcome(), oracle_floor.outcome(), tuple(planned), tuple(exact),
                     online_by_interval(planner_floor.log, intervals), online_by_interval(oracle_floor.log, intervals))


def online_by_interval(log: Sequence[tuple[float, int, str]], intervals: int) -> tuple[int, ...]:
    """Experts online (a released one until their last chat ends) at the middle of each interval."""
    changes = sorted((at, 1 if kind == "online" else -1) for at, _, kind in log if kind in ("online", "offline"))
    counts, online, index = [], 0, 0
    for interval in range(intervals):
        middle = (interval + 0.5) * INTERVAL_S
        while index < len(changes) and changes[index][0] <= middle:
            online += changes[index][1]
            index += 1
        counts.append(online)
    return tuple(counts)
