"""An offer is its expert's business: another expert's answers as an unknown one; one's own says what became of it."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import User
from marketplace.database import db, utcnow
from marketplace.experts.models import ExpertProfile
from marketplace.extensions import socketio
from marketplace.routing.door import services as conversations
from marketplace.routing.models import Conversation, ConversationStatus, Offer, OfferStatus
from marketplace.routing.router import loads, offers
from tests.conftest import log_in
from tests.routing.conftest import arrive, online_expert, visitor_token


def offer_for(brand) -> tuple[Offer, int]:
    """A visitor arrives while two experts are online: the offer, and the expert it was not made to."""
    first, second = online_expert(brand), online_expert(brand)
    db.session.commit()
    conversation = arrive(brand)
    offer = db.session.scalar(sa.select(Offer).where(Offer.conversation_id == conversation.id))
    assert offer.status == OfferStatus.PENDING
    return offer, ({first.id, second.id} - {offer.expert_id}).pop()


def logged_in_as(client, session, expert_id: int) -> dict[str, str]:
    """Log the expert in on the client; the CSRF header its writes need."""
    user = session.get(User, session.get(ExpertProfile, expert_id).user_id)
    return {"X-CSRFToken": log_in(client, user.email)}


def unknown_offer_id() -> int:
    return (db.session.scalar(sa.select(sa.func.max(Offer.id))) or 0) + 1000


def answer(client, csrf, offer_id: int, action: str):
    response = client.post(f"/api/v1/offers/{offer_id}/{action}", headers=csrf)
    return response.status_code, response.json


def still_pending(offer: Offer) -> None:
    db.session.expire_all()
    assert db.session.get(Offer, offer.id).status == OfferStatus.PENDING
    assert db.session.get(Conversation, offer.conversation_id).status == ConversationStatus.OFFERED
    assert loads.counters_match() == []


@pytest.mark.parametrize("action", ["accept", "decline"])
def test_it_answers_another_experts_pending_offer_as_an_unknown_one(client, session, brand, action):
    offer, outsider = offer_for(brand)
    csrf = logged_in_as(client, session, outsider)
    unknown = answer(client, csrf, unknown_offer_id(), action)
    assert unknown[0] == 404
    assert answer(client, csrf, offer.id, action) == unknown
    still_pending(offer)


@pytest.mark.parametrize("outcome", [OfferStatus.ACCEPTED, OfferStatus.EXPIRED])
@pytest.mark.parametrize("action", ["accept", "decline"])
def test_it_answers_another_experts_settled_offer_as_an_unknown_one(client, session, brand, outcome, action):
    offer, outsider = offer_for(brand)
    if outcome == OfferStatus.ACCEPTED:
        offers.accept_offer(offer.expert_id, offer.id)
    else:
        offers.expire_offers(offer.expires_at + dt.timedelta(seconds=1))
    csrf = logged_in_as(client, session, outsider)
    unknown = answer(client, csrf, unknown_offer_id(), action)
    assert answer(client, csrf, offer.id, action) == unknown
    assert db.session.get(Offer, offer.id, populate_existing=True).status == outcome


@pytest.mark.parametrize("event", ["offer_accept", "offer_decline"])
def test_the_socket_answers_another_experts_offer_as_an_unknown_one(app, client, session, brand, event):
    offer, outsider = offer_for(brand)
    logged_in_as(client, session, outsider)
    sio = socketio.test_client(app, flask_test_client=client)
    try:
        unknown = sio.emit(event, {"offer_id": unknown_offer_id()}, callback=True)
        assert unknown["ok"] is False
        assert sio.emit(event, {"offer_id": offer.id}, callback=True) == unknown
    finally:
        sio.disconnect()
    still_pending(offer)


@pytest.mark.parametrize("action", ["accept", "decline"])
def test_it_tells_the_expert_their_own_offer_expired(client, session, brand, action):
    offer, _ = offer_for(brand)
    offers.expire_offers(offer.expires_at + dt.timedelta(seconds=1))
    csrf = logged_in_as(client, session, offer.expert_id)
    status, problem = answer(client, csrf, offer.id, action)
    assert (status, problem["detail"]) == (409, "This offer has expired.")
    assert db.session.get(Offer, offer.id, populate_existing=True).status == OfferStatus.EXPIRED


def test_it_tells_the_expert_their_own_offer_ran_out_of_time_before_the_sweep(client, session, brand):
    offer, _ = offer_for(brand)
    db.session.get(Offer, offer.id).expires_at = utcnow() - dt.timedelta(seconds=1)
    session.commit()
    csrf = logged_in_as(client, session, offer.expert_id)
    status, problem = answer(client, csrf, offer.id, "accept")
    assert (status, problem["detail"]) == (409, "This offer has expired.")
    assert db.session.get(Conversation, offer.conversation_id, populate_existing=True).expert_id is None


@pytest.mark.parametrize("action", ["accept", "decline"])
def test_it_tells_the_expert_they_already_took_the_chat(client, session, brand, action):
    offer, _ = offer_for(brand)
    csrf = logged_in_as(client, session, offer.expert_id)
    assert answer(client, csrf, offer.id, "accept")[0] == 200
    status, problem = answer(client, csrf, offer.id, action)
    assert (status, problem["detail"]) == (409, "You have already accepted this chat.")
    assert db.session.get(Conversation, offer.conversation_id, populate_existing=True).status == \
        ConversationStatus.ACTIVE


def test_it_tells_the_expert_they_already_declined(client, session, brand):
    offer, _ = offer_for(brand)
    csrf = logged_in_as(client, session, offer.expert_id)
    assert answer(client, csrf, offer.id, "decline")[0] == 204
    status, problem = answer(client, csrf, offer.id, "accept")
    assert (status, problem["detail"]) == (409, "You have already declined this offer.")


def test_it_tells_the_expert_their_offer_was_withdrawn_when_the_visitor_left(client, session, brand):
    token = visitor_token()
    first = online_expert(brand)
    session.commit()
    conversation = arrive(brand, token)
    offer = db.session.scalar(sa.select(Offer).where(Offer.conversation_id == conversation.id))
    conversations.leave(brand.widget_key, token, conversation.id)
    csrf = logged_in_as(client, session, first.id)
    status, problem = answer(client, csrf, offer.id, "accept")
    assert (status, problem["detail"]) == (409, "This offer was withdrawn.")
