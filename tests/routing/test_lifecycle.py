"""Conversations end on their own (missed, abandoned, silent), and presence changes move work at once."""

from __future__ import annotations

import datetime as dt

from marketplace.accounts.models import User
from marketplace.database import db, utcnow
from marketplace.experts import presence
from marketplace.experts.models import ExpertPresence, PresenceStatus
from marketplace.routing.chat import messages
from marketplace.routing.door import departures, waits
from marketplace.routing.models import ConversationStatus, EndReason, ExpertLoad, Offer, OfferStatus, Sender
from marketplace.routing.router import loads, offers
from tests.conftest import log_in
from tests.factories import ShiftBookingFactory, ShiftSlotFactory
from tests.routing.conftest import admin_of, arrive, online_expert


def offer_of(conversation_id: int) -> Offer | None:
    return db.session.scalar(db.select(Offer).where(Offer.conversation_id == conversation_id,
                                                    Offer.status == OfferStatus.PENDING))


def test_a_conversation_waiting_past_the_maximum_is_missed(session, brand):
    conversation = arrive(brand)
    later = utcnow() + dt.timedelta(seconds=brand.max_wait_seconds + 1)
    session.get(type(conversation), conversation.id).visitor_seen_at = later  # the visitor is still there
    session.commit()
    assert departures.sweep(later)["missed"] == 1
    db.session.refresh(conversation)
    assert (conversation.status, conversation.end_reason) == (ConversationStatus.MISSED, EndReason.MAX_WAIT)
    assert waits.visitor_view(conversation)["may_leave_message"] is True
    assert loads.counters_match() == []


def test_a_visitor_whose_page_went_away_is_abandoned_and_the_offer_taken_back(session, brand, app):
    expert = online_expert(brand)
    session.commit()
    conversation = arrive(brand)
    assert offer_of(conversation.id) is not None
    later = utcnow() + dt.timedelta(seconds=app.config["VISITOR_GRACE_SECONDS"] + 1)
    assert departures.sweep(later)["abandoned"] == 1
    db.session.refresh(conversation)
    assert conversation.status == ConversationStatus.ABANDONED
    assert offer_of(conversation.id) is None
    assert session.get(ExpertLoad, expert.id).pending_offers == 0
    assert loads.counters_match() == []


def test_a_silent_chat_closes_after_the_brands_time(session, brand):
    expert = online_expert(brand)
    session.commit()
    conversation = arrive(brand)
    offers.accept_offer(expert.id, offer_of(conversation.id).id)
    messages.post_message(conversation.id, Sender.EXPERT, "e-1", "Hello", expert_id=expert.id)
    assert departures.sweep(utcnow() + dt.timedelta(minutes=1))["closed"] == 0
    later = utcnow() + dt.timedelta(minutes=brand.inactivity_close_minutes, seconds=1)
    assert departures.sweep(later)["closed"] == 1
    db.session.refresh(conversation)
    assert (conversation.status, conversation.end_reason) == (ConversationStatus.CLOSED, EndReason.INACTIVITY)
    assert session.get(ExpertLoad, expert.id).open_chats == 0


def test_an_expert_coming_online_gets_the_waiting_conversation_at_once(session, brand):
    expert = online_expert(brand)
    session.get(ExpertPresence, expert.id).status = PresenceStatus.OFFLINE
    session.commit()
    conversation = arrive(brand)
    assert conversation.status == ConversationStatus.WAITING
    presence.go_online(session.get(User, expert.user_id))
    assert offer_of(conversation.id).expert_id == expert.id


def test_an_expert_going_offline_hands_their_offers_to_others(session, brand):
    first, second = online_expert(brand), online_expert(brand)
    session.commit()
    conversation = arrive(brand)
    offered = offer_of(conversation.id).expert_id
    leaving = first if offered == first.id else second
    presence.go_offline(session.get(User, leaving.user_id))
    assert offer_of(conversation.id).expert_id == (second if leaving is first else first).id
    assert loads.counters_match() == []


def test_brands_that_want_booked_experts_only_route_to_those_on_shift(session, brand):
    brand.allow_unbooked_online = False
    unbooked, booked = online_expert(brand), online_expert(brand)
    now = utcnow()
    slot = ShiftSlotFactory(brand_id=brand.id, starts_at=now - dt.timedelta(hours=1),
                            ends_at=now + dt.timedelta(hours=1))
    ShiftBookingFactory(slot_id=slot.id, expert_id=booked.id)
    session.get(ExpertLoad, booked.id).open_chats = 2  # more loaded, yet the only one allowed
    session.commit()
    conversation = arrive(brand)
    assert offer_of(conversation.id).expert_id == booked.id
    assert unbooked.id != booked.id


def test_the_expert_api_accepts_writes_and_closes(client, session, brand):
    expert = online_expert(brand)
    session.commit()
    conversation = arrive(brand)
    csrf = {"X-CSRFToken": log_in(client, session.get(User, expert.user_id).email)}
    inbox = client.get("/api/v1/expert/inbox").json
    assert [o["conversation_id"] for o in inbox["offers"]] == [conversation.id]
    accepted = client.post(f"/api/v1/offers/{inbox['offers'][0]['offer_id']}/accept", headers=csrf)
    assert accepted.status_code == 200 and accepted.json["status"] == "active"
    again = client.post(f"/api/v1/offers/{inbox['offers'][0]['offer_id']}/accept", headers=csrf)
    assert again.status_code == 409
    sent = client.post(f"/api/v1/conversations/{conversation.id}/messages", headers=csrf,
                       json={"client_id": "e-1", "body": "Bonjour"})
    assert sent.status_code == 201 and sent.json["seq"] == 1
    assert client.get(f"/api/v1/conversations/{conversation.id}/messages?after=0").json["messages"][0]["body"] == \
        "Bonjour"
    closed = client.post(f"/api/v1/conversations/{conversation.id}/close", headers=csrf)
    assert closed.json["status"] == "closed"
    assert client.post(f"/api/v1/conversations/{conversation.id}/messages", headers=csrf,
                       json={"client_id": "e-2", "body": "late"}).status_code == 409


def test_the_brand_live_view_lists_waiting_and_active(client, session, brand):
    expert = online_expert(brand)
    session.commit()
    active = arrive(brand)
    offers.accept_offer(expert.id, offer_of(active.id).id)
    session.get(ExpertPresence, expert.id).status = PresenceStatus.AWAY
    session.commit()
    waiting = arrive(brand)
    log_in(client, admin_of(session, brand).email)
    live = client.get(f"/api/v1/brands/{brand.id}/conversations/live").json
    assert [row["id"] for row in live["waiting"]] == [waiting.id]
    assert [(row["id"], row["expert_name"]) for row in live["active"]] == [(active.id, expert.display_name)]
    assert live["experts_online"] == 0
