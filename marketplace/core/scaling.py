"""The scaling loop's rules as plain values: how many experts to invite or release, and whom.

DESIGN section 5: desired = the largest requirement over [now, now + lead time], never above what the
brand's caps can use; invite ceil((desired − online − p·pending) / p) experts, p being the measured
acceptance rate, at once; release only when the pool has been above every requirement of the last
15 minutes for those whole 15 minutes (hysteresis: going up is immediate, coming down waits), the least
loaded first; an expert released is not invited again within the same window, nor released soon after
accepting (both would be flaps). The database service and the simulation apply these same functions.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

WINDOW = dt.timedelta(minutes=15)
# Priors for an expert or brand with little track record: acceptance 1 in 2, rating 4 of 5 over 3 ratings.
ACCEPT_PRIOR = (1, 2)
RATING_PRIOR = (4.0, 3)
LOWEST_ACCEPTANCE = 0.05  # a brand whose invitations are almost never taken still invites a bounded number


@dataclass(frozen=True)
class Decision:
    """What to do, and why: `reason` is a code (`invite`, `enough`, `surplus_waiting`, `surplus_recent`,
    `release`) with its figures in `params`, put in words in the reader's language where it is shown."""

    desired: int
    invite: int
    release: int
    reason: str
    params: dict[str, int | float] = field(default_factory=dict)


@dataclass(frozen=True)
class Candidate:
    """An off-shift expert who could be invited."""

    expert_id: int
    invitations_answered: int = 0  # accepted or declined, past ones
    invitations_accepted: int = 0
    rating_sum: float = 0.0  # sum of the ratings of their chats
    ratings: int = 0
    released_at: dt.datetime | None = None  # when the planner last released them (any brand)


@dataclass(frozen=True)
class Online:
    """An expert online for the brand, who could be released."""

    expert_id: int
    open_chats: int
    online_since: dt.datetime
    releasable: bool = True  # False when on a booked shift for the brand, or invited less than a window ago


def desired_experts(requirements: Sequence[int], cap: int | None = None) -> int:
    """The largest requirement over the lead time, within the brand's cap on active experts."""
    desired = max(requirements, default=0)
    return min(desired, cap) if cap is not None else desired


def acceptance_rate(accepted: int, answered: int) -> float:
    """The smoothed share of invitations accepted (a prior of 1 in 2 for a short record)."""
    prior_accepted, prior_answered = ACCEPT_PRIOR
    rate = (accepted + prior_accepted) / (answered + prior_answered)
    return max(LOWEST_ACCEPTANCE, min(1.0, rate))


def invitations_needed(desired: int, online: int, pending: int, acceptance: float) -> int:
    """ceil((desired − online − p·pending) / p): enough invitations that, as p of them accept, the gap closes."""
    p = max(LOWEST_ACCEPTANCE, min(1.0, acceptance))
    gap = desired - online - p * pending
    if gap <= 1e-9:
        return 0
    return math.ceil(gap / p - 1e-9)


def decide(now: dt.datetime, desired: int, recent_desired: Sequence[tuple[dt.datetime, int]], online: int,
           pending: int, acceptance: float) -> Decision:
    """Scale up at once; scale down only after a whole window with more experts than any requirement in it.

    `recent_desired` holds (when, desired) of the earlier decisions, oldest first; the window is full when
    they reach back at least WINDOW from `now`, and the need in force at its start counts as part of it.
    """
    invite = invitations_needed(desired, online, pending, acceptance)
    if invite:
        return Decision(desired, invite, 0, "invite",
                        {"online": online, "pending": pending, "desired": desired, "acceptance": acceptance})
    if online <= desired:
        return Decision(desired, 0, 0, "enough", {"online": online, "desired": desired})
    start = now - WINDOW
    before = [value for at, value in recent_desired if at <= start]
    if not before:
        return Decision(desired, 0, 0, "surplus_waiting", {"online": online, "desired": desired})
    # The need in force as the window opened counts too: a gap between runs is no proof of a calm.
    peak = max([desired, before[-1], *(value for at, value in recent_desired if at > start)])
    release = max(0, online - peak)
    if not release:
        return Decision(desired, 0, 0, "surplus_recent", {"online": online, "peak": peak})
    return Decision(desired, 0, release, "release", {"online": online, "peak": peak})


def invitation_order(candidates: Sequence[Candidate], now: dt.datetime) -> list[Candidate]:
    """Whom to invite first: likeliest to accept times best rated; never someone released within the window."""
    eligible = [c for c in candidates if c.released_at is None or now - c.released_at >= WINDOW]

    def score(candidate: Candidate) -> tuple[float, int]:
        accept = acceptance_rate(candidate.invitations_accepted, candidate.invitations_answered)
        prior_mean, prior_weight = RATING_PRIOR
        rating = (candidate.rating_sum + prior_mean * prior_weight) / (candidate.ratings + prior_weight)
        return (-(accept * rating / 5), candidate.expert_id)

    return sorted(eligible, key=score)


def release_order(online: Sequence[Online]) -> list[Online]:
    """Whom to release first: the least loaded, then the one online longest; booked or new experts stay."""
    return sorted((o for o in online if o.releasable), key=lambda o: (o.open_chats, o.online_since, o.expert_id))
