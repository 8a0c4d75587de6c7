"""The router's decisions: hands each waiting conversation to one eligible, available expert.

Decisions are made in short passes, each one transaction that first locks the brand's load row, so passes for
one brand take turns (SQLite's BEGIN IMMEDIATE serialises all of them anyway); a pass makes the decisions
one transaction each would have made, one after the other. Experts are picked with
`FOR UPDATE SKIP LOCKED`, so routers of different brands never wait on each other for an expert.
Lock order, everywhere: brand load, then conversation and offer, then expert load. Events go out only
after the commit. Whoever frees capacity or adds work calls `route_brand` (or `after_freed`) once
its own transaction has committed (after its unit of work, never inside one: a decision is a unit of its own,
and inside another it would join it); the safety sweep catches what a race between two brands leaves.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import time
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
from marketplace.routing.router.eligibility import eligible_expert
from marketplace.routing.router.loads import brand_caps, lock_brand, usage_of, working_expert_ids

# The most waiting conversations one decision looks through for one an expert may still take.
QUEUE_LOOKAHEAD = 50
# The most decisions one transaction makes, and how long it may go on making more: each pass holds the brand's
# lock, and its offers are sent once it commits.
DECISIONS_PER_PASS = 16
PASS_SECONDS = 0.004


@dataclass(frozen=True)
class Decision:
    offer_id: int
    conversation_id: int
    expert_id: int


@functools.cache
def _queue_page() -> sa.Select:
    return (sa.select(Conversation)
            .where(Conversation.brand_id == sa.bindparam("brand"),
                   Conversation.status == ConversationStatus.WAITING)
            .order_by(Conversation.priority.desc(), Conversation.queued_at, Conversation.id)
            .limit(sa.bindparam("limit", type_=sa.Integer)).offset(sa.bindparam("offset", type_=sa.Integer))
            .execution_options(populate_existing=True))


def _waiting_in_order(brand_id: int, first: int) -> Iterator[Conversation]:
    """The brand's waiting conversations in rule 5's order, read a page at a time as the caller asks for more.

    No row lock on the queue: every change of a conversation's status holds the brand's lock, as the caller
    does, so the pages stay consistent, and a conversation the caller offered (its status moved) has left the
    queue before the next page is read. A page is not enough on its own: when the first page was declined by
    every expert with room, a conversation behind it must still be found (rule 6). The first page is `first`
    long (the conversations a pass expects to offer); the next ones are QUEUE_LOOKAHEAD long.
    """
    parameters = {"brand": brand_id, "limit": first, "offset": 0}
    page = db.session.scalars(_queue_page(), parameters).all()
    passed: list[Conversation] = []
    while page:
        for conversation in page:
            yield conversation
            passed.append(conversation)
        still_waiting = sum(conversation.status == ConversationStatus.WAITING for conversation in passed)
        parameters.update(limit=QUEUE_LOOKAHEAD, offset=still_waiting)
        page = db.session.scalars(_queue_page(), parameters).all()


_OFFERED = status_after(ConversationStatus.WAITING, "offer")


@functools.cache
def _offer_statements() -> tuple[sa.Update, sa.Update, sa.Insert, sa.Update]:
    conversation = (sa.update(Conversation)
                    .where(Conversation.id == sa.bindparam("conversation"),
                           Conversation.status == ConversationStatus.WAITING)
                    .values(status=_OFFERED))
    expert = (sa.update(ExpertLoad).where(ExpertLoad.expert_id == sa.bindparam("expert"))
              .values(pending_offers=ExpertLoad.pending_offers + 1, last_offered_at=sa.bindparam("at")))
    offers = (sa.insert(Offer)
              .values(conversation_id=sa.bindparam("conversation"), brand_id=sa.bindparam("brand"),
                      expert_id=sa.bindparam("expert"), status=OfferStatus.PENDING,
                      created_at=sa.bindparam("at"), expires_at=sa.bindparam("expires"))
              .returning(Offer.conversation_id, Offer.id))
    brand = (sa.update(BrandLoad).where(BrandLoad.brand_id == sa.bindparam("brand"))
             .values(pending_offers=BrandLoad.pending_offers + sa.bindparam("offers")))
    return conversation, expert, offers, brand


def _reserve(conversation: Conversation, expert_id: int, now: dt.datetime) -> bool:
    """Take the conversation out of the queue for the expert, whose load steps up at once (their next pick sees
    it); False when the conversation was no longer waiting.

    Plain statements rather than a flush of the unit of work, which took a quarter of the decision's time.
    The caller holds the brand's lock and the expert's; the conversation moves by compare-and-set all the
    same, and the counter steps up in the database, not from what was read.
    """
    move, expert_load, _, _ = _offer_statements()
    connection = db.session.connection()
    if connection.execute(move, {"conversation": conversation.id}).rowcount != 1:
        return False
    connection.execute(expert_load, {"expert": expert_id, "at": now})
    set_committed_value(conversation, "status", _OFFERED)
    return True


def _make_offers(brand: Brand, reserved: list[tuple[Conversation, int, int]], now: dt.datetime) -> list[Decision]:
    """The offers of a pass's reservations (conversation, expert, user), in two statements, and their events.

    Nothing in the pass reads them before its commit: each conversation left the queue when it was reserved,
    and an expert's pick reads their load, not their offers. The offers made here are not in the session: they
    carry what the offer events need.
    """
    if not reserved:
        return []
    _, _, insert, brand_load = _offer_statements()
    connection = db.session.connection()
    expires = now + dt.timedelta(seconds=brand.offer_timeout_seconds)
    # Matched by conversation (one offer each in a pass): RETURNING in parameter order would write them one by one.
    ids = dict(connection.execute(insert, [
        {"conversation": conversation.id, "brand": brand.id, "expert": expert_id, "at": now, "expires": expires}
        for conversation, expert_id, _ in reserved]).tuples().all())
    connection.execute(brand_load, {"brand": brand.id, "offers": len(reserved)})
    offers = [Offer(id=ids[conversation.id], conversation_id=conversation.id, brand_id=brand.id, expert_id=expert_id,
                    status=OfferStatus.PENDING, created_at=now, expires_at=expires)
              for conversation, expert_id, _ in reserved]
    events.offers_made(brand, [(offer, conversation, user_id)
                               for offer, (conversation, _, user_id) in zip(offers, reserved, strict=True)])
    for conversation, _, _ in reserved:
        events.conversation_changed(conversation, brand)
    return [Decision(offer.id, offer.conversation_id, offer.expert_id) for offer in offers]


@use_case
def _decide(brand_id: int, most: int = DECISIONS_PER_PASS) -> tuple[list[Decision], bool]:
    """Up to `most` offers for the brand in one transaction: (the decisions, whether more may still go).

    Each decision is the one a transaction of its own would make, in the same order (rule 5), against the counts
    as the decisions before it in the pass left them. One walk down the queue makes them all: a conversation that
    nobody with room may take now will not find anyone later in the pass either (loads only grow in it), and when
    nobody at all has room the pass ends. The brand's lock is taken once, the offers written together and the
    commit made once, which was most of what a lone decision cost. A pass also ends after PASS_SECONDS, so the
    brand's lock is never held long and its offers go out soon (they are sent after the commit). A crash before
    the commit loses nothing: no offer was made, every conversation is still waiting, and the next pass or the
    sweep makes them.
    """
    started = time.perf_counter()
    now = utcnow()
    load, brand = lock_brand(brand_id, now, decision=True)
    caps, usage = brand_caps(brand, now), usage_of(load)
    # Rule 4's limit on the experts a brand uses: the pass adds to them as it offers.
    working = working_expert_ids(brand.id) if brand.max_active_experts is not None else None
    reserved: list[tuple[Conversation, int, int]] = []
    more = False
    for conversation in _waiting_in_order(brand_id, most):
        if reserved and time.perf_counter() - started > PASS_SECONDS:
            more = True
            break
        if not rules.may_offer(caps, usage):
            break
        only = working if working is not None and len(working) >= brand.max_active_experts else None
        picked = eligible_expert(brand, conversation.id, now, only)
        if picked is None:
            tried = db.session.scalar(sa.select(sa.exists().where(Offer.conversation_id == conversation.id)))
            if not tried:
                break  # nobody at all has room: later conversations will not find anyone either
            continue
        expert_id, user_id = picked
        if not _reserve(conversation, expert_id, now):
            continue
        reserved.append((conversation, expert_id, user_id))
        usage = dataclasses.replace(usage, pending_offers=usage.pending_offers + 1)
        if working is not None:
            working.add(expert_id)
        if len(reserved) == most:
            more = True  # (without reading the queue's next page to know)
            break
    # Read before the unit's commit expires them: a read after it would open (on SQLite, lock) a new one.
    return _make_offers(brand, reserved, now), more


def route_brand(brand_id: int) -> list[Decision]:
    """Offer the brand's waiting conversations to experts with room until no more can go (rule 6)."""
    decisions: list[Decision] = []
    more = True
    while more:
        made, more = _decide(brand_id)
        decisions += made
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
