"""The router's decisions: hands each waiting conversation to one eligible, available expert.

Every decision is one short transaction that first locks the brand's load row, so decisions for one
brand take turns (SQLite's BEGIN IMMEDIATE serialises all of them anyway). Experts are picked with
`FOR UPDATE SKIP LOCKED`, so routers of different brands never wait on each other for an expert.
Lock order, everywhere: brand load, then conversation and offer, then expert load. Events go out only
after the commit. Whoever frees capacity or adds work calls `route_brand` (or `after_freed`) once
its own transaction has committed (after its unit of work, never inside one: a decision is a unit of its own,
and inside another it would join it); the safety sweep catches what a race between two brands leaves.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from marketplace.brands.models import Brand
from marketplace.core import routing as rules
from marketplace.database import db, unit_of_work, use_case, utcnow
from marketplace.experts import enrolments
from marketplace.routing import events
from marketplace.routing.models import (
    BrandLoad,
    Conversation,
    ConversationStatus,
    ExpertLoad,
    Offer,
    OfferStatus,
    status_after,
)
from marketplace.routing.router.eligibility import eligible_expert, narrowed_to
from marketplace.routing.router.loads import brand_caps, lock_brand, usage_of

# The most waiting conversations one decision looks through for one an expert may still take.
QUEUE_LOOKAHEAD = 50


@dataclass(frozen=True)
class Decision:
    offer_id: int
    conversation_id: int
    expert_id: int


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


_OFFERED = status_after(ConversationStatus.WAITING, "offer")


@functools.cache
def _offer_statements() -> tuple[sa.Update, sa.Insert, sa.Update, sa.Update]:
    conversation = (sa.update(Conversation)
                    .where(Conversation.id == sa.bindparam("conversation"),
                           Conversation.status == ConversationStatus.WAITING)
                    .values(status=_OFFERED))
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
    set_committed_value(conversation, "status", _OFFERED)
    return Offer(id=offer_id, conversation_id=conversation.id, brand_id=brand.id, expert_id=expert_id,
                 status=OfferStatus.PENDING, created_at=now, expires_at=values["expires"])


@use_case
def _decide(brand_id: int) -> Decision | None:
    """Make one offer for the brand if any waiting conversation can go to any expert; one transaction."""
    now = utcnow()
    load, brand = lock_brand(brand_id, now, decision=True)
    if not rules.may_offer(brand_caps(brand, now), usage_of(load)):
        return None
    only = narrowed_to(brand)
    for conversation in _waiting_in_order(brand_id):
        picked = eligible_expert(brand, conversation.id, now, only)
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
        # Read before the unit's commit expires them: a read after it would open (on SQLite, lock) a new one.
        return Decision(offer.id, conversation.id, expert_id)
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
    with unit_of_work():  # only reads, but ends before the decisions, each a transaction of its own
        brand_ids = db.session.scalars(
            sa.select(Conversation.brand_id).where(Conversation.status == ConversationStatus.WAITING).distinct()
        ).all()
    return sum(len(route_brand(brand_id)) for brand_id in brand_ids)
