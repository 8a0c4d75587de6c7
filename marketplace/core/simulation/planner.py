"""Who is online in a simulated day: the planner's scaling loop, and the oracle it is measured against.

The planner ticks every simulated minute: desired = `scaling.desired_experts` over the requirements of the
intervals in [now, now + lead], `scaling.decide` turns it into invitations or releases, invitations go to
off-shift experts of a pool in `scaling.invitation_order`, releases follow `scaling.release_order` (only
experts online for a whole window are releasable). An invited expert accepts with their own probability
after a random delay and comes online, declines after such a delay, or lets the invitation expire; either
way they rest before the next invitation. The acceptance rate p is measured as the day goes
(`scaling.acceptance_rate`, an expired invitation counting as declined). A released expert takes no new
chat and goes offline after their open ones.

The oracle has, from each interval's start and instantly, exactly the experts that `staff_intervals`
requires for the true expected counts, within the brand's cap (it takes back its released experts first,
then new ones).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from typing import Any

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
from marketplace.core.simulation.floor import WINDOW_S, Expert, Floor, Outcome, as_datetime

TICK_S = 60


class Planner:
    """The scaling loop: every minute, desired experts, then `decide`, invitations and releases."""

    def __init__(self, scenario: Scenario, requirement: Sequence[int], floor: Floor, rng: random.Random) -> None:
        self.scenario, self.requirement, self.floor, self.rng = scenario, list(requirement), floor, rng
        self.events = floor.events
        low, high = scenario.acceptance
        self.pool = [Expert(i, rng.uniform(low, high)) for i in range(scenario.pool_size)]
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
        stamp = as_datetime(now)
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
                                released_at=None if e.released_at is None else as_datetime(e.released_at))
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

    def _answer(self, answer: tuple[Expert, str]) -> None:
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
        online = [Online(e.id, e.load, as_datetime(since), releasable=now - since >= WINDOW_S)
                  for e in self.floor.active.values() if (since := e.online_since) is not None]
        for chosen in release_order(online)[:count]:
            self.releases += 1
            self.floor.release(self.floor.active[chosen.expert_id])


class Oracle:
    """Exactly the required experts from each interval's start, instantly."""

    def __init__(self, requirement: Sequence[int], floor: Floor) -> None:
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
                floor.join(Expert(self._next_id))
                self._next_id += 1
        surplus = len(floor.active) - needed
        if surplus > 0:
            online = [Online(e.id, e.load, as_datetime(e.online_since or 0.0)) for e in floor.active.values()]
            for chosen in release_order(online)[:surplus]:
                floor.release(floor.active[chosen.expert_id])

