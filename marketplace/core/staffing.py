"""How many experts a brand needs online: Erlang C, and Erlang A when visitors run out of patience.

An expert who holds k chats at once is k servers of one M/M/N queue (DESIGN section 5). The service level
is the share of all arrivals whose chat is answered within `answer_within_s`; in Erlang A a visitor who
leaves before an answer counts as not answered in time. `asa_s` is the mean wait in the queue over all
arrivals (Little's law: mean queue length / arrival rate), which is Erlang C's classic ASA when nobody
leaves.

Erlang A here is exact, not an approximation. A visitor who finds every server busy and i visitors ahead
of them moves up one place at rate nμ + iθ and leaves at rate θ, so they are served with probability
x / (x + i + 1), where x = nμ/θ, and the time to be served, given that they are, is a sum of exponentials
with rates nμ + θ, nμ + 2θ, …, nμ + (i + 1)θ. That sum is distributed as an order statistic of exponentials,
so P(served within t) is a negative binomial tail: 1 − Σ_{j≤i} NB(j; x + 1, e^{−θt}). The tests check it
against a Markov chain solved numerically, on a grid of cases.

Pure logic: the standard library, and numpy for the many-interval Erlang C sweep.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# A plan never asks for more than this many experts for one interval: targets that only an absurd number
# of experts could meet (a service level of 99.99 % with a zero-second answer) stop here instead of looping.
MAX_EXPERTS = 100_000
# Queue places past the balance point that the Erlang A sums still walk, in standard deviations: the
# probability left beyond is far below the precision the plans need (the tests compare to 1e-9).
_TAIL_SIGMAS = 14.0


@dataclass(frozen=True)
class Staffing:
    experts: int
    service_level: float  # share of arrivals answered within the target time
    asa_s: float  # mean wait in the queue over all arrivals, seconds
    abandon_rate: float  # share of arrivals who leave before an answer (0 without patience)
    occupancy: float  # share of the experts' chat slots in use
    wait_probability: float  # share of arrivals who find every slot busy


@dataclass(frozen=True)
class Queue:
    """The offered load of one interval, in rates per second."""

    arrival_rate: float  # λ
    service_rate: float  # μ, per chat slot
    abandon_rate: float = 0.0  # θ = 1 / mean patience; 0 is Erlang C

    @property
    def load(self) -> float:
        """Offered load in Erlangs (λ/μ)."""
        return self.arrival_rate / self.service_rate


def erlang_b(servers: int, load: float) -> float:
    """The Erlang B blocking probability, by the stable recursion B(n) = aB(n−1) / (n + aB(n−1))."""
    blocking = 1.0
    for n in range(1, servers + 1):
        blocking = load * blocking / (n + load * blocking)
    return blocking


def erlang_c(queue: Queue, servers: int, answer_within_s: float) -> Staffing:
    """Erlang C measures for `servers` chat slots (experts is left 0 for the caller to fill in)."""
    load = queue.load
    if queue.arrival_rate <= 0:
        return Staffing(0, 1.0, 0.0, 0.0, 0.0, 0.0)
    if servers <= load:  # the queue grows without end: nobody is answered in time, on average
        return Staffing(0, 0.0, math.inf, 0.0, 1.0, 1.0)
    blocking = erlang_b(servers, load)
    wait = servers * blocking / (servers - load * (1 - blocking))
    spare = (servers - load) * queue.service_rate  # the rate at which the queue drains when all are busy
    service_level = 1 - wait * math.exp(-spare * answer_within_s)
    return Staffing(0, service_level, wait / spare, 0.0, load / servers, wait)


def _queue_tail(queue: Queue, servers: int) -> int:
    """How many queue places past the last server the Erlang A sums must walk."""
    x = servers * queue.service_rate / queue.abandon_rate
    y = queue.arrival_rate / queue.abandon_rate
    return int(max(0.0, y - x) + _TAIL_SIGMAS * math.sqrt(y + 1) + 30)


def erlang_a(queue: Queue, servers: int, answer_within_s: float) -> Staffing:
    """Erlang A (M/M/N+M) measures for `servers` chat slots (experts left 0)."""
    if queue.abandon_rate <= 0:
        return erlang_c(queue, servers, answer_within_s)
    if queue.arrival_rate <= 0:
        return Staffing(0, 1.0, 0.0, 0.0, 0.0, 0.0)
    mu, theta, lam = queue.service_rate, queue.abandon_rate, queue.arrival_rate
    x = servers * mu / theta
    y = lam / theta
    # Stationary probabilities relative to p(all servers busy, nobody waiting) = 1. Below it the chain is
    # Erlang B's: the states 0 … n−1 weigh 1/B − 1 together.
    below = (1 / erlang_b(servers, queue.load) - 1) if servers > 0 else 0.0
    # Walking the queue: q_i = Π_{k≤i} y/(x+k) is the weight of i visitors waiting; an arrival then has i ahead.
    # Weights can be astronomically large before they fall (a heavily overloaded interval), so they are
    # rescaled whenever they grow, and `below` with them.
    stay_for_t = math.exp(-theta * answer_within_s)  # P(a stage of the wait outlasts t), per unit of rate
    b = x + 1
    nb_term = stay_for_t ** b  # NB(0; b, stay_for_t)
    nb_cdf = nb_term
    weight, total, served_in_time, waiting, queued, abandoning = 1.0, below, 0.0, 0.0, 0.0, 0.0
    for i in range(_queue_tail(queue, servers) + 1):
        if i > 0:
            weight *= y / (x + i)
            nb_term *= (b + i - 1) / i * (1 - stay_for_t)
            nb_cdf += nb_term
        total += weight
        waiting += weight
        queued += i * weight
        abandoning += weight * (i + 1) / (x + i + 1)
        served_in_time += weight * x / (x + i + 1) * max(0.0, 1 - nb_cdf)
        if weight > 1e200:
            total, waiting, queued, abandoning, served_in_time, below, weight = (
                v / 1e200 for v in (total, waiting, queued, abandoning, served_in_time, below, weight))
    abandon = abandoning / total
    occupancy = lam * (1 - abandon) / mu / servers if servers else 1.0
    return Staffing(0, (below + served_in_time) / total, queued / total / lam, abandon, occupancy, waiting / total)


def _measures(queue: Queue, servers: int, answer_within_s: float) -> Staffing:
    return erlang_a(queue, servers, answer_within_s) if queue.abandon_rate > 0 else \
        erlang_c(queue, servers, answer_within_s)


def _meets(measures: Staffing, target_sl: float, max_abandon: float | None) -> bool:
    return measures.service_level >= target_sl and (max_abandon is None or measures.abandon_rate <= max_abandon)


def _check(interval_s: float, handle_s: float, concurrency: int, target_sl: float, answer_within_s: float,
           patience_s: float | None, max_abandon: float | None) -> None:
    if interval_s <= 0:
        raise ValueError("interval_s must be positive")
    if handle_s <= 0:
        raise ValueError("handle_s must be positive")
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    if not 0 <= target_sl < 1:
        raise ValueError("target_sl must be at least 0 and below 1")
    if answer_within_s < 0:
        raise ValueError("answer_within_s must not be negative")
    if patience_s is not None and patience_s <= 0:
        raise ValueError("patience_s must be positive")
    if max_abandon is not None and not 0 < max_abandon <= 1:
        raise ValueError("max_abandon must be above 0 and at most 1")


def staff(arrivals: float, interval_s: float, handle_s: float, concurrency: int, target_sl: float,
          answer_within_s: float, patience_s: float | None = None, max_abandon: float | None = None) -> Staffing:
    """The fewest experts meeting the service level (and the abandonment cap); zero arrivals need none.

    `arrivals` is the expected count in the interval. Overload never raises: past MAX_EXPERTS the answer
    stops there.
    """
    _check(interval_s, handle_s, concurrency, target_sl, answer_within_s, patience_s, max_abandon)
    if arrivals <= 0:
        return Staffing(0, 1.0, 0.0, 0.0, 0.0, 0.0)
    queue = Queue(arrivals / interval_s, 1 / handle_s, 1 / patience_s if patience_s else 0.0)

    def measured(experts: int) -> Staffing:
        found = _measures(queue, experts * concurrency, answer_within_s)
        return Staffing(experts, found.service_level, found.asa_s, found.abandon_rate, found.occupancy,
                        found.wait_probability)

    # Both measures improve with every expert, so search: grow from a guess until met, then step back.
    low, high = 0, min(MAX_EXPERTS, max(1, math.ceil(queue.load / concurrency)))
    while not _meets(measured(high), target_sl, max_abandon):
        if high == MAX_EXPERTS:
            return measured(high)
        low, high = high + 1, min(MAX_EXPERTS, high * 2)
    while low < high:
        middle = (low + high) // 2
        if _meets(measured(middle), target_sl, max_abandon):
            high = middle
        else:
            low = middle + 1
    return measured(high)


ArrayLike = float | Sequence[float] | np.ndarray


def erlang_c_sweep(arrivals: ArrayLike, interval_s: float, handle_s: ArrayLike, concurrency: ArrayLike,
                   target_sl: ArrayLike, answer_within_s: ArrayLike) -> list[Staffing]:
    """Erlang C's answer for many intervals at once, each with its own parameters (numpy broadcasting).

    One Erlang B recursion walks every interval together, raising the slots one at a time and settling each
    interval at the first whole number of experts that meets its target: the planner's sweep over every
    brand and quarter hour costs about as much as its busiest interval.
    """
    arrivals, handle, chats, target, within = np.broadcast_arrays(
        np.asarray(arrivals, dtype=float), np.asarray(handle_s, dtype=float), np.asarray(concurrency, dtype=int),
        np.asarray(target_sl, dtype=float), np.asarray(answer_within_s, dtype=float))
    load = arrivals / interval_s * handle
    experts = np.where(load > 0, -1, 0)
    service_level, wait = np.ones_like(load), np.zeros_like(load)
    blocking = np.ones_like(load)
    servers = 0
    limit = MAX_EXPERTS * int(chats.max(initial=1))
    while (experts < 0).any() and servers < limit:
        servers += 1
        blocking = load * blocking / (servers + load * blocking)
        judged = (experts < 0) & (servers % chats == 0) & (servers > load)
        if not judged.any():
            continue
        spare = np.where(judged, servers - load, 1.0)  # the rest divide safely and are not used
        waits = servers * blocking / (spare + load * blocking)
        levels = 1 - waits * np.exp(-spare / handle * within)
        met = judged & (levels >= target)
        experts = np.where(met, servers // chats, experts)
        service_level, wait = np.where(met, levels, service_level), np.where(met, waits, wait)
    experts = np.where(experts < 0, MAX_EXPERTS, experts)
    slots = np.maximum(experts * chats, 1)
    with np.errstate(divide="ignore"):
        asa = np.where(load > 0, wait * handle / np.maximum(slots - load, 1e-12), 0.0)
    occupancy = load / slots
    return [Staffing(int(e), float(sl), float(a), 0.0, float(o), float(w))
            for e, sl, a, o, w in zip(experts.ravel(), service_level.ravel(), asa.ravel(), occupancy.ravel(),
                                      wait.ravel(), strict=True)]


def staff_intervals(arrivals: Sequence[float], interval_s: float, handle_s: float, concurrency: int,
                    target_sl: float, answer_within_s: float, patience_s: float | None = None,
                    max_abandon: float | None = None) -> list[Staffing]:
    """`staff` for each interval of a brand's day: one Erlang C sweep, or each interval's own Erlang A search."""
    _check(interval_s, handle_s, concurrency, target_sl, answer_within_s, patience_s, max_abandon)
    if patience_s is None:
        return erlang_c_sweep(arrivals, interval_s, handle_s, concurrency, target_sl, answer_within_s)
    return [staff(count, interval_s, handle_s, concurrency, target_sl, answer_within_s, patience_s, max_abandon)
            for count in arrivals]
