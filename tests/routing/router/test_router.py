"""The router offers each waiting conversation to one eligible expert, in rule 5's order, and moves offers on."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from marketplace.brands.models import RateCard
from marketplace.database import db, utcnow
from marketplace.errors import Conflict
from marketplace.experts import presence
from marketplace.experts.models import ExpertPresence, PresenceStatus
from marketplace.routing.door import waits
from marketplace.routing.models import ConversationStatus, EndReason, ExpertLoad, Offer, OfferStatus
from marketplace.routing.router import admission, decisions, loads, offers
from tests.routing.conftest import arrive, online_expert


def pending_offer(conversation_id: int) -> Offer | None:
    return db.session.scalar(db.select(Offer).where(Offer.conversation_id == conversation_id,
                                                    Offer.status == OfferStatus.PENDING))


def test_an_arrival_is_offered_at_once_to_an_available_expert(session, brand):
    expert = online_expert(brand)
    session.commit()
    conversation = arrive(brand)
    assert conversation.status == ConversationStatus.OFFERED
    offer = pending_offer(conversation.id)
    assert offer.expert_id == expert.id
    assert offer.expires_at - offer.created_at == dt.timedelta(seconds=brand.offer_timeout_seconds)
    assert loads.counters_match() == []


def test_the_least_loaded_expert_goes_first_then_the_longest_idle(session, brand):
    busy, idle_long, idle_short = online_expert(brand), online_expert(brand), online_expert(brand)
    now = utcnow()
    session.get(ExpertLoad, busy.id).open_chats = 1
    session.get(ExpertLoad, idle_long.id).last_offered_at = now - dt.timedelta(hours=2)
    session.get(ExpertLoad, idle_short.id).last_offered_at = now - dt.timedelta(minutes=1)
    session.commit()
    first = arrive(brand)
    assert pending_offer(first.id).expert_id == idle_long.id
    second = arrive(brand)
    assert pending_offer(second.id).expert_id == idle_short.id


def test_nobody_available_leaves_the_conversation_waiting(session, brand):
    expert = online_expert(brand)
    session.get(ExpertPresence, expert.id).status = PresenceStatus.AWAY
    session.commit()
    conversation = arrive(brand)
    assert conversation.status == ConversationStatus.WAITING
    assert waits.queue_position(conversation) == 1


def test_accepting_makes_the_chat_the_experts_at_the_brands_rate(session, brand):
    expert = online_expert(brand)
    session.commit()
    conversation = arrive(brand)
    offer = pending_offer(conversation.id)
    accepted = offers.accept_offer(expert.id, offer.id)
    assert accepted.status == ConversationStatus.ACTIVE
    assert accepted.expert_id == expert.id
    card = session.scalar(sa.select(RateCard).where(RateCard.brand_id == brand.id))
    assert (accepted.rate_cents, accepted.rate_card_id) == (200, card.id)
    load = session.get(ExpertLoad, expert.id)
    assert (load.open_chats, load.pending_offers) == (1, 0)
    assert loads.counters_match() == []


def test_a_declined_offer_goes_to_the_next_expert_never_back(session, brand):
    first, second = online_expert(brand), online_expert(brand)
    session.commit()
    conversation = arrive(brand)
    offer = pending_offer(conversation.id)
    offers.decline_offer(offer.expert_id, offer.id)
    other = pending_offer(conversation.id)
    assert other.expert_id == ({first.id, second.id} - {offer.expert_id}).pop()
    offers.decline_offer(other.expert_id, other.id)
    db.session.refresh(conversation)
    assert conversation.status == ConversationStatus.WAITING
    assert pending_offer(conversation.id) is None
    assert loads.counters_match() == []


def test_an_expired_offer_cannot_be_accepted_and_counts_as_missed(session, brand):
    expert = online_expert(brand)
    session.commit()
    conversation = arrive(brand)
    offer = pending_offer(conversation.id)
    assert offers.expire_offers(offer.expires_at + dt.timedelta(seconds=1)) == 1
    assert session.get(ExpertPresence, expert.id).missed_offers_in_row == 1
    with pytest.raises(Conflict):
        offers.accept_offer(expert.id, offer.id)
    db.session.refresh(conversation)
    assert conversation.status == ConversationStatus.WAITING


def test_closing_a_chat_frees_the_seat_for_the_next_in_line(session, brand):
    brand.expert_concurrency = 1
    expert = online_expert(brand)
    session.commit()
    first, second = arrive(brand), arrive(brand)
    assert second.status == ConversationStatus.WAITING
    offers.accept_offer(expert.id, pending_offer(first.id).id)
    admission.end_conversation(first.id, ConversationStatus.CLOSED, EndReason.EXPERT, expert_id=expert.id)
    assert pending_offer(second.id).expert_id == expert.id
    assert loads.counters_match() == []


def test_higher_priority_then_oldest_is_served_first(session, brand):
    brand.expert_concurrency = 1
    expert = online_expert(brand)
    session.get(ExpertPresence, expert.id).status = PresenceStatus.AWAY
    session.commit()
    old, new, urgent = arrive(brand), arrive(brand), arrive(brand)
    urgent.priority = 5
    session.get(ExpertPresence, expert.id).status = PresenceStatus.AVAILABLE
    session.commit()
    decisions.route_brand(brand.id)
    assert pending_offer(urgent.id).expert_id == expert.id
    assert pending_offer(old.id) is None and pending_offer(new.id) is None
    assert waits.queue_position(old) == 2 and waits.queue_position(new) == 3


def test_the_door_refuses_past_max_concurrent_with_a_reason(session, brand):
    brand.max_concurrent = 1
    session.commit()
    arrive(brand)
    refused = arrive(brand)
    assert refused.status == ConversationStatus.CAPPED
    assert refused.end_reason == EndReason.MAX_CONCURRENT
    view = waits.visitor_view(refused)
    assert view["may_leave_message"] is True


def test_the_door_refuses_outside_opening_hours(session, brand):
    brand.opening_hours = {}
    session.commit()
    refused = arrive(brand)
    assert (refused.status, refused.end_reason) == (ConversationStatus.CAPPED, EndReason.CLOSED_HOURS)


def test_a_returning_visitor_resumes_their_conversation(session, brand):
    conversation = arrive(brand, token="a" * 40)
    again = arrive(brand, token="a" * 40)
    assert again.id == conversation.id


def test_a_conversation_behind_a_page_of_declined_ones_is_still_offered(session, brand, monkeypatch):
    """Rule 6: the router reads the queue a page at a time; a full first page that every expert with room
    has declined must not hide the conversation behind it."""
    monkeypatch.setattr(decisions, "QUEUE_LOOKAHEAD", 2)
    expert = online_expert(brand)
    session.commit()
    declined = []
    for _ in range(3):
        conversation = arrive(brand)
        offer = pending_offer(conversation.id)
        offers.decline_offer(expert.id, offer.id)
        declined.append(conversation.id)
    assert [pending_offer(conversation_id) for conversation_id in declined] == [None, None, None]
    behind = arrive(brand)
    assert pending_offer(behind.id).expert_id == expert.id
    assert loads.counters_match() == []


def test_a_phone_that_stops_beating_loses_its_pending_offers_at_once(session, brand, app):
    """The presence sweep turns a silent expert away; their offer goes to the next expert, not after 30 s."""
    silent, other = online_expert(brand), online_expert(brand)
    session.get(ExpertLoad, other.id).open_chats = 1  # the silent one is offered first
    session.commit()
    conversation = arrive(brand)
    assert pending_offer(conversation.id).expert_id == silent.id
    session.get(ExpertPresence, other.id).last_heartbeat_at = utcnow() + dt.timedelta(hours=1)
    session.commit()
    assert presence.sweep(utcnow() + dt.timedelta(seconds=app.config["PRESENCE_GRACE_SECONDS"] + 1))["away"] == 1
    assert pending_offer(conversation.id).expert_id == other.id
    offers = session.scalars(db.select(Offer.status).where(Offer.expert_id == silent.id)).all()
    assert offers == [OfferStatus.RESCINDED]
