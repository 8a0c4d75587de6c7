"""A routing pass's experts: the best few read once, locked, and the pass's picks made among them in memory.

A pass offers several of a brand's conversations in one transaction (`decisions._decide`). Rule 5's order is
(load, never offered first, longest idle, id), and a pass only ever steps an expert's load up and their last offer
to now, so the experts it did not read all stay behind the last one it read (its `boundary`). A pick in memory is
therefore exactly the pick the database would make as long as the expert it finds is not behind that boundary;
when it is (every expert read is full, or was offered this conversation before, or is not among those the brand
may still use), the pass asks the database, as a pass of one decision would.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import sqlalchemy as sa

from marketplace.brands.models import Brand
from marketplace.database import DriverStatement, db
from marketplace.experts import presence
from marketplace.experts.models import ExpertProfile
from marketplace.notifications import services as notifications
from marketplace.routing.models import ExpertLoad, Offer
from marketplace.routing.router.eligibility import eligible_conditions

# A NULL last offer sorts first in both databases (`ever_offered` is false for it); any datetime will do.
_NEVER = dt.datetime.min  # noqa: DTZ901 - the schema stores naive UTC

Key = tuple[int, bool, dt.datetime, int]


@dataclass
class Candidate:
    expert_id: int
    user_id: int
    load: int
    last_offered_at: dt.datetime | None
    push: bool  # whether they have a device for Web Push (the offer goes there too)

    def key(self) -> Key:
        """Rule 5's order, as `eligibility._expert_pick` sorts."""
        offered = self.last_offered_at is not None
        return self.load, offered, self.last_offered_at or _NEVER, self.expert_id


@functools.cache
def _best_experts(on_shift: bool) -> DriverStatement:
    """The `size` best routable experts with room for the brand, rule 5's order, their load rows locked (others'
    locked rows are skipped): the pick of `eligibility._expert_pick` without a conversation. With each, whether
    they take Web Push, which the offer event needs (read here, it costs no statement of its own)."""
    profile = (sa.select(ExpertProfile.user_id).where(ExpertProfile.id == ExpertLoad.expert_id)
               .correlate(ExpertLoad).scalar_subquery())  # the row's expert, in the push test's subquery too
    user_id = profile.label("user_id")
    # A join rather than the pick's EXISTS: the database may start from the brand's own experts and sort those,
    # where walking every expert's load in order passes over all the other brands' (a pass reads a few dozen).
    routable = presence.routable_expert_ids(sa.bindparam("brand")).subquery()
    return DriverStatement(
        sa.select(ExpertLoad.expert_id, user_id, ExpertLoad.load, ExpertLoad.last_offered_at,
                  notifications.takes_push(profile).label("push"))
        .join(routable, routable.c.expert_id == ExpertLoad.expert_id)
        .where(ExpertLoad.load < sa.bindparam("concurrency"),
               *eligible_conditions(sa.bindparam("brand"), sa.bindparam("at"), on_shift=on_shift)[1:])
        .order_by(ExpertLoad.load, ExpertLoad.ever_offered, ExpertLoad.last_offered_at, ExpertLoad.expert_id)
        .limit(sa.bindparam("size", type_=sa.Integer))
        .with_for_update(skip_locked=True, of=ExpertLoad)
    )


class Candidates:
    """The experts a pass may offer the brand's conversations to, as read when it began and stepped up as it offers."""

    def __init__(self, brand: Brand, now: dt.datetime, size: int) -> None:
        rows = _best_experts(not brand.allow_unbooked_online).rows(db.session.connection(), {
            "brand": brand.id, "concurrency": brand.expert_concurrency, "at": now, "size": size,
        })
        self.concurrency = brand.expert_concurrency
        self.experts = {expert_id: Candidate(expert_id, user_id, load, last_offered_at, bool(push))
                        for expert_id, user_id, load, last_offered_at, push in rows}
        # Every expert not read sorts behind the last one read; None when there is nobody else.
        self.boundary: Key | None = self.experts[rows[-1][0]].key() if len(rows) == size else None

    def best(self, offered: AbstractSet[int], only: set[int] | None) -> Candidate | None:
        """The expert the database would pick for a conversation already offered to `offered`, among `only` when
        given; None when nobody may take it. Raises `Unsure` when that expert may be one the pass did not read."""
        best = min((candidate for candidate in self.experts.values()
                    if candidate.load < self.concurrency and candidate.expert_id not in offered
                    and (only is None or candidate.expert_id in only)),
                   key=Candidate.key, default=None)
        if self.boundary is not None and (best is None or best.key() > self.boundary):
            raise Unsure
        return best

    def took(self, expert_id: int, at: dt.datetime) -> None:
        """The pass offered the expert a conversation at `at`: they move on in rule 5's order."""
        candidate = self.experts.get(expert_id)
        if candidate is not None:
            candidate.load += 1
            candidate.last_offered_at = at


class Unsure(Exception):
    """The pick may be an expert the pass did not read: ask the database."""


def offered_experts(conversation_ids: list[int]) -> dict[int, set[int]]:
    """The experts each conversation was ever offered to (rule 5: never twice to the same expert)."""
    offered: dict[int, set[int]] = {conversation_id: set() for conversation_id in conversation_ids}
    if conversation_ids:
        for conversation_id, expert_id in db.session.execute(
                sa.select(Offer.conversation_id, Offer.expert_id).where(Offer.conversation_id.in_(conversation_ids))):
            offered[conversation_id].add(expert_id)
    return offered
