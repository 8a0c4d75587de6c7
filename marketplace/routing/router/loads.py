"""The brand's lock and the load counters the router decides on, kept equal to the live rows.

Every routing transaction begins by locking the brand's load row (`lock_brand`), so decisions for one
brand take turns. Lock order, everywhere: brand load, then conversation and offer, then expert load.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql, sqlite

from marketplace.brands import rates
from marketplace.brands.models import Brand, RateCard
from marketplace.core import clock
from marketplace.core import routing as rules
from marketplace.database import DriverStatement, db, use_case, utcnow
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


def brand_caps(brand: Brand, now: dt.datetime | None = None, price_cents: int | None = None) -> rules.Caps:
    """The brand's caps as they stand now, with the price on the rate card in effect (`price_cents`, 0 without a
    card, when the caller read it).

    The price counts only against a monthly budget: without one it is left at 0 and the card is not read
    (that read was one statement in every routing decision).
    """
    price = 0
    if brand.monthly_budget_cents is not None:
        if price_cents is None:
            card = rates.card_in_effect(brand, now)
            price_cents = card.price_cents if card else 0
        price = price_cents
    return rules.Caps(brand.max_concurrent, brand.daily_cap, brand.monthly_budget_cents, price,
                      brand.max_active_experts, brand.expert_concurrency)


def usage_of(load: BrandLoad | PassLoad) -> rules.Usage:
    return rules.Usage(load.open_conversations, load.pending_offers, load.day_accepted, load.month_committed_cents)


# A decision's statements are built once, with parameters (the functools.cache functions of the router):
# building a statement and computing its cache key each time cost more Python than the database took to run it.


@functools.cache
def _brand_lock() -> sa.Select:
    """Lock the brand's load row and read the brand with it, after the lock: a cap changed a moment ago counts."""
    return (sa.select(BrandLoad, Brand).join(Brand, Brand.id == BrandLoad.brand_id)
            .where(BrandLoad.brand_id == sa.bindparam("brand")).with_for_update(of=BrandLoad)
            .execution_options(populate_existing=True))


def _new_day(load_day: dt.date | None, load_month: str | None, today: dt.date) -> dict[str, Any]:
    """The brand load's counters that start again on the brand's new local day `today` and its month (none on the
    same day)."""
    changes: dict[str, Any] = {}
    if load_day != today:
        changes.update(day=today, day_accepted=0)
    if load_month != today.strftime("%Y-%m"):
        changes.update(month=today.strftime("%Y-%m"), month_committed_cents=0)
    return changes


def _missing_load(brand_id: int) -> None:
    """Give the brand its load row, as the first routing transaction for it finds none."""
    if db.session.get(Brand, brand_id) is None:
        raise NotFound(_l("No such brand."))
    insert_ignore(BrandLoad.__table__, brand_id=brand_id, open_conversations=0, pending_offers=0,
                  async_conversations=0, day_accepted=0, month_committed_cents=0, refusals=0)


def lock_brand(brand_id: int, now: dt.datetime | None = None) -> tuple[BrandLoad, Brand]:
    """Begin a routing transaction: lock the brand's load row, rolled over to today in the brand's timezone."""
    row = db.session.execute(_brand_lock(), {"brand": brand_id}).first()
    if row is None:
        _missing_load(brand_id)
        row = db.session.execute(_brand_lock(), {"brand": brand_id}).one()
    load, brand = row
    for name, value in _new_day(load.day, load.month, clock.local_day(now or utcnow(), brand.timezone)).items():
        setattr(load, name, value)
    return load, brand


@dataclass
class PassBrand:
    """The brand as a routing pass decides for it: the columns of a `Brand` that the pass's picks, caps and events
    read (its currency: what an offer pays is shown; its reopen window: the visitor's event says how long they may
    come back), each named as the `Brand`'s."""

    id: int
    name: str
    timezone: str
    allow_unbooked_online: bool
    offer_timeout_seconds: int
    expert_concurrency: int
    max_concurrent: int | None
    max_active_experts: int | None
    daily_cap: int | None
    monthly_budget_cents: int | None
    currency: str
    reopen_window_hours: int


@dataclass
class PassLoad:
    """The brand's load counters a routing pass decides on (`usage_of`), each named as the `BrandLoad`'s."""

    open_conversations: int
    pending_offers: int
    day_accepted: int
    month_committed_cents: int


# The columns a pass's lock reads, in the order its records take them.
_PASS_BRAND_COLUMNS = [getattr(Brand, field.name) for field in dataclasses.fields(PassBrand)]
_PASS_LOAD_COLUMNS = [getattr(BrandLoad, field.name) for field in dataclasses.fields(PassLoad)]
_BRAND_FIELDS, _LOAD_FIELDS = len(_PASS_BRAND_COLUMNS), len(_PASS_LOAD_COLUMNS)


@functools.cache
def _pass_lock() -> DriverStatement:
    """`_brand_lock` for a routing pass, on the driver's cursor: the brand's columns a pass reads and its load's
    counters as plain values (mapped objects made a quarter of a pass's Python; the whole brand row, JSON columns
    and all, had doubled the cost of the read before), and the terms of the rate card in effect on the local day
    `day` (what an offer pays, and the price against a monthly budget; a statement of their own in every pass
    before)."""
    card = rates.card_on(Brand.id, sa.bindparam("day", type_=sa.Date))
    return DriverStatement(
        sa.select(*_PASS_BRAND_COLUMNS, *_PASS_LOAD_COLUMNS, BrandLoad.day, BrandLoad.month,
                  RateCard.price_cents, RateCard.commission_bps, RateCard.bonus_rules)
        .select_from(BrandLoad).join(Brand, Brand.id == BrandLoad.brand_id).outerjoin(RateCard, RateCard.id == card)
        .where(BrandLoad.brand_id == sa.bindparam("brand")).with_for_update(of=BrandLoad))


@functools.cache
def _roll_over() -> DriverStatement:
    return DriverStatement(sa.update(BrandLoad).where(BrandLoad.brand_id == sa.bindparam("brand"))
                           .values(day=sa.bindparam("day", type_=sa.Date), day_accepted=sa.bindparam("day_accepted"),
                                   month=sa.bindparam("month"),
                                   month_committed_cents=sa.bindparam("month_committed_cents")))


# Each brand's timezone as last read, by id: the local day a pass's lock reads the rate card for, before it has
# read the brand. A timezone changed since is seen in the row, and the card read again for the right day.
_timezones: dict[int, str] = {}


def lock_brand_for_pass(brand_id: int, now: dt.datetime) -> tuple[PassLoad, PassBrand, rates.Terms | None]:
    """`lock_brand` for a routing pass: the brand's load counters and the brand as the pass reads them, and the
    terms of the rate card in effect now (`rates.terms_in_effect`), read by the same statement."""
    day = clock.local_day(now, _timezones.get(brand_id, "UTC"))
    connection = db.session.connection()
    parameters = {"brand": brand_id, "day": day}
    rows = _pass_lock().rows(connection, parameters)
    if not rows:
        _missing_load(brand_id)
        rows = _pass_lock().rows(connection, parameters)
    row = rows[0]
    brand = PassBrand(*row[:_BRAND_FIELDS])
    load = PassLoad(*row[_BRAND_FIELDS:_BRAND_FIELDS + _LOAD_FIELDS])
    load_day, load_month, price, commission, bonuses = row[_BRAND_FIELDS + _LOAD_FIELDS:]
    _timezones[brand_id] = brand.timezone
    today = clock.local_day(now, brand.timezone)
    if changes := _new_day(load_day, load_month, today):  # the brand's first pass of a day or month
        load.day_accepted = changes.get("day_accepted", load.day_accepted)
        load.month_committed_cents = changes.get("month_committed_cents", load.month_committed_cents)
        _roll_over().run(connection, {
            "brand": brand_id, "day": changes.get("day", load_day), "day_accepted": load.day_accepted,
            "month": changes.get("month", load_month), "month_committed_cents": load.month_committed_cents})
    if today != day:  # the card was read for another day than the brand's own: again, for its own
        return load, brand, rates.terms_in_effect(brand, now)
    return load, brand, None if price is None else (price, commission, bonuses or [])


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
