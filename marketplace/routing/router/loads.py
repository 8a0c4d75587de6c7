"""The brand's lock and the load counters the router decides on, kept equal to the live rows.

Every routing transaction begins by locking the brand's load row (`lock_brand`), so decisions for one
brand take turns. Lock order, everywhere: brand load, then conversation and offer, then expert load.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql, sqlite

from marketplace.brands import rates
from marketplace.brands.models import Brand
from marketplace.core import clock
from marketplace.core import routing as rules
from marketplace.database import db, use_case, utcnow
from marketplace.errors import NotFound
from marketplace.experts import presence
from marketplace.routing.models import (
    LIVE_STATUSES,
    BrandLoad,
    Conversation,
    ConversationStatus,
    ExpertLoad,
    Offer,
    OfferStatus,
)


def upsert(table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    """An insert into `table` in the database's own form: only that one says what a conflict does."""
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def insert_ignore(table: sa.Table, **values: object) -> None:
    """Insert a row unless one with the same key is there already."""
    db.session.execute(upsert(table).values(**values).on_conflict_do_nothing())


def brand_caps(brand: Brand, now: dt.datetime | None = None) -> rules.Caps:
    """The brand's caps as they stand now, with the price on the rate card in effect.

    The price counts only against a monthly budget: without one it is left at 0 and the card is not read
    (that read was one statement in every routing decision).
    """
    price = 0
    if brand.monthly_budget_cents is not None:
        card = rates.card_in_effect(brand, now)
        price = card.price_cents if card else 0
    return rules.Caps(brand.max_concurrent, brand.daily_cap, brand.monthly_budget_cents, price,
                      brand.max_active_experts, brand.expert_concurrency)


def usage_of(load: BrandLoad) -> rules.Usage:
    return rules.Usage(load.open_conversations, load.pending_offers, load.day_accepted, load.month_committed_cents)


# A decision's statements are built once, with parameters (the functools.cache functions of the router):
# building a statement and computing its cache key each time cost more Python than the database took to run it.

# The brand's columns a routing decision reads (its own, the caps', and the offer event's).
DECISION_BRAND_COLUMNS = (Brand.name, Brand.timezone, Brand.allow_unbooked_online, Brand.offer_timeout_seconds,
                          Brand.expert_concurrency, Brand.max_concurrent, Brand.max_active_experts, Brand.daily_cap,
                          Brand.monthly_budget_cents, Brand.currency,  # currency: what an offer pays is shown
                          Brand.reopen_window_hours)  # the visitor's event says how long they may come back


@functools.cache
def _brand_lock(decision: bool) -> sa.Select:
    """Lock the brand's load row and read the brand with it, after the lock: a cap changed a moment ago counts.

    `decision`: load only DECISION_BRAND_COLUMNS of the brand; the whole row, JSON columns and all, doubled
    the cost of the read (a column left out is still loaded when first touched).
    """
    query = (sa.select(BrandLoad, Brand).join(Brand, Brand.id == BrandLoad.brand_id)
             .where(BrandLoad.brand_id == sa.bindparam("brand")).with_for_update(of=BrandLoad)
             .execution_options(populate_existing=True))
    return query.options(so.load_only(*DECISION_BRAND_COLUMNS)) if decision else query


def lock_brand(brand_id: int, now: dt.datetime | None = None, *,
               decision: bool = False) -> tuple[BrandLoad, Brand]:
    """Begin a routing transaction: lock the brand's load row, rolled over to today in the brand's timezone.

    `decision`: for the router's own decisions, which read only some of the brand's columns.
    """
    query = _brand_lock(decision)
    row = db.session.execute(query, {"brand": brand_id}).first()
    if row is None:
        if db.session.get(Brand, brand_id) is None:
            raise NotFound(_l("No such brand."))
        insert_ignore(BrandLoad.__table__, brand_id=brand_id, open_conversations=0, pending_offers=0,
                      async_conversations=0, day_accepted=0, month_committed_cents=0, refusals=0)
        row = db.session.execute(query, {"brand": brand_id}).one()
    load, brand = row
    today = clock.local_day(now or utcnow(), brand.timezone)
    if load.day != today:
        load.day, load.day_accepted = today, 0
    if load.month != today.strftime("%Y-%m"):
        load.month, load.month_committed_cents = today.strftime("%Y-%m"), 0
    return load, brand


def ensure_expert_load(expert_id: int) -> None:
    """Create the expert's load row if it is missing (the caller commits)."""
    insert_ignore(ExpertLoad.__table__, expert_id=expert_id, open_chats=0, pending_offers=0, async_chats=0)


@use_case
def ensure_available_loads() -> int:
    """Give every available expert a load row, so the router can consider them."""
    have = set(db.session.scalars(sa.select(ExpertLoad.expert_id)))
    missing = presence.available_expert_ids() - have
    for expert_id in sorted(missing):
        ensure_expert_load(expert_id)
    return len(missing)


def working_expert_ids(brand_id: int) -> set[int]:
    """The experts holding one of the brand's chats or offers (consistent under the brand's lock)."""
    active = sa.select(Conversation.expert_id).where(Conversation.brand_id == brand_id,
                                                     Conversation.status == ConversationStatus.ACTIVE)
    offered = sa.select(Offer.expert_id).where(Offer.brand_id == brand_id, Offer.status == OfferStatus.PENDING)
    return set(db.session.scalars(sa.union(active, offered)))


def _counted(key: sa.ColumnElement, *condition: sa.ColumnElement[bool]) -> dict[int, int]:
    """How many rows match `condition`, by `key` (an expert or a brand)."""
    return dict(db.session.execute(sa.select(key, sa.func.count()).where(*condition).group_by(key)).all())


def _differences(name: str, loads: Iterable[tuple[int, tuple[int, ...]]],
                 rows: tuple[dict[int, int], ...]) -> list[str]:
    """Each load whose counters differ from the counts of its rows, described."""
    problems = []
    for key, counters in loads:
        counted = tuple(counts.get(key, 0) for counts in rows)
        if counters != counted:
            problems.append(f"{name} {key}: counters {'/'.join(map(str, counters))}, "
                            f"rows {'/'.join(map(str, counted))}")
    return problems


def counters_match() -> list[str]:
    """Compare every load counter with the rows it counts; the list of differences (empty when right)."""
    pending = Offer.status == OfferStatus.PENDING
    away = Conversation.status == ConversationStatus.ASYNCHRONOUS
    experts = _differences(
        "expert", ((load.expert_id, (load.pending_offers, load.open_chats, load.async_chats))
                   for load in db.session.scalars(sa.select(ExpertLoad))),
        (_counted(Offer.expert_id, pending),
         _counted(Conversation.expert_id, Conversation.status == ConversationStatus.ACTIVE),
         _counted(Conversation.expert_id, away)))
    brands = _differences(
        "brand", ((load.brand_id, (load.open_conversations, load.pending_offers, load.async_conversations))
                  for load in db.session.scalars(sa.select(BrandLoad))),
        (_counted(Conversation.brand_id, Conversation.status.in_(LIVE_STATUSES)), _counted(Offer.brand_id, pending),
         _counted(Conversation.brand_id, away)))
    return experts + brands


def move_expert_load(expert_id: int, **steps: int) -> None:
    """Step the expert's counters (`open_chats=-1, async_chats=1`, ...) in the database, not from what was read."""
    db.session.execute(sa.update(ExpertLoad).where(ExpertLoad.expert_id == expert_id)
                       .values({name: getattr(ExpertLoad, name) + step for name, step in steps.items()})
                       .execution_options(synchronize_session=False))
