"""A day of chats through the planner's and the router's rules, beside an oracle that staffs exactly.

Discrete events on a heap, seeded, so the same seed gives the same day. Chats arrive as a Poisson process
whose rate is constant within each 15-minute interval; each has an exponential handle time and an
exponential patience (a visitor not answered within it leaves: abandoned). An expert holds up to k chats;
waiting chats go out in rule 5's order (`routing.queue_key`: priority, then oldest) to the least loaded,
then longest idle expert with room (`routing.expert_key`), at once (rule 6). A chat is answered when it
reaches an expert; the seconds an expert takes to accept an offer are not modelled.

The planner ticks every simulated minute: desired = `scaling.desired_experts` over the requirements of the
intervals in [now, now + lead], `scaling.decide` turns it into invitations or releases, invitations go to
off-shift experts of a pool in `scaling.invitation_order`, releases follow `scaling.release_order` (only
experts online for a whole window are releasable). The requirement comes from `staffing.staff_intervals`
on the planner's forecast: the scenario's expected counts, times a per-interval error when the scenario
sets `forecast_noise`. The forecast does not change within the day, so the requirement is computed once.
An invited expert accepts with their own probability after a random delay and comes online, declines
after such a delay, or lets the invitation expire; either way they rest before the next invitation. The
acceptance rate p is measured as the day goes (`scaling.acceptance_rate`, an expired invitation counting
as declined). A released expert takes no new chat and goes offline after their open ones.

Both the planner and the oracle start the day with the first interval's requirement online (the night
shift is already on). The oracle has, from each interval's start and instantly, exactly the experts that
`staff_intervals` requires for the true expected counts, within the brand's cap (it takes back its
released experts first, then new ones). Both see the same chats. Expert-hours count online time within the
day, draining after release included; after the day's end nobody is invited or released and the chats
still open are served to their end. Flaps are counted from the log of invitations, comings online and
releases: a release within WINDOW of coming online, or an invitation within WINDOW of a release.

The scenario format is in `core/scenario.py`.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from marketplace.core.routing import expert_key, queue_key
from marketplace.core.scaling import (
    WINDOW,
    Candidate,
    Online,
    acceptance_rate,
    decide,
    desired_experts,
    invitation_order,
    release_order,
)
from marketplace.core.scenario import INTERVAL_S, Scenario

TICK_S = 60
WINDOW_S = WINDOW.total_seconds()
EPOCH = dt.datetime(2025, 1, 6, tzinfo=dt.UTC)  # a Monday; the simulated clock in seconds counts from it
# The acceptance criteria for a simulated day.
SERVICE_LEVEL_SLACK = 0.02
EXPERT_HOURS_RATIO_MAX = 1.10


@dataclass(frozen=True)
class Chat:
    id: int
    arrives_s: float
    handle_s: float
    patience_s: float  # math.inf: never leaves
    priority: int = 0


@dataclass(frozen=True)
class Outcome:
    """What one staffing of the day achieved (invitation figures stay 0 for the oracle)."""

    arrivals: int
    answered: int
    answered_in_time: int
    abandoned: int
    service_level: float  # answered within the target over arrivals
    abandon_rate: float
    mean_wait_s: float  # over the answered
    wait_probability: float  # share of arrivals who found no free slot
    expert_hours: float
    peak_online: int
    invitations_sent: int = 0
    invitations_accepted: int = 0
    invitations_declined: int = 0
    invitations_expired: int = 0
    invitations_short: int = 0  # invitations wanted but with nobody free in the pool, summed over the ticks
    acceptance_measured: float | None = None
    releases: int = 0
    flaps: int = 0


def count_flaps(log: Sequence[tuple[float, int, str]]) -> int:
    """Releases within a window of coming online, and invitations within a window of a release."""
    flaps = 0
    online_at: dict[int, float] = {}
    released_at: dict[int, float] = {}
    for at, expert, what in sorted(log, key=lambda entry: entry[0]):
        if what == "online":
            online_at[expert] = at
        elif what == "released":
            flaps += at - online_at.get(expert, -math.inf) < WINDOW_S
            released_at[expert] = at
        elif what == "invited":
            flaps += at - released_at.get(expert, -math.inf) < WINDOW_S
    return flaps


class _Events:
    """The clock and its heap of future events; ties run in the order they were scheduled."""

    def __init__(self) -> None:
        self.now = 0.0
        self._heap: list[tuple[float, int, Callable[[Any], None], Any]] = []
        self._seq = 0

    def at(self, when: float, action: Callable[[Any], None], arg: Any = None) -> None:
        heapq.heappush(self._heap, (when, self._seq, action, arg))
        self._seq += 1

    def run(self) -> None:
        while self._heap:
            self.now, _, action, arg = heapq.heappop(self._heap)
            action(arg)


def _dice(stream: str, seed: int) -> random.Random:
    """A generator of its own per stream, so the planner's draws never shift the chats' arrivals."""
    return random.Random(f"{stream}-{seed}")  # noqa: S311 - a simulation's dice, not a secret


def _stamp(seconds: float) -> dt.datetime:
    return EPOCH + dt.timedelta(seconds=seconds)


class _Expert:
    __slots__ = ("id", "accept_p", "load", "last_offered", "online_since", "released_at", "answered", "accepted",
                 "invited", "resting_until")

    def __init__(self, expert_id: int, accept_p: float = 1.0) -> None:
        self.id, self.accept_p = expert_id, accept_p
        self.load = 0
        self.last_offered: dt.datetime | None = None
        self.online_since: float | None = None  # None: offline
        self.released_at: float | None = None
        self.answered = self.accepted = 0
        self.invited = False
        self.resting_until = -math.inf


class _Floor:
    """The chats waiting and open, and the experts online: who takes which chat, and what it came to."""

    def __init__(self, events: _Events, concurrency: int, answer_within_s: float, horizon_s: float,
                 count_from_s: float = 0.0) -> None:
        self.events, self.concurrency, self.answer_within_s = events, concurrency, answer_within_s
        self.horizon_s, self.count_from_s = horizon_s, count_from_s
        self.active: dict[int, _Expert] = {}  # online and taking chats
        self.draining: dict[int, _Expert] = {}  # released, finishing their chats
        self.log: list[tuple[float, int, str]] = []
        self._queue: list[tuple[tuple, Chat]] = []
        self._waiting: set[int] = set()
        self.arrivals = self.answered = self.in_time = self.abandoned = self.queued = self.peak_online = 0
        self.wait_s = self.online_s = 0.0
        self.free_slots = 0  # chat slots the active experts have free: 0 spares a search

    def arrive(self, chat: Chat) -> None:
        counted = chat.arrives_s >= self.count_from_s
        self.arrivals += counted
        expert = self._free_expert()
        if expert is not None:
            self._assign(chat, expert)
            return
        self.queued += counted
        self._waiting.add(chat.id)
        heapq.heappush(self._queue, (queue_key(chat.priority, _stamp(chat.arrives_s), chat.id), chat))
        if chat.patience_s < math.inf:
            self.events.at(chat.arrives_s + chat.patience_s, self._give_up, chat)

    def join(self, expert: _Expert) -> None:
        """Put an expert online (or back from draining) and hand them waiting chats."""
        now = self.events.now
        if expert.online_since is None:
            expert.online_since = now
        self.draining.pop(expert.id, None)
        if expert.id not in self.active:
            self.free_slots += self.concurrency - expert.load
        self.active[expert.id] = expert
        self.log.append((now, expert.id, "online"))
        self.peak_online = max(self.peak_online, len(self.active))
        self._dispatch()

    def release(self, expert: _Expert) -> None:
        now = self.events.now
        del self.active[expert.id]
        self.free_slots -= self.concurrency - expert.load
        expert.released_at = now
        self.log.append((now, expert.id, "released"))
        self.draining[expert.id] = expert
        if not expert.load:
            self._go_offline(expert)

    def close(self) -> None:
        """Count the online time of those still online at the end."""
        for expert in [*self.active.values(), *self.draining.values()]:
            self._add_online_time(expert, self.events.now)

    def outcome(self, **invitations: Any) -> Outcome:
        return Outcome(
            arrivals=self.arrivals, answered=self.answered, answered_in_time=self.in_time, abandoned=self.abandoned,
            service_level=self.in_time / self.arrivals if self.arrivals else 1.0,
            abandon_rate=self.abandoned / self.arrivals if self.arrivals else 0.0,
            mean_wait_s=self.wait_s / self.answered if self.answered else 0.0,
            wait_probability=self.queued / self.arrivals if self.arrivals else 0.0,
            expert_hours=self.online_s / 3600, peak_online=self.peak_online,
            flaps=count_flaps(self.log), **invitations)

    def _free_expert(self) -> _Expert | None:
        if not self.free_slots:
            return None
        k = self.concurrency
        return min(((expert_key(e.load, e.last_offered, e.id), e) for e in self.active.values() if e.load < k),
                   default=(None, None))[1]

    def _assign(self, chat: Chat, expert: _Expert) -> None:
        now = self.events.now
        if chat.arrives_s >= self.count_from_s:
            self.answered += 1
            self.in_time += now - chat.arrives_s <= self.answer_within_s
            self.wait_s += now - chat.arrives_s
        expert.load += 1
        self.free_slots -= 1
        expert.last_offered = _stamp(now)
        self.events.at(now + chat.handle_s, self._finish, expert)

    def _finish(self, expert: _Expert) -> None:
        expert.load -= 1
        if expert.id in self.active:
            self.free_slots += 1
            self._dispatch()
        elif not expert.load and expert.id in self.draining:
            self._go_offline(expert)

    def _give_up(self, chat: Chat) -> None:
        if chat.id in self._waiting:
            self._waiting.discard(chat.id)
            self.abandoned += chat.arrives_s >= self.count_from_s

    def _dispatch(self) -> None:
        """Rule 6: while a chat waits and an expert has room, the first waiting goes to the first expert."""
        while self._queue:
            chat = self._queue[0][1]
            if chat.id not in self._waiting:
                heapq.heappop(self._queue)  # left while waiting
                continue
            expert = self._free_expert()
            if expert is None:
                return
            heapq.heappop(self._queue)
            self._waiting.discard(chat.id)
            self._assign(chat, expert)

    def _go_offline(self, expert: _Expert) -> None:
        del self.draining[expert.id]
        self._add_online_time(expert, self.events.now)
        expert.online_since = None
        self.log.append((self.events.now, expert.id, "offline"))

    def _add_online_time(self, expert: _Expert, until: float) -> None:
        start = min(expert.online_since or 0.0, self.horizon_s)
        self.online_s += max(0.0, min(until, self.horizon_s) - start)


class _Planner:
    """The scaling loop: every minute, desired experts, then `decide`, invitations and releases."""

    def __init__(self, scenario: Scenario, requirement: Sequence[int], floor: _Floor, rng: random.Random) -> None:
        self.scenario, self.requirement, self.floor, self.rng = scenario, list(requirement), floor, rng
        self.events = floor.events
        low, high = scenario.acceptance
        self.pool = [_Expert(i, rng.uniform(low, high)) for i in range(scenario.pool_size)]
        self.recent: list[tuple[dt.datetime, int]] = []
        self.pending = self.sent = self.accepted = self.declined = self.expired = self.short = self.releases = 0

    def start(self) -> None:
        """The night shift: the desired experts of the first minute are online at 00:00, uninvited."""
        for expert in self.pool[: self._desired(0.0)]:
            self.floor.join(expert)
        self.events.at(0.0, self._tick)

    def outcome(self) -> Outcome:
        return self.floor.outcome(
            invitations_sent=self.sent, invitations_accepted=self.accepted, invitations_declined=self.declined,
            invitations_expired=self.expired, invitations_short=self.short, acceptance_measured=self._acceptance(),
            releases=self.releases)

    def _acceptance(self) -> float:
        return acceptance_rate(self.accepted, self.accepted + self.declined + self.expired)

    def _desired(self, now: float) -> int:
        first = int(now // INTERVAL_S)
        last = min(int((now + self.scenario.lead_minutes * 60) // INTERVAL_S), len(self.requirement) - 1)
        return desired_experts(self.requirement[first:last + 1], self.scenario.max_active_experts)

    def _tick(self, _: Any) -> None:
        now = self.events.now
        stamp = _stamp(now)
        desired = self._desired(now)
        decision = decide(stamp, desired, self.recent, len(self.floor.active), self.pending, self._acceptance())
        self.recent.append((stamp, desired))
        while len(self.recent) > 1 and self.recent[1][0] <= stamp - WINDOW:
            del self.recent[0]  # keep one decision at least a window old: it shows the window is covered
        if decision.invite:
            self._invite(decision.invite, stamp)
        if decision.release:
            self._release(decision.release)
        if now + TICK_S < self.scenario.day_s:
            self.events.at(now + TICK_S, self._tick)

    def _invite(self, count: int, stamp: dt.datetime) -> None:
        now = self.events.now
        free = {e.id: e for e in self.pool if e.online_since is None and not e.invited and e.resting_until <= now}
        candidates = [Candidate(e.id, e.answered, e.accepted,
                                released_at=None if e.released_at is None else _stamp(e.released_at))
                      for e in free.values()]
        chosen = invitation_order(candidates, stamp)[:count]
        self.short += count - len(chosen)
        expiry = self.scenario.invitation_expiry_minutes * 60
        for candidate in chosen:
            expert = free[candidate.expert_id]
            expert.invited = True
            self.pending += 1
            self.sent += 1
            self.floor.log.append((now, expert.id, "invited"))
            # Three draws per invitation whatever the outcome, so one answer never shifts the others' dice.
            accepts = self.rng.random() < expert.accept_p
            delay = self.rng.uniform(*self.scenario.accept_delay_minutes) * 60
            says_no = self.rng.random() < self.scenario.decline_share
            if delay < expiry and (accepts or says_no):
                self.events.at(now + delay, self._answer, (expert, "accepted" if accepts else "declined"))
            else:
                self.events.at(now + expiry, self._answer, (expert, "expired"))

    def _answer(self, answer: tuple[_Expert, str]) -> None:
        expert, what = answer
        expert.invited = False
        self.pending -= 1
        if self.events.now >= self.scenario.day_s:
            return  # the day is over: the invitation lapses uncounted
        expert.answered += 1
        if what == "accepted":
            expert.accepted += 1
            self.accepted += 1
            self.floor.join(expert)
            return
        expert.resting_until = self.events.now + self.scenario.rest_minutes * 60
        if what == "declined":
            self.declined += 1
        else:
            self.expired += 1

    def _release(self, count: int) -> None:
        now = self.events.now
        online = [Online(e.id, e.load, _stamp(since), releasable=now - since >= WINDOW_S)
                  for e in self.floor.active.values() if (since := e.online_since) is not None]
        for chosen in release_order(online)[:count]:
            self.releases += 1
            self.floor.release(self.floor.active[chosen.expert_id])


class _Oracle:
    """Exactly the required experts from each interval's start, instantly."""

    def __init__(self, requirement: Sequence[int], floor: _Floor) -> None:
        self.requirement, self.floor = list(requirement), floor
        self._next_id = 0

    def start(self) -> None:
        for index in range(len(self.requirement)):
            self.floor.events.at(index * INTERVAL_S, self._staff, index)

    def _staff(self, index: int) -> None:
        floor, needed = self.floor, self.requirement[index]
        while len(floor.active) < needed:
            if floor.draining:  # one released earlier and still finishing: take them back (costs no new hours)
                floor.join(floor.draining[min(floor.draining)])
            else:
                floor.join(_Expert(self._next_id))
                self._next_id += 1
        surplus = len(floor.active) - needed
        if surplus > 0:
            online = [Online(e.id, e.load, _stamp(e.online_since or 0.0)) for e in floor.active.values()]
            for chosen in release_order(online)[:surplus]:
                floor.release(floor.active[chosen.expert_id])


def day_arrivals(scenario: Scenario, seed: int) -> list[Chat]:
    """The day's chats: Poisson within each interval at its expected count, exponential handle and patience."""
    rng = _dice("arrivals", seed)
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
    rng = _dice("forecast", seed)
    return [n * max(0.0, 1 + rng.gauss(0, scenario.forecast_noise)) if scenario.forecast_noise else n
            for n in scenario.arrivals_per_interval]


def _run(scenario: Scenario, chats: Sequence[Chat], make_controller: Callable[[_Floor], Any]) -> tuple[Any, _Floor]:
    events = _Events()
    floor = _Floor(events, scenario.concurrency, scenario.answer_within_s, scenario.day_s)
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
    rng = _dice("experts", seed)
    planner, planner_floor = _run(scenario, chats, lambda floor: _Planner(scenario, planned, floor, rng))
    _, oracle_floor = _run(scenario, chats, lambda floor: _Oracle(exact, floor))
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


def simulate_steady(arrivals: float, interval_s: float, handle_s: float, concurrency: int, experts: int,
                    answer_within_s: float, patience_s: float | None = None, hours: float = 200.0,
                    warmup_hours: float = 2.0, seed: int = 0) -> Outcome:
    """A constant rate (`arrivals` per `interval_s`) on a fixed number of experts, measured after a warm-up."""
    rng = _dice("steady", seed)
    horizon = (hours + warmup_hours) * 3600
    events = _Events()
    floor = _Floor(events, concurrency, answer_within_s, horizon, count_from_s=warmup_hours * 3600)
    for expert_id in range(experts):
        floor.join(_Expert(expert_id))
    rate = arrivals / interval_s
    chat_id = 0

    def arrive(_: Any) -> None:
        nonlocal chat_id
        patience = rng.expovariate(1 / patience_s) if patience_s else math.inf
        floor.arrive(Chat(chat_id, events.now, rng.expovariate(1 / handle_s), patience))
        chat_id += 1
        if (following := events.now + rng.expovariate(rate)) < horizon:
            events.at(following, arrive)

    if rate > 0:
        events.at(rng.expovariate(rate), arrive)
    events.run()
    floor.close()
    return floor.outcome()
