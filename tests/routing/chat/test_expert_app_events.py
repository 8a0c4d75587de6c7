"""What the expert app is told: what an offer pays, that a visitor left or came back, the visitor's rating;
and what a waiting visitor is told when no online expert could take their chat."""

from __future__ import annotations

import datetime as dt

import pytest

from marketplace.brands import rates
from marketplace.database import db, utcnow
from marketplace.experts.models import ExpertPresence, PresenceStatus
from marketplace.routing.chat import messages
from marketplace.routing.door import departures, waits
from marketplace.routing.door import services as conversations
from marketplace.routing.models import Conversation, ConversationStatus, EndReason, Offer, OfferStatus, Sender
from marketplace.routing.router import admission, decisions, offers
from tests.routing.conftest import arrive, online_expert, received, visitor_token


def pending_offer(conversation_id: int) -> Offer | None:
    return db.session.scalar(db.select(Offer).where(Offer.conversation_id == conversation_id,
                                                    Offer.status == OfferStatus.PENDING))


def set_card(brand, price_cents: int, commission_bps: int, bonus_rules: list[dict]) -> None:
    card = rates.card_in_effect(brand)
    card.price_cents, card.commission_bps, card.bonus_rules = price_cents, commission_bps, bonus_rules
    db.session.commit()


def test_an_offer_says_what_the_chat_pays_the_expert_after_commission_with_its_bonuses(brand, expert_socket):
    _expert, sio = expert_socket
    set_card(brand, 250, 2000, [{"kind": "rating_at_least", "value": 4, "bonus_cents": 30}])
    arrive(brand)
    [offer] = received(sio, "offer")
    assert offer["pay"] == {"currency": brand.currency, "decimals": 2, "amount_cents": 200,
                            "bonuses": [{"kind": "rating_at_least", "value": 4, "bonus_cents": 30}]}


def test_the_pay_rounds_the_commission_as_earnings_do(session, brand):
    set_card(brand, 199, 2000, [])  # a 39.8 cent commission rounds to 40
    from marketplace.routing.events import offer_pay

    assert offer_pay(brand)["amount_cents"] == 159


def test_a_visitor_whose_only_expert_declined_is_told_nobody_can_take_it(session, brand):
    expert = online_expert(brand)
    session.commit()
    conversation = arrive(brand)
    assert waits.visitor_view(conversation)["no_expert_available"] is False  # offered: someone may take it
    offers.decline_offer(expert.id, pending_offer(conversation.id).id)
    db.session.refresh(conversation)
    view = waits.visitor_view(conversation)
    assert view["status"] == "waiting"
    assert view["no_expert_available"] is True
    assert view["estimated_wait_seconds"] is None
    assert view["may_leave_message"] is True


def test_a_visitor_with_nobody_online_is_told_so_and_shown_no_wait(session, brand):
    conversation = arrive(brand)
    view = waits.visitor_view(conversation)
    assert (view["status"], view["no_expert_available"], view["estimated_wait_seconds"]) == ("waiting", True, None)


def test_an_expert_busy_with_other_chats_still_counts_as_able_to_take_it_later(session, brand):
    brand.expert_concurrency = 1
    expert = online_expert(brand)
    session.commit()
    first = arrive(brand)
    offers.accept_offer(expert.id, pending_offer(first.id).id)
    second = arrive(brand)
    view = waits.visitor_view(second)
    assert view["no_expert_available"] is False
    assert view["estimated_wait_seconds"] is not None and view["estimated_wait_seconds"] > 0


def test_a_new_expert_online_makes_the_wait_true_again(session, brand):
    first_expert = online_expert(brand)
    session.commit()
    conversation = arrive(brand)
    offers.decline_offer(first_expert.id, pending_offer(conversation.id).id)
    db.session.refresh(conversation)
    assert waits.visitor_view(conversation)["no_expert_available"] is True
    online_expert(brand)
    session.commit()
    decisions.route_brand(brand.id)
    db.session.refresh(conversation)
    assert waits.visitor_view(conversation)["no_expert_available"] is False


def test_the_wait_counts_the_time_experts_really_take_to_accept(session, brand):
    brand.expert_concurrency = 1
    expert = online_expert(brand)
    session.commit()
    for _ in range(3):
        conversation = arrive(brand)
        offer = pending_offer(conversation.id)
        offer.created_at = utcnow() - dt.timedelta(seconds=40)
        session.commit()
        offers.accept_offer(expert.id, offer.id)
        admission.end_conversation(conversation.id, ConversationStatus.CLOSED, EndReason.EXPERT)
    assert waits._seconds_to_accept(brand.id) == pytest.approx(40, abs=2)


def active_chat(session, brand, token: str | None = None) -> tuple[Conversation, object]:
    expert = online_expert(brand)
    session.commit()
    conversation = arrive(brand, token or visitor_token())
    offers.accept_offer(expert.id, pending_offer(conversation.id).id)
    return conversation, expert


def test_the_expert_is_told_when_the_visitors_page_went_and_when_it_comes_back(app, session, brand, expert_socket):
    expert, sio = expert_socket
    conversation = arrive(brand)
    offers.accept_offer(expert.id, pending_offer(conversation.id).id)
    received(sio, "chat")
    grace = app.config["VISITOR_GRACE_SECONDS"]

    assert departures.notice_gone_visitors(utcnow() + dt.timedelta(seconds=grace - 5)) == 0
    later = utcnow() + dt.timedelta(seconds=grace + 1)
    assert departures.notice_gone_visitors(later) == 1
    assert departures.notice_gone_visitors(later) == 0  # told once
    [gone] = received(sio, "chat")
    assert gone["conversation_id"] == conversation.id and gone["status"] == "active"
    assert db.session.get(Conversation, conversation.id).visitor_left_at is not None

    conversations.visitor_seen(conversation.id)  # the visitor's page checks in again
    [back] = received(sio, "chat")
    assert back["conversation_id"] == conversation.id
    assert db.session.get(Conversation, conversation.id).visitor_left_at is None
    conversations.visitor_seen(conversation.id)
    assert received(sio, "chat") == []  # nothing new to tell


def test_a_waiting_visitor_who_left_is_not_marked_but_abandoned(app, session, brand):
    conversation = arrive(brand)
    later = utcnow() + dt.timedelta(seconds=app.config["VISITOR_GRACE_SECONDS"] + 1)
    assert departures.notice_gone_visitors(later) == 0
    assert db.session.get(Conversation, conversation.id).visitor_left_at is None


def test_the_expert_sees_the_rating_and_comment_the_visitor_gives_after_the_close(session, brand, expert_socket):
    expert, sio = expert_socket
    token = visitor_token()
    conversation = arrive(brand, token)
    offers.accept_offer(expert.id, pending_offer(conversation.id).id)
    messages.post_message(conversation.id, Sender.EXPERT, "e-1", "Hello", expert_id=expert.id)
    admission.end_conversation(conversation.id, ConversationStatus.CLOSED, EndReason.EXPERT)
    received(sio, "chat")
    conversations.rate(brand.widget_key, token, conversation.id, 5, "Clear and quick, thank you")
    [rated] = received(sio, "chat")
    assert rated["conversation_id"] == conversation.id and rated["visitor_rating"] == 5


def test_pausing_keeps_the_expert_online_but_offers_them_nothing(session, brand):
    from marketplace.accounts.models import User
    from marketplace.experts import presence

    expert = online_expert(brand)
    session.commit()
    user = session.get(User, expert.user_id)
    info = presence.pause(user)
    assert (info.status, info.away_reason.value) == (PresenceStatus.AWAY, "paused")
    conversation = arrive(brand)
    assert pending_offer(conversation.id) is None
    assert presence.heartbeat(user).status == PresenceStatus.AWAY  # a heartbeat does not undo a pause
    presence.go_online(user)
    decisions.route_brand(brand.id)
    assert pending_offer(conversation.id) is not None
    assert session.get(ExpertPresence, expert.id).status == PresenceStatus.AVAILABLE


def test_the_status_bar_switch_pauses_and_resumes_over_the_socket(session, expert_socket):
    expert, sio = expert_socket
    assert sio.emit("presence_set", {"status": "away"}, callback=True)["status"] == "away"
    assert session.get(ExpertPresence, expert.id, populate_existing=True).away_reason.value == "paused"
    assert sio.emit("presence_set", {"status": "available"}, callback=True)["status"] == "available"
    refused = sio.emit("presence_set", {"status": "asleep"}, callback=True)
    assert refused["field"] == "status" and refused["error"]
    assert sio.emit("presence_set", ["away"], callback=True)["field"] == "status"
    assert session.get(ExpertPresence, expert.id, populate_existing=True).status == PresenceStatus.AVAILABLE


def test_the_api_pauses_and_resumes_too(client, session, brand):
    from marketplace.accounts.models import User
    from tests.conftest import log_in

    expert = online_expert(brand)
    session.commit()
    log_in(client, session.get(User, expert.user_id).email)
    token = client.get("/expert").text.split('name="csrf-token" content="')[1].split('"')[0]
    paused = client.put("/api/v1/experts/me/presence", json={"status": "away"}, headers={"X-CSRFToken": token})
    assert paused.status_code == 200 and paused.json["away_reason"] == "paused"
    refused = client.put("/api/v1/experts/me/presence", json={"status": "asleep"}, headers={"X-CSRFToken": token})
    assert refused.status_code == 422 and "status" in refused.json["errors"]
    back = client.put("/api/v1/experts/me/presence", json={"status": "available"}, headers={"X-CSRFToken": token})
    assert back.status_code == 200 and back.json["status"] == "available"


def test_a_brand_that_wants_booked_experts_tells_the_visitor_nobody_on_shift_can_take_it(session, brand):
    brand.allow_unbooked_online = False
    online_expert(brand)  # online, but holding no seat in any of the brand's shifts
    session.commit()
    conversation = arrive(brand)
    assert pending_offer(conversation.id) is None
    view = waits.visitor_view(conversation)
    assert (view["no_expert_available"], view["estimated_wait_seconds"]) == (True, None)


def test_an_offer_in_a_currency_without_cents_says_so(session, brand):
    from marketplace.routing.events import offer_pay

    brand.currency = "JPY"
    set_card(brand, 300, 2000, [])
    assert (offer_pay(brand)["decimals"], offer_pay(brand)["amount_cents"]) == (0, 240)
