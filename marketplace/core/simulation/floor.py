"""Chats and experts on a simulated floor: a clock of discrete events, and who takes which chat.

Discrete events on a heap, seeded, so the same seed gives the same day. Chats arrive as a Poisson process
whose rate is constant within each 15-minute interval; each has an exponential handle time and an
exponential patience (a visitor not answered within it leaves: abandoned). An expert holds up to k chats;
waiting chats go out in rule 5's order (`routing.queue_key`: priority, then oldest) to the least loaded,
then longest idle expert with room (`routing.expert_key`), at once (rule 6). A chat is answered when it
reaches an expert; the seconds an expert takes to accept an offer are not modelled.

Expert-hours count online time within the horizon, draining after release included. Flaps are counted
from the log of invitations, comings online and releases: a release within WINDOW of coming online, or an
invitation within WINDOW of a release.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from marketplace.core.routing import expert_key, queue_key
from marketplace.core.scaling import WINDOW

WINDOW_S = WINDOW.total_seconds()
EPOCH = dt.datetime(2025, 1, 6, tzinfo=dt.UTC)  # a Monday; the simulated clock in seconds counts from it


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


class Events:
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


def dice(stream: str, seed: int) -> random.Random:
    """A generator of its own per stream, so the planner's draws never shift the chats' arrivals."""
    return random.Random(f"{stream}-{seed}")  # noqa: S311 - a simulation's dice, not a secret


def as_datetime(seconds: float) -> dt.datetime:
    """The moment `seconds` into the simulated clock."""
    return EPOCH + dt.timedelta(seconds=seconds)


class Expert:
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


class Floor:
    """The chats waiting and open, and the experts online: who takes which chat, and what it came to."""

    def __init__(self, events: Events, concurrency: int, answer_within_s: float, horizon_s: float,
                 count_from_s: float = 0.0) -> None:
        self.events, self.concurrency, self.answer_within_s = events, concurrency, answer_within_s
        self.horizon_s, self.count_from_s = horizon_s, count_from_s
        self.active: dict[int, Expert] = {}  # online and taking chats
        self.draining: dict[int, Expert] = {}  # released, finishing their chats
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
        heapq.heappush(self._queue, (queue_key(chat.priority, as_datetime(chat.arrives_s), chat.id), chat))
        if chat.patience_s < math.inf:
            self.events.at(chat.arrives_s + chat.patience_s, self._give_up, chat)

    def join(self, expert: Expert) -> None:
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

    def release(self, expert: Expert) -> None:
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

    def _free_expert(self) -> Expert | None:
        if not self.free_slots:
            return None
        k = self.concurrency
        return min(((expert_key(e.load, e.last_offered, e.id), e) for e in self.active.values() if e.load < k),
                   default=(None, None))[1]

    def _assign(self, chat: Chat, expert: Expert) -> None:
        now = self.events.now
        if chat.arrives_s >= self.count_from_s:
            self.answered += 1
            self.in_time += now - chat.arrives_s <= self.answer_within_s
            self.wait_s += now - chat.arrives_s
        expert.load += 1
        self.free_slots -= 1
        expert.last_offered = as_datetime(now)
        self.events.at(now + chat.handle_s, self._finish, expert)

    def _finish(self, expert: Expert) -> None:
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

    def _go_offline(self, expert: Expert) -> None:
        del self.draining[expert.id]
        self._add_online_time(expert, self.events.now)
        expert.online_since = None
        self.log.append((self.events.now, expert.id, "offline"))

    def _add_online_time(self, expert: Expert, until: float) -> None:
        start = min(expert.online_since or 0.0, self.horizon_s)
        self.online_s += max(0.0, min(until, self.horizon_s) - start)

