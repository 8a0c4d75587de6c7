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
from sqlalchemy.dialects import postgresql

from marketplace.brands import rates
from marketplace.core import routing as rules
from marketplace.database import DriverStatement, db, unit_of_work, use_case, utcnow
from marketplace.experts import enrolments
from marketplace.routing import events
from marketplace.routing.models import (
    BrandLoad,
    Channel,
    Conversation,
    ConversationStatus,
    EndReason,
    ExpertLoad,
    Offer,
    OfferStatus,
    status_after,
)
from marketplace.routing.router.eligibility import eligible_expert
from marketplace.routing.router.loads import PassBrand, brand_caps, lock_brand_for_pass, usage_of, working_expert_ids
from marketplace.routing.router.picks import Candidates, Unsure, offered_experts

# The most waiting conversations one decision looks through for one an expert may still take.
QUEUE_LOOKAHEAD = 50
# The most decisions one transaction makes, and how long it may go on making more once it has read what it
# decides on: each pass holds the brand's lock, and its offers are sent once it commits.
DECISIONS_PER_PASS = 16
PASS_SECONDS = 0.004
# How many more experts than it may offer to a pass reads, so that its picks in memory are nearly always sure.
CANDIDATES_BEYOND_PASS = 8


@dataclass(frozen=True)
class Decision:
    offer_id: int
    conversation_id: int
    expert_id: int


@dataclass
class Queued:
    """A waiting conversation as a routing pass reads it: what it decides on and what its events tell (the offer,
    the visitor's widget, the brand's live view; `events` reads these as it reads a `Conversation`). Not the mapped
    row: loading every column of each as an object of the session was a fifth of a pass's Python."""

    id: int
    channel: Channel
    status: ConversationStatus
    end_reason: EndReason | None
    topic: str | None
    page_url: str | None
    created_at: dt.datetime
    accepted_at: dt.datetime | None
    closed_at: dt.datetime | None
    first_reply_at: dt.datetime | None
    expert_id: int | None
    last_seq: int
    rating: int | None
    visitor_email_consent_at: dt.datetime | None
    visitor_push_at: dt.datetime | None


_QUEUED_COLUMNS = [getattr(Conversation, field.name) for field in dataclasses.fields(Queued)]
_QUEUED_FIELDS = len(_QUEUED_COLUMNS)


@functools.cache
def _queue_page() -> sa.Select:
    """A page of the brand's queue. A visitor who is not on the page comes with their message (a messaging app's
    customer; a visitor answering by e-mail after the reopen window, whose follow-up is a web conversation with its
    visitor away): their conversation is let in first, and waits out of the queue until the message is stored
    (door.first_message_stored routes the brand then), so no pass, for whatever brought it, offers an expert an
    empty chat they could even close before it is there. Only a conversation never offered is held back so: one
    offered before whose visitor's page went (its offer then declined or expired, its expert gone) is offered
    again at once, empty or not (rule 6). A visitor on the page writes once they are in: theirs is offered at once.
    With each (`Queued`'s columns), whether it was ever offered: only those need their earlier offers read (rule 5),
    and a queue is mostly new arrivals.

    "Offered before" is a scalar subquery, one index probe for each row it is asked of: PostgreSQL turns an EXISTS
    into a hashed subplan that scans every offer ever made, at every pass (0.4 ms with 5,000 offers, and growing)."""
    offered = (sa.select(Offer.id).where(Offer.conversation_id == Conversation.id).limit(1)
               .correlate(Conversation).scalar_subquery().is_not(None))
    return (sa.select(*_QUEUED_COLUMNS, offered.label("offered_before"))
            .where(Conversation.brand_id == sa.bindparam("brand"),
                   Conversation.status == ConversationStatus.WAITING,
                   sa.or_(Conversation.last_seq > 0,
                          sa.and_(Conversation.channel == Channel.WEB,
                                  sa.or_(Conversation.visitor_left_at.is_(None), offered))))
            .order_by(Conversation.priority.desc(), Conversation.queued_at, Conversation.id)
            .limit(sa.bindparam("limit", type_=sa.Integer)).offset(sa.bindparam("offset", type_=sa.Integer)))


@functools.cache
def _queue_reader(dialect: str) -> DriverStatement:
    """`_queue_page` on the driver's cursor. On PostgreSQL it also has the rest of the pass keep its plans
    (`plan_cache_mode`, for this transaction only; set by a statement the pass runs anyway, so it costs no round
    trip): the experts' read was planned again at every pass, 1 ms of the server's CPU with 4,000 experts, its
    custom plans always looking cheaper than the one kept. Not this statement's own plan, made before it runs: a
    plan kept while the offers table grows would go on scanning it as it was when small."""
    page = _queue_page()
    if dialect == "postgresql":
        page = page.add_columns(sa.func.set_config("plan_cache_mode", "force_generic_plan", sa.true()))
    return DriverStatement(page)


def _waiting_pages(brand_id: int, first: int) -> Iterator[list[tuple[Queued, bool]]]:
    """The brand's waiting conversations in rule 5's order, a page at a time as the caller asks for more, each with
    whether it was ever offered.

    No row lock on the queue: every change of a conversation's status holds the brand's lock, as the caller
    does, so the pages stay consistent; a conversation the caller took out of the queue (its status moved, in
    the database and on the `Queued`) is not counted when the next page is read. A page is not enough on its own:
    when the first page was declined by every expert with room, a conversation behind it must still be found
    (rule 6). The first page is `first` long (the conversations a pass expects to offer); the next ones are
    QUEUE_LOOKAHEAD long.
    """
    parameters = {"brand": brand_id, "limit": first, "offset": 0}
    passed: list[Queued] = []
    connection = db.session.connection()
    reader = _queue_reader(connection.dialect.name)
    while page := [(Queued(*row[:_QUEUED_FIELDS]), bool(row[_QUEUED_FIELDS]))
                   for row in reader.rows(connection, parameters)]:
        yield page
        if len(page) < int(parameters["limit"]):
            return  # the queue's end: nobody joins it while the caller holds the brand's lock
        passed += [conversation for conversation, _ in page]
        still_waiting = sum(conversation.status == ConversationStatus.WAITING for conversation in passed)
        parameters.update(limit=QUEUE_LOOKAHEAD, offset=still_waiting)


_OFFERED = status_after(ConversationStatus.WAITING, "offer")
_NOBODY: frozenset[int] = frozenset()


@dataclass(frozen=True)
class _Reservation:
    conversation: Queued
    expert_id: int
    user_id: int
    push: bool | None  # whether the expert takes Web Push, when the pick read it
    at: dt.datetime


@functools.cache
def _offer_statements() -> tuple[sa.Update, sa.Update, sa.Insert, sa.Update]:
    conversations = (sa.update(Conversation)
                     .where(Conversation.id.in_(sa.bindparam("conversations", expanding=True)),
                            Conversation.status == ConversationStatus.WAITING)
                     .values(status=_OFFERED)
                     .returning(Conversation.id))
    expert = (sa.update(ExpertLoad).where(ExpertLoad.expert_id == sa.bindparam("expert"))
              .values(pending_offers=ExpertLoad.pending_offers + sa.bindparam("offers"),
                      last_offered_at=sa.bindparam("at")))
    offers = (sa.insert(Offer)
              .values(conversation_id=sa.bindparam("conversation"), brand_id=sa.bindparam("brand"),
                      expert_id=sa.bindparam("expert"), status=OfferStatus.PENDING,
                      created_at=sa.bindparam("at"), expires_at=sa.bindparam("expires"))
              .returning(Offer.conversation_id, Offer.id))
    brand = (sa.update(BrandLoad).where(BrandLoad.brand_id == sa.bindparam("brand"))
             .values(pending_offers=BrandLoad.pending_offers + sa.bindparam("offers")))
    return conversations, expert, offers, brand


def _reserve(reservations: list[_Reservation]) -> list[_Reservation]:
    """Take the reserved conversations out of the queue and step their experts' loads up; those that moved.

    Plain statements rather than a flush of the unit of work, which took a quarter of a decision's time: one
    for the conversations, one (run for each expert) for the loads. The caller holds the brand's lock and the
    experts'; the conversations move by compare-and-set all the same (one no longer waiting is dropped), and the
    counters step up in the database, not from what was read.
    """
    if not reservations:
        return []
    move, expert_load, _, _ = _offer_statements()
    connection = db.session.connection()
    moved = set(connection.execute(move, {"conversations": [r.conversation.id for r in reservations]}).scalars())
    kept = [reservation for reservation in reservations if reservation.conversation.id in moved]
    steps: dict[int, dict[str, object]] = {}
    for reservation in kept:
        step = steps.setdefault(reservation.expert_id, {"expert": reservation.expert_id, "offers": 0})
        step["offers"] = int(step["offers"]) + 1
        step["at"] = reservation.at
        reservation.conversation.status = _OFFERED
    if steps:
        connection.execute(expert_load, list(steps.values()))
    return kept


def _insert_offers(brand: PassBrand, reservations: list[_Reservation]) -> dict[int, int]:
    """The offers of reservations already written, and the brand's count of them; their ids by conversation."""
    if not reservations:
        return {}
    _, _, insert, brand_load = _offer_statements()
    connection = db.session.connection()
    timeout = dt.timedelta(seconds=brand.offer_timeout_seconds)
    # Matched by conversation (one offer each in a pass): RETURNING in parameter order would write them one by one.
    ids = dict(connection.execute(insert, [
        {"conversation": r.conversation.id, "brand": brand.id, "expert": r.expert_id, "at": r.at,
         "expires": r.at + timeout} for r in reservations]).tuples().all())
    connection.execute(brand_load, {"brand": brand.id, "offers": len(reservations)})
    return ids


# PostgreSQL writes a pass in one statement: what `_reserve` and `_insert_offers` do in four round trips (a routing
# pass is mostly waiting on them). The reserved picks were moved before (`reserved`), the others move here by
# compare-and-set; only those moved step their expert's load up, and every pick that is out of the queue is offered.
_WRITES_IN_ONE = """
WITH picks AS (
    SELECT * FROM unnest(CAST(:conversations AS BIGINT[]), CAST(:experts AS BIGINT[]), CAST(:ats AS TIMESTAMP[]),
                         CAST(:reserved AS BOOLEAN[])) AS picked(conversation_id, expert_id, at, reserved)
), moved AS (
    UPDATE conversations SET status = :offered FROM picks
    WHERE conversations.id = picks.conversation_id AND NOT picks.reserved AND conversations.status = :waiting
    RETURNING conversations.id
), taken AS (
    SELECT conversation_id, expert_id, at FROM picks WHERE reserved OR conversation_id IN (SELECT id FROM moved)
), stepped AS (
    UPDATE expert_loads SET pending_offers = expert_loads.pending_offers + steps.offers, last_offered_at = steps.at
    FROM (SELECT expert_id, count(*) AS offers, max(at) AS at FROM picks JOIN moved ON moved.id = conversation_id
          GROUP BY expert_id) AS steps
    WHERE expert_loads.expert_id = steps.expert_id
), counted AS (
    UPDATE brand_loads SET pending_offers = pending_offers + (SELECT count(*) FROM taken) WHERE brand_id = :brand
)
INSERT INTO offers (conversation_id, brand_id, expert_id, status, created_at, expires_at)
SELECT conversation_id, :brand, expert_id, :pending, at, at + :timeout FROM taken
RETURNING conversation_id, id
"""


@functools.cache
def _pass_writes() -> DriverStatement:
    ids, times = postgresql.ARRAY(sa.BigInteger), postgresql.ARRAY(sa.DateTime)
    return DriverStatement(sa.text(_WRITES_IN_ONE).bindparams(
        sa.bindparam("conversations", type_=ids), sa.bindparam("experts", type_=ids),
        sa.bindparam("ats", type_=times), sa.bindparam("reserved", type_=postgresql.ARRAY(sa.Boolean)),
        sa.bindparam("timeout", type_=sa.Interval), sa.bindparam("brand", type_=sa.BigInteger),
        offered=_OFFERED.value, waiting=ConversationStatus.WAITING.value, pending=OfferStatus.PENDING.value))


def _write_pass(brand: PassBrand, reserved: list[_Reservation], pending: list[_Reservation]
                ) -> tuple[list[_Reservation], dict[int, int]]:
    """Move the pending picks out of the queue, step their experts' loads, and offer every pick out of it: the picks
    offered, and their offers' ids by conversation."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        reserved = reserved + _reserve(pending)
        return reserved, _insert_offers(brand, reserved)
    picks = reserved + pending
    if not picks:
        return [], {}
    ids = dict(_pass_writes().rows(connection, {
        "conversations": [r.conversation.id for r in picks], "experts": [r.expert_id for r in picks],
        "ats": [r.at.astimezone(dt.UTC).replace(tzinfo=None) for r in picks],  # naive UTC, as UTCDateTime stores
        "reserved": [True] * len(reserved) + [False] * len(pending),
        "timeout": dt.timedelta(seconds=brand.offer_timeout_seconds), "brand": brand.id}))
    for reservation in pending:
        if reservation.conversation.id in ids:
            reservation.conversation.status = _OFFERED
    return [r for r in picks if r.conversation.id in ids], ids


@dataclass(frozen=True)
class _Made:
    """An offer a pass made, as its event tells it (`events.offer_payload` reads these as it reads an `Offer`)."""

    id: int
    conversation_id: int
    expert_id: int
    expires_at: dt.datetime


def _make_offers(brand: PassBrand, reserved: list[_Reservation], pending: list[_Reservation],
                 terms: rates.Terms | None) -> list[Decision]:
    """Write the pass's picks (`_write_pass`), and their events, which tell what each offer pays (`terms`, the card
    in effect).

    Nothing in the pass reads the offers before its commit: each conversation left the queue when it was reserved,
    and an expert's pick reads their load, not their offers. The offers made here are not in the session: they
    carry what the offer events need (mapped objects cost a tenth of a pass's Python).
    """
    reservations, ids = _write_pass(brand, reserved, pending)
    if not reservations:
        return []
    timeout = dt.timedelta(seconds=brand.offer_timeout_seconds)
    offers = [_Made(ids[r.conversation.id], r.conversation.id, r.expert_id, r.at + timeout) for r in reservations]
    pushed = None if any(r.push is None for r in reservations) else {r.user_id for r in reservations if r.push}
    made = [(offer, r.conversation, r.user_id) for offer, r in zip(offers, reservations, strict=True)]
    events.offers_made(brand, made, pushed, events.pay_on(brand, terms))
    for reservation in reservations:
        events.conversation_changed(reservation.conversation, brand)
    return [Decision(offer.id, offer.conversation_id, offer.expert_id) for offer in offers]


@use_case
def _decide(brand_id: int, most: int = DECISIONS_PER_PASS) -> tuple[list[Decision], bool]:
    """Up to `most` offers for the brand in one transaction: (the decisions, whether more may still go).

    Each decision is the one a transaction of its own would make, in the same order (rule 5), against the counts
    as the decisions before it in the pass left them. One walk down the queue makes them all: a conversation that
    nobody with room may take now will not find anyone later in the pass either (loads only grow in it), and when
    nobody at all has room the pass ends. The experts are read once (`picks.Candidates`) and picked in memory,
    the brand's lock taken once, the offers written together and the commit made once: that was most of what a
    lone decision cost. A pass also stops deciding after PASS_SECONDS, so the brand's lock is never held long
    and its offers go out soon (they are sent after the commit). A crash before the commit loses nothing: no
    offer was made, every conversation is still waiting, and the next pass or the sweep makes them.
    """
    now = utcnow()
    load, brand, terms = lock_brand_for_pass(brand_id, now)
    caps, usage = brand_caps(brand, now, terms[0] if terms else 0), usage_of(load)
    # Rule 4's limit on the experts a brand uses: the pass adds to them as it offers.
    working = working_expert_ids(brand.id) if brand.max_active_experts is not None else None
    reserved: list[_Reservation] = []  # written to the database
    pending: list[_Reservation] = []  # not yet
    more = False
    candidates: Candidates | None = None
    started = 0.0
    for page in _waiting_pages(brand_id, most):
        if candidates is None:  # read once the queue is known not to be empty, as many as the first page may need
            candidates = Candidates(brand, now, len(page) + CANDIDATES_BEYOND_PASS)
            started = time.perf_counter()  # the time a pass may take deciding, once it has read what it decides on
        offered = offered_experts([conversation.id for conversation, before in page if before])
        for conversation, _ in page:
            if (reserved or pending) and time.perf_counter() - started > PASS_SECONDS:
                more = True
                break
            if not rules.may_offer(caps, usage):
                break
            only = working if working is not None and len(working) >= brand.max_active_experts else None
            try:
                best = candidates.best(offered.get(conversation.id, _NOBODY), only)
                picked = None if best is None else (best.expert_id, best.user_id, best.push)
            except Unsure:
                reserved += _reserve(pending)  # the database's pick must see the loads the pass stepped up
                pending = []
                lone = eligible_expert(brand, conversation.id, now, only)
                picked = None if lone is None else (*lone, None)
            if picked is None:
                if not offered.get(conversation.id):
                    break  # nobody at all has room: later conversations will not find anyone either
                continue
            reservation = _Reservation(conversation, *picked, utcnow())
            pending.append(reservation)
            candidates.took(reservation.expert_id, reservation.at)
            usage = dataclasses.replace(usage, pending_offers=usage.pending_offers + 1)
            if working is not None:
                working.add(reservation.expert_id)
            if len(reserved) + len(pending) == most:
                more = True  # (without reading the queue's next page to know)
                break
        else:
            continue  # the page is done: on to the next one
        break
    # Read before the unit's commit expires them: a read after it would open (on SQLite, lock) a new one.
    return _make_offers(brand, reserved, pending, terms), more


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
