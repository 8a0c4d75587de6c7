"""A simulated floor at a constant rate on a fixed number of experts, to hold up against queueing theory."""

from __future__ import annotations

import math
from typing import Any

from marketplace.core.simulation.floor import Chat, Events, Expert, Floor, Outcome, dice


def simulate_steady(arrivals: float, interval_s: float, handle_s: float, concurrency: int, experts: int,
                    answer_within_s: float, patience_s: float | None = None, hours: float = 200.0,
                    warmup_hours: float = 2.0, seed: int = 0) -> Outcome:
    """A constant rate (`arrivals` per `interval_s`) on a fixed number of experts, measured after a warm-up."""
    rng = dice("steady", seed)
    horizon = (hours + warmup_hours) * 3600
    events = Events()
    floor = Floor(events, concurrency, answer_within_s, horizon, count_from_s=warmup_hours * 3600)
    for expert_id in range(experts):
        floor.join(Expert(expert_id))
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
