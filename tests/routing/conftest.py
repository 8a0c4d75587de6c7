"""Fixtures for conversations: a brand with a widget, experts online for it, visitors with tokens."""

from __future__ import annotations

import secrets

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import User
from marketplace.brands.models import Brand, BrandRole
from marketplace.database import db, utcnow
from marketplace.experts.models import ExpertPresence, ExpertProfile, PresenceStatus
from marketplace.extensions import socketio
from marketplace.routing import events
from marketplace.routing.door import services as conversations
from marketplace.routing.models import Conversation, ExpertLoad, Message
from tests.conftest import log_in
from tests.factories import BrandFactory, EnrolmentFactory, MembershipFactory


def visitor_token() -> str:
    return secrets.token_hex(20)


def online_expert(brand: Brand, **profile_fields) -> ExpertProfile:
    """An approved expert the brand approved, available now, with an empty load; flushed."""
    enrolment = EnrolmentFactory(brand_id=brand.id, **{f"expert__{k}": v for k, v in profile_fields.items()})
    profile = enrolment.expert
    now = utcnow()
    db.session.add(ExpertPresence(expert_id=profile.id, status=PresenceStatus.AVAILABLE, changed_at=now,
                                  last_heartbeat_at=now, missed_offers_in_row=0))
    db.session.add(ExpertLoad(expert_id=profile.id, open_chats=0, pending_offers=0))
    db.session.flush()
    return profile


def admin_of(session, brand: Brand, role: BrandRole = BrandRole.ADMIN) -> User:
    """A member of the brand (admin unless told); committed."""
    user = session.get(User, MembershipFactory(brand=brand, role=role).user_id)
    session.commit()
    return user


def arrive(brand: Brand, token: str | None = None, **fields) -> Conversation:
    return conversations.start_conversation(brand.widget_key, token or visitor_token(), **fields)


@pytest.fixture
def brand(session) -> Brand:
    brand = BrandFactory(name="Lumière", widget_origins=["https://shop.example.com"])
    session.commit()
    return brand


def messages_when_offered(monkeypatch) -> dict[int, list[str]]:
    """The bodies each conversation held the moment the router offered it (read in the router's transaction), by
    conversation id, as offers are made from now on."""
    held: dict[int, list[str]] = {}
    offers_made = events.offers_made

    def noting(brand, made, *args):
        for _offer, conversation, _user_id in made:
            held[conversation.id] = list(db.session.scalars(
                sa.select(Message.body).where(Message.conversation_id == conversation.id).order_by(Message.seq)))
        offers_made(brand, made, *args)

    monkeypatch.setattr(events, "offers_made", noting)
    return held


def received(sio, name: str, namespace: str = "/") -> list:
    """The payloads of the `name` events the client got since the last call (in arrival order)."""
    payloads = []
    for event in sio.get_received(namespace):
        if event["name"] == name:
            args = event["args"]
            payloads.append(args[0] if isinstance(args, list) else args)
    return payloads


@pytest.fixture
def expert_socket(app, client, session, brand):
    expert = online_expert(brand)
    session.commit()
    log_in(client, session.get(User, expert.user_id).email)
    sio = socketio.test_client(app, flask_test_client=client)
    assert sio.is_connected()
    sio.get_received()
    yield expert, sio
    if sio.is_connected():
        sio.disconnect()
