"""The router: hands each waiting conversation to one eligible, available expert, and moves offers on.

Every decision is one short transaction that first locks the brand's load row, so decisions for one
brand take turns (SQLite's BEGIN IMMEDIATE serialises all of them anyway). Experts are picked with
`FOR UPDATE SKIP LOCKED`, so routers of different brands never wait on each other for an expert.
Lock order, everywhere: brand load, then conversation and offer, then expert load. Events go out only
after the commit. Whoever frees capacity or adds work calls `route_brand` (or `after_freed`) once
its own transaction has committed; the safety sweep catches what a race between two brands leaves.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.attributes import set_committed_value

from marketplace.brands import rates
from marketplace.brands.models import Brand
from marketplace.core import routing as rules
from marketplace.database import db, utcnow
from marketplace.errors import Conflict, NotFound
from marketplace.experts import enrolments, presence
from marketplace.experts import services as experts
from marketplace.experts.models import ExpertProfile
from marketplace.routing import events, networks
from marketplace.routing.models import (
    BrandLoad,
    Conversation,
    ConversationStatus,
    ExpertLoad,
    Offer,
    OfferStatus,
)
from marketplace.shifts import seats as shifts

log = logging.getLogger("marketplace.routing")

# The most waiting conversations one decision looks through for one an expert may still take.
QUEUE_LOOKAHEAD = 50


@dataclass(frozen=True)
class Decision:
    offer_id: int
    conversation_id: int
    expert_id: int


def _insert_ignore(table: sa.Table, **values: object) -> None:
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(insert(table).values(**values).on_conflict_do_nothing())


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


# A decision's statements are built once, with parameters (the functools.cache functions below): building
# a statement and computing its cache key each time cost more Python than the database took to run it.

# The brand's columns a routing decision reads (its own, the caps', and the offer event's).
DECISION_BRAND_COLUMNS = (Brand.name, Brand.timezone, Brand.allow_unbooked_online, Brand.offer_timeout_seconds,
                          Brand.expert_concurrency, Brand.max_concurrent, Brand.max_active_experts, Brand.daily_cap,
                          Brand.monthly_budget_cents, Brand.currency)  # currency: what an offer pays is shown


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
        _insert_ignore(BrandLoad.__table__, brand_id=brand_id, open_conversations=0, pending_offers=0,
                       day_accepted=0, month_committed_cents=0, refusals=0)
        row = db.session.execute(query, {"brand": brand_id}).one()
    load, brand = row
    today = local_time(brand, now or utcnow()).date()
    if load.day != today:
        load.day, load.day_accepted = today, 0
    if load.month != today.strftime("%Y-%m"):
        load.month, load.month_committed_cents = today.strftime("%Y-%m"), 0
    return load, brand


def local_time(brand: Brand, at: dt.datetime) -> dt.datetime:
    return at.astimezone(zoneinfo.ZoneInfo(brand.timezone))


def ensure_expert_load(expert_id: int) -> None:
    """Create the expert's load row if it is missing (the caller commits)."""
    _insert_ignore(ExpertLoad.__table__, expert_id=expert_id, open_chats=0, pending_offers=0)


def ensure_available_loads() -> int:
    """Give every available expert a load row, so the router can consider them; commits."""
    have = set(db.session.scalars(sa.select(ExpertLoad.expert_id)))
    missing = presence.available_expert_ids() - have
    for expert_id in sorted(missing):
        ensure_expert_load(expert_id)
    db.session.commit()
    return len(missing)


def working_expert_ids(brand_id: int) -> set[int]:
    """The experts holding one of the brand's chats or offers (consistent under the brand's lock)."""
    active = sa.select(Conversation.expert_id).where(Conversation.brand_id == brand_id,
                                                     Conversation.status == ConversationStatus.ACTIVE)
    offered = sa.select(Offer.expert_id).where(Offer.brand_id == brand_id, Offer.status == OfferStatus.PENDING)
    return set(db.session.scalars(sa.union(active, offered)))


def _among(expert_ids: sa.Select) -> sa.Exists:
    """`ExpertLoad.expert_id IN expert_ids`, as a correlated EXISTS.

    With IN, SQLite builds the whole set and sorts every candidate; with EXISTS both databases walk
    `ix_expert_loads_pick` in rule 5's order and stop at the first expert who passes.
    """
    return expert_ids.where(expert_ids.selected_columns[0] == ExpertLoad.expert_id).exists()


def _eligible(brand_id: Any, at: Any, *, on_shift: bool, only: Any = None) -> list[sa.ColumnElement[bool]]:
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
               *_eligible(sa.bindparam("brand"), sa.bindparam("at"), on_shift=on_shift, only=only),
               _never_offered(sa.bindparam("conversation")))
        # Never offered counts as idlest: `ever_offered` puts them first alike on SQLite and PostgreSQL.
        .order_by(ExpertLoad.load, ExpertLoad.ever_offered, ExpertLoad.last_offered_at, ExpertLoad.expert_id)
        .limit(1)
        .with_for_update(skip_locked=True, of=ExpertLoad)
    )


def _narrowed_to(brand: Brand) -> set[int] | None:
    """The experts the brand already uses, when it uses as many as it allows (`max_active_experts`); else None."""
    if brand.max_active_experts is None:
        return None
    working = working_expert_ids(brand.id)
    return working if len(working) >= brand.max_active_experts else None


def _now_eligible(brand: Brand, now: dt.datetime) -> list[sa.ColumnElement[bool]]:
    return _eligible(brand.id, now, on_shift=not brand.allow_unbooked_online, only=_narrowed_to(brand))


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


def _eligible_expert(brand: Brand, conversation_id: int, now: dt.datetime,
                     only: set[int] | None = None) -> tuple[int, int] | None:
    """The expert to offer the conversation to, as (expert id, user id), their load row locked; None if nobody."""
    query = _expert_pick(on_shift=not brand.allow_unbooked_online, narrowed=only is not None)
    # On the connection, past the ORM: nothing here is an entity.
    row = db.session.connection().execute(query, {
        "brand": brand.id, "concurrency": brand.expert_concurrency, "conversation": conversation_id, "at": now,
        "only": list(only or ()),
    }).first()
    return None if row is None else (row.expert_id, row.user_id)


@functools.cache
def _queue() -> sa.Select:
    return (sa.select(Conversation)
            .where(Conversation.brand_id == sa.bindparam("brand"),
                   Conversation.status == ConversationStatus.WAITING)
            .order_by(Conversation.priority.desc(), Conversation.queued_at, Conversation.id)
            .execution_options(populate_existing=True))


@functools.cache
def _queue_head() -> sa.Select:
    return _queue().limit(1)


def _waiting_in_order(brand_id: int) -> Iterator[Conversation]:
    """The brand's waiting conversations in rule 5's order, read a page at a time as the caller asks for more.

    No row lock on the queue: every change of a conversation's status holds the brand's lock, as the caller
    does, so the pages stay consistent. A page is not enough on its own: when the first page was declined by
    every expert with room, a conversation behind it must still be found (rule 6). The first page is the
    conversation nearly every decision takes; the next ones are QUEUE_LOOKAHEAD long.
    """
    parameters = {"brand": brand_id}
    page = db.session.scalars(_queue_head(), parameters).all()
    offset = 0
    while page:
        yield from page
        offset += len(page)
        page = db.session.scalars(_queue().offset(offset).limit(QUEUE_LOOKAHEAD), parameters).all()


@functools.cache
def _offer_statements() -> tuple[sa.Update, sa.Insert, sa.Update, sa.Update]:
    conversation = (sa.update(Conversation)
                    .where(Conversation.id == sa.bindparam("conversation"),
                           Conversation.status == ConversationStatus.WAITING)
                    .values(status=ConversationStatus.OFFERED))
    offer = (sa.insert(Offer)
             .values(conversation_id=sa.bindparam("conversation"), brand_id=sa.bindparam("brand"),
                     expert_id=sa.bindparam("expert"), status=OfferStatus.PENDING,
                     created_at=sa.bindparam("at"), expires_at=sa.bindparam("expires"))
             .returning(Offer.id))
    expert = (sa.update(ExpertLoad).where(ExpertLoad.expert_id == sa.bindparam("expert"))
              .values(pending_offers=ExpertLoad.pending_offers + 1, last_offered_at=sa.bindparam("at")))
    brand = (sa.update(BrandLoad).where(BrandLoad.brand_id == sa.bindparam("brand"))
             .values(pending_offers=BrandLoad.pending_offers + 1))
    return conversation, offer, expert, brand


def _make_offer(conversation: Conversation, brand: Brand, expert_id: int, now: dt.datetime) -> Offer | None:
    """Reserve the expert for the conversation: the offer row and the three counts that move with it.

    Plain statements rather than a flush of the unit of work, which took a quarter of the decision's time.
    The caller holds the brand's lock and the expert's; the conversation moves by compare-and-set all the
    same (None when it was no longer waiting), and the counters step up in the database, not from what was
    read. The offer returned is not in the session: it carries what the offer event needs.
    """
    move, insert, expert_load, brand_load = _offer_statements()
    connection = db.session.connection()
    values = {"conversation": conversation.id, "brand": brand.id, "expert": expert_id, "at": now,
              "expires": now + dt.timedelta(seconds=brand.offer_timeout_seconds)}
    if connection.execute(move, values).rowcount != 1:
        return None
    offer_id = connection.execute(insert, values).scalar_one()
    connection.execute(expert_load, values)
    connection.execute(brand_load, values)
    set_committed_value(conversation, "status", ConversationStatus.OFFERED)
    return Offer(id=offer_id, conversation_id=conversation.id, brand_id=brand.id, expert_id=expert_id,
                 status=OfferStatus.PENDING, created_at=now, expires_at=values["expires"])


def _decide(brand_id: int) -> Decision | None:
    """Make one offer for the brand if any waiting conversation can go to any expert; one transaction."""
    now = utcnow()
    load, brand = lock_brand(brand_id, now, decision=True)
    if not rules.may_offer(brand_caps(brand, now), usage_of(load)):
        db.session.commit()
        return None
    only = _narrowed_to(brand)
    for conversation in _waiting_in_order(brand_id):
        picked = _eligible_expert(brand, conversation.id, now, only)
        if picked is None:
            tried = db.session.scalar(sa.select(sa.exists().where(Offer.conversation_id == conversation.id)))
            if not tried:
                break  # nobody at all has room: later conversations will not find anyone either
            continue
        expert_id, user_id = picked
        offer = _make_offer(conversation, brand, expert_id, now)
        if offer is None:
            continue
        events.offer_made(offer, conversation, brand, user_id)
        events.conversation_changed(conversation, brand)
        # Read before the commit expires them: a read after it would open (on SQLite, lock) a new transaction.
        decision = Decision(offer.id, conversation.id, expert_id)
        db.session.commit()
        return decision
    db.session.commit()
    return None


def route_brand(brand_id: int) -> list[Decision]:
    """Offer the brand's waiting conversations to experts with room until no more can go (rule 6)."""
    decisions = []
    while (decision := _decide(brand_id)) is not None:
        decisions.append(decision)
    return decisions


def after_freed(brand_id: int | None, expert_id: int | None) -> None:
    """Capacity came free (or work arrived): route the brand, then every other brand the expert serves."""
    if brand_id is not None:
        route_brand(brand_id)
    if expert_id is not None:
        for other in sorted(enrolments.approved_brand_ids(expert_id) - {brand_id}):
            route_brand(other)


def route_all() -> int:
    """The safety sweep: route every brand with someone waiting."""
    brand_ids = db.session.scalars(
        sa.select(Conversation.brand_id).where(Conversation.status == ConversationStatus.WAITING).distinct()
    ).all()
    db.session.commit()
    return sum(len(route_brand(brand_id)) for brand_id in brand_ids)


# Offers move on: accepted, declined, expired or rescinded. Each is a compare-and-set on the offer.

def _settle(offer_id: int, outcome: OfferStatus, now: dt.datetime, *, expert_id: int | None = None,
            live_only: bool = False) -> tuple[Offer, Conversation, Brand] | None:
    """Move a pending offer to `outcome` inside a brand-locked transaction; None when someone else did first.

    The caller has locked the brand. `live_only` (accepting) also refuses an offer already past its time.
    """
    condition = [Offer.id == offer_id, Offer.status == OfferStatus.PENDING]
    if expert_id is not None:
        condition.append(Offer.expert_id == expert_id)
    if live_only:
        condition.append(Offer.expires_at > now)
    moved = db.session.execute(
        sa.update(Offer).where(*condition).values(status=outcome, decided_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        return None
    offer = db.session.get(Offer, offer_id, populate_existing=True)
    conversation = db.session.get(Conversation, offer.conversation_id, populate_existing=True,
                                  with_for_update=True)
    brand = db.session.get(Brand, offer.brand_id)
    db.session.execute(sa.update(ExpertLoad).where(ExpertLoad.expert_id == offer.expert_id)
                       .values(pending_offers=ExpertLoad.pending_offers - 1)
                       .execution_options(synchronize_session=False))
    return offer, conversation, brand


def _offer_of(offer_id: int, expert_id: int | None = None) -> Offer:
    """The offer; given `expert_id`, only that expert's own.

    Another expert's offer is answered exactly as an unknown one: whether it exists, and how it went, is
    none of this expert's business.
    """
    offer = db.session.get(Offer, offer_id)
    if offer is None or (expert_id is not None and offer.expert_id != expert_id):
        raise NotFound(_l("No such offer."))
    return offer


def _gone_reason(offer_id: int) -> Conflict:
    """Why an expert's own offer can no longer be accepted or declined: what became of it."""
    status = db.session.scalar(sa.select(Offer.status).where(Offer.id == offer_id))
    db.session.rollback()
    if status == OfferStatus.ACCEPTED:
        return Conflict(_l("You have already accepted this chat."))
    if status == OfferStatus.DECLINED:
        return Conflict(_l("You have already declined this offer."))
    if status == OfferStatus.RESCINDED:
        return Conflict(_l("This offer was withdrawn."))
    return Conflict(_l("This offer has expired."))  # expired, or pending past its time (not yet swept)


def accept_offer(expert_id: int, offer_id: int, *, network: str | None = None) -> Conversation:
    """The expert takes the chat: it becomes theirs at the price in effect now (the day's cap counts it).

    A cap lowered since the offer was made applies here too: the offer is then taken back.
    """
    brand_id = _offer_of(offer_id, expert_id).brand_id
    now = utcnow()
    load, brand = lock_brand(brand_id, now)
    card = rates.card_in_effect(brand, now)
    price = card.price_cents if card else 0
    if not rules.may_accept(brand_caps(brand, now), usage_of(load), price):
        _return_offer(offer_id, OfferStatus.RESCINDED, expert_id=expert_id, now=now, locked=load)
        raise Conflict(_l("The brand has reached its limit for now: this chat could not be given to you."))
    settled = _settle(offer_id, OfferStatus.ACCEPTED, now, expert_id=expert_id, live_only=True)
    if settled is None:
        raise _gone_reason(offer_id)
    offer, conversation, brand = settled
    conversation.status = ConversationStatus.ACTIVE
    conversation.expert_id = expert_id
    conversation.accepted_at = now
    conversation.last_activity_at = now
    conversation.rate_cents = price
    conversation.rate_card_id = card.id if card else None
    conversation.expert_network = networks.fingerprint(network)
    db.session.execute(sa.update(ExpertLoad).where(ExpertLoad.expert_id == expert_id)
                       .values(open_chats=ExpertLoad.open_chats + 1).execution_options(synchronize_session=False))
    load.pending_offers -= 1
    load.day_accepted += 1
    load.month_committed_cents += price
    profile = experts.get_profile(expert_id)
    events.offer_gone(offer, profile.user_id, "accepted")
    events.chat_started(conversation, brand, profile.display_name, profile.user_id)
    db.session.commit()
    presence.record_answered_offer(expert_id)
    return conversation


def decline_offer(expert_id: int, offer_id: int) -> None:
    """The expert says no: the conversation goes back to the queue, for anyone but them."""
    _return_offer(offer_id, OfferStatus.DECLINED, expert_id=expert_id)


def rescind_offer(offer_id: int) -> bool:
    """Take back a pending offer (the expert left); True when it was still pending."""
    return _return_offer(offer_id, OfferStatus.RESCINDED) is not None


def _return_offer(offer_id: int, outcome: OfferStatus, *, expert_id: int | None = None,
                  now: dt.datetime | None = None, locked: BrandLoad | None = None) -> Offer | None:
    """Settle a pending offer as not taken; the conversation keeps its place in the queue.

    `locked`: the caller has already locked the brand's load row (this one is it).
    """
    offer = _offer_of(offer_id, expert_id)
    now = now or utcnow()
    load = locked if locked is not None else lock_brand(offer.brand_id, now)[0]
    settled = _settle(offer_id, outcome, now, expert_id=expert_id)
    if settled is None:
        if expert_id is not None:
            raise _gone_reason(offer_id)
        db.session.commit()
        return None
    offer, conversation, brand = settled
    load.pending_offers -= 1
    if conversation.status == ConversationStatus.OFFERED:
        conversation.status = ConversationStatus.WAITING  # keeps its place: queued_at is unchanged
        events.conversation_changed(conversation, brand)
    events.offer_gone(offer, experts.get_profile(offer.expert_id).user_id, outcome.value)
    db.session.commit()
    after_freed(offer.brand_id, offer.expert_id)
    return offer


def expire_offers(now: dt.datetime | None = None) -> int:
    """Expire offers past their time; each expiry counts as a missed offer for the expert's auto-away."""
    now = now or utcnow()
    due = db.session.scalars(
        sa.select(Offer.id).where(Offer.status == OfferStatus.PENDING, Offer.expires_at <= now).order_by(Offer.id)
    ).all()
    db.session.commit()
    expired = 0
    for offer_id in due:
        offer = _return_offer(offer_id, OfferStatus.EXPIRED, now=now)
        if offer is not None:
            expired += 1
            presence.record_missed_offer(offer.expert_id)
    return expired


def rescind_offers_of(expert_id: int) -> int:
    """Take back every pending offer of an expert who is no longer available.

    Their load row is locked first: a router that picked them before they left holds it until its offer is
    committed, so the read below waits for that offer instead of missing it (PostgreSQL; SQLite serialises).
    """
    db.session.execute(sa.select(ExpertLoad.expert_id).where(ExpertLoad.expert_id == expert_id).with_for_update())
    pending = db.session.scalars(
        sa.select(Offer.id).where(Offer.expert_id == expert_id, Offer.status == OfferStatus.PENDING)
    ).all()
    db.session.commit()
    return sum(rescind_offer(offer_id) for offer_id in pending)


def on_presence_changed(expert_id: int, status: str) -> None:
    """An expert came online (route to them at once) or left (their pending offers go to others)."""
    if status == "available":
        ensure_expert_load(expert_id)
        db.session.commit()
        after_freed(None, expert_id)
    else:
        rescind_offers_of(expert_id)
