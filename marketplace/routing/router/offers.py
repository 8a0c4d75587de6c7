"""Offers move on: accepted, declined, expired or rescinded. Each is a compare-and-set on the offer.

Each runs in a transaction that first locks the brand's load row (`loads.lock_brand`); an offer not taken
gives the conversation back to the queue, in its place, and the freed expert and brand are routed again.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from marketplace.brands import rates
from marketplace.brands.models import Brand, RateCard
from marketplace.core import routing as rules
from marketplace.database import db, unit_of_work, utcnow
from marketplace.errors import Conflict, NotFound
from marketplace.experts import presence
from marketplace.experts import services as experts
from marketplace.routing import events, networks
from marketplace.routing.models import (
    BrandLoad,
    Conversation,
    ConversationStatus,
    ExpertLoad,
    Offer,
    OfferStatus,
    set_status,
    status_after,
)
from marketplace.routing.router import away
from marketplace.routing.router.decisions import after_freed
from marketplace.routing.router.loads import brand_caps, ensure_expert_load, lock_brand, usage_of


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
    """Why an expert's own offer can no longer be accepted or declined: what became of it (the caller raises it,
    and its unit of work rolls back)."""
    status = db.session.scalar(sa.select(Offer.status).where(Offer.id == offer_id))
    if status == OfferStatus.ACCEPTED:
        return Conflict(_l("You have already accepted this chat."))
    if status == OfferStatus.DECLINED:
        return Conflict(_l("You have already declined this offer."))
    if status == OfferStatus.RESCINDED:
        return Conflict(_l("This offer was withdrawn."))
    return Conflict(_l("This offer has expired."))  # expired, or pending past its time (not yet swept)


def accept_offer(expert_id: int, offer_id: int, *, network: str | None = None) -> Conversation:
    """The expert takes the chat: it becomes theirs at the price in effect now (the day's cap counts it).

    A cap lowered since the offer was made applies here too: the offer is then taken back. A conversation accepted
    before (handed back to the queue since: its visitor came back while its expert had no room) keeps its first
    acceptance's price, and the day's cap and the month's budget, which counted it then, do not count it again.
    One whose visitor is away (they wrote by e-mail) then goes to the expert's asynchronous list.
    """
    with unit_of_work():
        offer = _offer_of(offer_id, expert_id)
        brand_id = offer.brand_id
        now = utcnow()
        load, brand = lock_brand(brand_id, now)
        again = db.session.scalar(sa.select(Conversation.accepted_at.is_not(None))
                                  .where(Conversation.id == offer.conversation_id))
        card = None if again else rates.card_in_effect(brand, now)
        price = card.price_cents if card else 0
        if not again and not rules.may_accept(brand_caps(brand, now), usage_of(load), price):
            rescinded = _give_back(offer_id, OfferStatus.RESCINDED, now, expert_id=expert_id, load=load)
        else:
            rescinded = None
            conversation = _accept(offer_id, expert_id, now, load, card, price, network)
    if rescinded is not None:
        after_freed(rescinded.brand_id, rescinded.expert_id)
        raise Conflict(_l("The brand has reached its limit for now: this chat could not be given to you."))
    presence.record_answered_offer(expert_id)
    if conversation.visitor_left_at is not None:
        # Its visitor wrote from elsewhere than the page (an e-mail reply) and is away: the chat goes to the
        # expert's asynchronous list at once, so the live slot comes free and their replies go out by e-mail.
        conversation = away.visitor_away(conversation.id) or conversation
    return conversation


def _accept(offer_id: int, expert_id: int, now: dt.datetime, load: BrandLoad, card: RateCard | None,
            price: int, network: str | None) -> Conversation:
    """Settle the expert's pending offer as accepted and give them the chat; the caller holds the brand's lock."""
    settled = _settle(offer_id, OfferStatus.ACCEPTED, now, expert_id=expert_id, live_only=True)
    if settled is None:
        raise _gone_reason(offer_id)
    offer, conversation, brand = settled
    set_status(conversation, status_after(conversation.status, "accept"), now)
    conversation.expert_id = expert_id
    conversation.last_activity_at = now
    conversation.expert_network = networks.fingerprint(network)
    db.session.execute(sa.update(ExpertLoad).where(ExpertLoad.expert_id == expert_id)
                       .values(open_chats=ExpertLoad.open_chats + 1).execution_options(synchronize_session=False))
    load.pending_offers -= 1
    if conversation.accepted_at is None:  # else accepted before, and counted then (accept_offer)
        conversation.accepted_at = now
        conversation.rate_cents = price
        conversation.rate_card_id = card.id if card else None
        load.day_accepted += 1
        load.month_committed_cents += price
    profile = experts.get_profile(expert_id)
    events.offer_gone(offer, profile.user_id, "accepted")
    events.chat_started(conversation, brand, profile.display_name, profile.user_id)
    return conversation


def decline_offer(expert_id: int, offer_id: int) -> None:
    """The expert says no: the conversation goes back to the queue, for anyone but them."""
    _return_offer(offer_id, OfferStatus.DECLINED, expert_id=expert_id)


def rescind_offer(offer_id: int) -> bool:
    """Take back a pending offer (the expert left); True when it was still pending."""
    return _return_offer(offer_id, OfferStatus.RESCINDED) is not None


def _return_offer(offer_id: int, outcome: OfferStatus, *, expert_id: int | None = None,
                  now: dt.datetime | None = None) -> Offer | None:
    """Settle a pending offer as not taken, in one transaction; then route the freed expert and brand."""
    with unit_of_work():
        offer = _offer_of(offer_id, expert_id)
        now = now or utcnow()
        returned = _give_back(offer_id, outcome, now, expert_id=expert_id,
                              load=lock_brand(offer.brand_id, now)[0])
    if returned is not None:
        after_freed(returned.brand_id, returned.expert_id)
    return returned


def _give_back(offer_id: int, outcome: OfferStatus, now: dt.datetime, *, expert_id: int | None = None,
               load: BrandLoad) -> Offer | None:
    """Settle a pending offer as not taken; the conversation keeps its place in the queue.

    The caller holds the brand's lock (`load` is its row) and routes the freed expert and brand once it commits.
    """
    settled = _settle(offer_id, outcome, now, expert_id=expert_id)
    if settled is None:
        if expert_id is not None:
            raise _gone_reason(offer_id)
        return None
    offer, conversation, brand = settled
    load.pending_offers -= 1
    if conversation.status == ConversationStatus.OFFERED:
        # Back to waiting, in its place: queued_at is unchanged.
        set_status(conversation, status_after(conversation.status, "return_offer"), now)
        events.conversation_changed(conversation, brand)
    events.offer_gone(offer, experts.get_profile(offer.expert_id).user_id, outcome.value)
    return offer


def expire_offers(now: dt.datetime | None = None) -> int:
    """Expire offers past their time; each expiry counts as a missed offer for the expert's auto-away."""
    now = now or utcnow()
    with unit_of_work():  # only reads, but ends before the expiries, each a transaction of its own
        due = db.session.scalars(
            sa.select(Offer.id).where(Offer.status == OfferStatus.PENDING, Offer.expires_at <= now)
            .order_by(Offer.id)
        ).all()
    expired = 0
    for offer_id in due:
        offer = _return_offer(offer_id, OfferStatus.EXPIRED, now=now)
        if offer is not None:
            expired += 1
            presence.record_missed_offer(offer.expert_id, offer.id)
    return expired


def rescind_offers_of(expert_id: int) -> int:
    """Take back every pending offer of an expert who is no longer available.

    Their load row is locked first: a router that picked them before they left holds it until its offer is
    committed, so the read below waits for that offer instead of missing it (PostgreSQL; SQLite serialises).
    """
    with unit_of_work():
        db.session.execute(sa.select(ExpertLoad.expert_id).where(ExpertLoad.expert_id == expert_id)
                           .with_for_update())
        pending = _pending_offer_ids(Offer.expert_id == expert_id)
    return _rescind_each(pending)


def rescind_brand_offers_of(expert_id: int, brand_id: int) -> int:
    """Take back the pending offers of one brand to an expert the brand removed; others get those chats.

    The brand's load row is locked first: a router that picked the expert before the removal committed
    holds it until its offer is committed, so the read below sees that offer; later decisions see the removal.
    """
    with unit_of_work():
        lock_brand(brand_id)
        pending = _pending_offer_ids(Offer.expert_id == expert_id, Offer.brand_id == brand_id)
    return _rescind_each(pending)


def _pending_offer_ids(*condition: sa.ColumnElement[bool]) -> list[int]:
    return list(db.session.scalars(sa.select(Offer.id).where(*condition, Offer.status == OfferStatus.PENDING)))


def _rescind_each(offer_ids: list[int]) -> int:
    """Take back the offers, each in its own transaction; how many were still pending."""
    return sum(rescind_offer(offer_id) for offer_id in offer_ids)


def on_presence_changed(expert_id: int, status: str) -> None:
    """An expert came online (route to them at once) or left (their pending offers go to others)."""
    if status == "available":
        with unit_of_work():
            ensure_expert_load(expert_id)
        after_freed(None, expert_id)
    else:
        rescind_offers_of(expert_id)
