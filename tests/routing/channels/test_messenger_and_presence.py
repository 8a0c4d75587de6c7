"""Messenger through the same path; a messaging app's customer has no page: present while they write, then away."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from marketplace.database import utcnow
from marketplace.routing.channels import outbound
from marketplace.routing.door import departures
from marketplace.routing.models import (
    Channel,
    ChannelDelivery,
    Conversation,
    ConversationStatus,
    DeliveryState,
    ExpertLoad,
    Message,
)
from tests.routing.channels.conftest import CUSTOMER, PERSON, connect
from tests.routing.conftest import received

pytestmark = pytest.mark.usefixtures("graph_settings")


def test_a_messenger_message_is_routed_and_the_answer_reaches_the_person(
        session, brand, expert_socket, fake_graph, page, messenger_relay):
    expert, sio = expert_socket
    channel = connect(session, brand, page)
    fake_graph.deliver_inbound(page, PERSON, "Bonjour, la lampe est-elle en stock ?")
    assert [answer.status_code for answer in messenger_relay(1)] == [200]
    offer = received(sio, "offer")[-1]
    assert sio.emit("offer_accept", {"offer_id": offer["offer_id"]}, callback=True)["ok"]
    conversation = session.get(Conversation, offer["conversation_id"])
    assert (conversation.channel, conversation.channel_id, conversation.channel_customer) == \
        (Channel.MESSENGER, channel.id, PERSON)

    reply = sio.emit("chat_send", {"conversation_id": conversation.id, "client_id": "e-1", "body": "Oui, deux."},
                     callback=True)
    assert reply["ok"], reply
    assert outbound.send_due() == 1
    [sent] = fake_graph.sent(to=PERSON, account=page)
    assert (sent.text, sent.tag) == ("Oui, deux.", None)  # within 24 hours: a plain RESPONSE
    assert [answer.status_code for answer in messenger_relay(1)] == [200]  # Messenger's delivery receipt
    session.expire_all()
    assert session.get(ChannelDelivery, reply_message_id(session, conversation.id)).state == DeliveryState.DELIVERED


def reply_message_id(session, conversation_id):
    return session.scalar(sa.select(Message.id).where(Message.conversation_id == conversation_id, Message.seq == 2))


def test_after_24_hours_a_persons_reply_goes_out_tagged_human_agent(
        session, brand, expert_socket, fake_graph, page, messenger_relay):
    expert, sio = expert_socket
    connect(session, brand, page)
    two_days_ago = fake_graph.now() - 2 * 86400
    fake_graph.deliver_inbound(page, PERSON, "Are you there?", timestamp=two_days_ago)
    messenger_relay(1)
    offer = received(sio, "offer")[-1]
    sio.emit("offer_accept", {"offer_id": offer["offer_id"]}, callback=True)
    chat = sio.emit("chat_send", {"conversation_id": offer["conversation_id"], "client_id": "e-1", "body": "Yes!"},
                    callback=True)
    assert chat["ok"], chat
    assert outbound.send_due() == 1
    assert [record.tag for record in fake_graph.sent(to=PERSON)] == ["HUMAN_AGENT"]


def test_a_customer_who_stops_writing_frees_the_live_slot_and_comes_back_when_they_write(
        app, session, brand, expert_socket, fake_graph, number, whatsapp_relay):
    expert, sio = expert_socket
    connect(session, brand, number)
    fake_graph.deliver_inbound(number, CUSTOMER, "Hello")
    whatsapp_relay(1)
    offer = received(sio, "offer")[-1]
    sio.emit("offer_accept", {"offer_id": offer["offer_id"]}, callback=True)
    conversation_id = offer["conversation_id"]

    # Within the presence time the chat holds its live slot; past it, asynchronous (the channel is the way back).
    soon = utcnow() + dt.timedelta(seconds=app.config["VISITOR_GRACE_SECONDS"] + 5)
    assert departures.notice_gone_visitors(soon) == 0
    later = utcnow() + dt.timedelta(seconds=app.config["CHANNEL_PRESENCE_SECONDS"] + 5)
    assert departures.notice_gone_visitors(later) == 1
    session.expire_all()
    assert session.get(Conversation, conversation_id).status == ConversationStatus.ASYNCHRONOUS
    load = session.get(ExpertLoad, expert.id)
    assert (load.open_chats, load.async_chats) == (0, 1)
    # The expert still answers there: the reply goes to WhatsApp, not by e-mail.
    assert sio.emit("chat_send", {"conversation_id": conversation_id, "client_id": "e-1", "body": "Any news?"},
                    callback=True)["ok"]
    assert session.get(Conversation, conversation_id, populate_existing=True).continuation_due_at is None
    assert outbound.send_due() == 1

    fake_graph.deliver_inbound(number, CUSTOMER, "Back again")
    whatsapp_relay()
    session.expire_all()
    back = session.get(Conversation, conversation_id)
    assert (back.status, back.expert_id) == (ConversationStatus.ACTIVE, expert.id)
    assert session.get(ExpertLoad, expert.id).open_chats == 1


def test_a_waiting_customer_is_not_abandoned_for_want_of_a_page(app, session, brand, fake_graph, number,
                                                                 whatsapp_relay):
    connect(session, brand, number)  # nobody online: the conversation waits
    fake_graph.deliver_inbound(number, CUSTOMER, "Hello")
    whatsapp_relay(1)
    conversation = session.scalar(sa.select(Conversation).where(Conversation.channel == Channel.WHATSAPP))
    past_grace = utcnow() + dt.timedelta(seconds=app.config["VISITOR_GRACE_SECONDS"] + 5)
    assert past_grace < conversation.queued_at + dt.timedelta(seconds=brand.max_wait_seconds)
    departures.sweep(past_grace)
    session.expire_all()
    assert session.get(Conversation, conversation.id).status == ConversationStatus.WAITING
