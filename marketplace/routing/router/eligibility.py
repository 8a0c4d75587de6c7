"""Which experts may take a brand's conversation now (DESIGN rules 2, 4 and 5), as SQL on their load rows.

The router's pick is built once with parameters; a waiting visitor's estimate asks the same conditions with values.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import sqlalchemy as sa

from marketplace.brands.models import Brand
from marketplace.database import db, utcnow
from marketplace.experts import presence
from marketplace.experts.models import ExpertProfile
from marketplace.routing.models import ExpertLoad, Offer
from marketplace.routing.router.loads import working_expert_ids
from marketplace.shifts import seats as shifts


def _among(expert_ids: sa.Select) -> sa.Exists:
    """`ExpertLoad.expert_id IN expert_ids`, as a correlated EXISTS.

    With IN, SQLite builds the whole set and sorts every candidate; with EXISTS both databases walk
    `ix_expert_loads_pick` in rule 5's order and stop at the first expert who passes.
    """
    return expert_ids.where(expert_ids.selected_columns[0] == ExpertLoad.expert_id).exists()


def eligible_conditions(brand_id: Any, at: Any, *, on_shift: bool,
                        only: Any = None) -> list[sa.ColumnElement[bool]]:
    """Rule 4 on an `ExpertLoad` row, room aside: routable for the brand, on shift when the brand wants it, and
    among `only` (the experts the brand already uses, when it uses as many as it allows). Values or bind
    parameters alike: the router builds its query once with parameters, the wait estimate with values."""
    conditions = [_among(presence.routable_expert_ids(brand_id))]
    if on_shift:
        conditions.append(_among(shifts.on_shift_expert_ids(brand_id, at)))
    if only is not None:
        conditions.append(ExpertLoad.expert_id.in_(only))
    return conditions


def _never_offered(conversation_id: Any) -> sa.ColumnElement[bool]:
    return ~sa.exists().where(Offer.conversation_id == conversation_id, Offer.expert_id == ExpertLoad.expert_id)


@functools.cache
def _expert_pick(on_shift: bool, narrowed: bool) -> sa.Select:
    """Rules 2, 4 and 5: the least loaded, then longest idle, routable expert with room, never offered this one.

    Selects their id, locked (others' locked rows are skipped), and their user id for the offer event.
    `on_shift`: only experts holding a seat in one of the brand's shifts now. `narrowed`: only the experts
    in the `only` parameter (the brand already uses as many experts as it allows).
    """
    user_id = (sa.select(ExpertProfile.user_id).where(ExpertProfile.id == ExpertLoad.expert_id)
               .scalar_subquery().label("user_id"))
    only = sa.bindparam("only", expanding=True) if narrowed else None
    return (
        sa.select(ExpertLoad.expert_id, user_id)
        .where(ExpertLoad.load < sa.bindparam("concurrency"),
               *eligible_conditions(sa.bindparam("brand"), sa.bindparam("at"), on_shift=on_shift, only=only),
               _never_offered(sa.bindparam("conversation")))
        # Never offered counts as idlest: `ever_offered` puts them first alike on SQLite and PostgreSQL.
        .order_by(ExpertLoad.load, ExpertLoad.ever_offered, ExpertLoad.last_offered_at, ExpertLoad.expert_id)
        .limit(1)
        .with_for_update(skip_locked=True, of=ExpertLoad)
    )


def narrowed_to(brand: Brand) -> set[int] | None:
    """The experts the brand already uses, when it uses as many as it allows (`max_active_experts`); else None."""
    if brand.max_active_experts is None:
        return None
    working = working_expert_ids(brand.id)
    return working if len(working) >= brand.max_active_experts else None


def _now_eligible(brand: Brand, now: dt.datetime) -> list[sa.ColumnElement[bool]]:
    return eligible_conditions(brand.id, now, on_shift=not brand.allow_unbooked_online, only=narrowed_to(brand))


def serving_capacity(brand: Brand, now: dt.datetime | None = None) -> tuple[int, int]:
    """(experts who may take the brand's chats now, the chats and offers they hold), room aside: a wait's inputs."""
    row = db.session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(ExpertLoad.load), 0))
        .where(*_now_eligible(brand, now or utcnow()))
    ).one()
    return int(row[0]), int(row[1])


def anyone_could_take(brand: Brand, conversation_id: int, now: dt.datetime | None = None) -> bool:
    """Whether an expert who may take the conversation (rule 4) is online, now or once a chat of theirs ends.

    False when every such expert has already been offered it (a declined or expired offer never comes back to
    them), or when there is none at all: the visitor is then told that nobody can take it.
    """
    return bool(db.session.scalar(sa.select(sa.exists(
        sa.select(ExpertLoad.expert_id).where(*_now_eligible(brand, now or utcnow()), _never_offered(conversation_id))
    ))))


def eligible_expert(brand: Brand, conversation_id: int, now: dt.datetime,
                    only: set[int] | None = None) -> tuple[int, int] | None:
    """The expert to offer the conversation to, as (expert id, user id), their load row locked; None if nobody.

    `only`: `narrowed_to(brand)`, read once by the caller for all the conversations it tries.
    """
    query = _expert_pick(on_shift=not brand.allow_unbooked_online, narrowed=only is not None)
    # On the connection, past the ORM: nothing here is an entity.
    row = db.session.connection().execute(query, {
        "brand": brand.id, "concurrency": brand.expert_concurrency, "conversation": conversation_id, "at": now,
        "only": list(only or ()),
    }).first()
    return None if row is None else (row.expert_id, row.user_id)


def has_live_room(brand: Brand, expert_id: int, now: dt.datetime) -> bool:
    """Whether the expert may take one more of the brand's live chats now (rules 2 and 4); their load row is locked
    until the caller's transaction ends (lock order: the caller holds the brand's lock)."""
    query = (sa.select(ExpertLoad.expert_id)
             .where(ExpertLoad.expert_id == expert_id, ExpertLoad.load < brand.expert_concurrency,
                    *_now_eligible(brand, now))
             .with_for_update(of=ExpertLoad))
    return db.session.scalar(query) is not None


def has_async_room(brand: Brand, expert_id: int) -> bool:
    """Whether the expert may hold one more of the brand's asynchronous conversations (the brand's limit per
    expert); their load row is locked until the caller's transaction ends."""
    query = (sa.select(ExpertLoad.expert_id)
             .where(ExpertLoad.expert_id == expert_id, ExpertLoad.async_chats < brand.async_expert_limit)
             .with_for_update())
    return db.session.scalar(query) is not None
