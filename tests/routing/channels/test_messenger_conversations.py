"""A Messenger person's message, through the signed webhook, becomes a conversation routed like a chat; the expert's
answer goes out through the Send API as Meta wants it, inside the 24-hour window or tagged HUMAN_AGENT within 7 days.

test_messenger_and_presence.py proves the first routing and the HUMAN_AGENT tag two days on; this file proves the
rest of the path the WhatsApp tests prove (receipts, files, retries, refusals) and the Send API's fields exactly.
"""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from PIL import Image

from marketplace.accounts.models import User
from marketplace.routing.attachments.storage import storage
from marketplace.routing.channels import outbound
from marketplace.routing.models import (
    Attachment,
    Channel,
    ChannelDelivery,
    Conversation,
    ConversationStatus,
    DeliveryState,
    Message,
)
from tests.fake_graph import bodies
from tests.routing.attachments.conftest import TEST_SIGNATURE, clamd, clamd_socket  # noqa: F401 - fixtures used here
from tests.routing.attachments.helpers import file_form, logged_in
from tests.routing.attachments.test_inspection import GPS_INFO, MAKE, phone_photo
from tests.routing.channels.conftest import PERSON, connect
from tests.routing.conftest import received

pytestmark = pytest.mark.usefixtures("graph_settings")
HOUR, DAY = 3600, 86400


def _conversations(session):
    return list(session.scalars(sa.select(Conversation).where(Conversation.channel == Channel.MESSENGER)
                                .order_by(Conversation.id)))


def _messages(session, conversation_id):
    return list(session.scalars(sa.select(Message).where(Message.conversation_id == conversation_id)
                                .order_by(Message.seq).execution_options(populate_existing=True)))


def _message_count(session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(Message))


def _accepted(sio, fake_graph, page, relay, text="Bonjour, la lampe est-elle en stock ?", timestamp=None):
    """The person writes (at `timestamp`, the fake's clock); the online expert accepts the offer; its id, its chat."""
    fake_graph.deliver_inbound(page, PERSON, text, timestamp=timestamp)
    assert [answer.status_code for answer in relay(1)] == [200]
    offer = received(sio, "offer")[-1]
    accepted = sio.emit("offer_accept", {"offer_id": offer["offer_id"]}, callback=True)
    assert accepted["ok"], accepted
    return offer["conversation_id"], accepted["chat"]


def _answer(sio, conversation_id, body, client_id="e-1"):
    return sio.emit("chat_send", {"conversation_id": conversation_id, "client_id": client_id, "body": body},
                    callback=True)


def test_the_answer_goes_out_as_a_response_and_its_delivery_and_read_receipts_show_on_it(
        session, brand, expert_socket, fake_graph, page, messenger_relay):
    expert, sio = expert_socket
    connect(session, brand, page)
    conversation_id, chat = _accepted(sio, fake_graph, page, messenger_relay)
    conversation = session.get(Conversation, conversation_id, populate_existing=True)
    assert (conversation.status, conversation.expert_id) == (ConversationStatus.ACTIVE, expert.id)
    assert chat["channel"] == "messenger" and chat["window_closes_at"] is not None
    assert [(m.sender.value, m.body) for m in _messages(session, conversation_id)] == \
        [("visitor", "Bonjour, la lampe est-elle en stock ?")]

    reply = _answer(sio, conversation_id, "Oui, il en reste deux.")
    assert reply["ok"] and reply["message"]["delivery"] == {"state": "pending", "error": None}
    assert outbound.send_due() == 1
    [sent] = fake_graph.sent(to=PERSON, account=page)
    # The Send API's request as Meta documents it: the person's page-scoped id, the text, a RESPONSE, no tag.
    assert sent.body == {"recipient": {"id": PERSON}, "message": {"text": "Oui, il en reste deux."},
                         "messaging_type": "RESPONSE"}
    record = session.scalar(sa.select(ChannelDelivery).execution_options(populate_existing=True))
    assert (record.state, record.platform_message_id) == (DeliveryState.SENT, sent.message_id)
    assert sent.message_id.startswith("m_")

    # Messenger's delivery receipt names the message; its read receipt names none, only a watermark.
    assert [answer.status_code for answer in messenger_relay(1)] == [200]
    fake_graph.deliver_status(sent.message_id, "read")
    assert [answer.status_code for answer in messenger_relay(1)] == [200]
    told = received(sio, "message_delivery")
    assert [event["delivery"]["state"] for event in told] == ["sent", "delivered", "read"]
    assert told[-1] == {"conversation_id": conversation_id, "seq": 2, "delivery": {"state": "read", "error": None}}
    synced = sio.emit("chat_sync", {"conversation_id": conversation_id, "after_seq": 1}, callback=True)
    assert synced["messages"][0]["delivery"] == {"state": "read", "error": None}
    session.expire_all()
    stored = session.get(ChannelDelivery, record.message_id)
    assert stored.state == DeliveryState.READ and stored.delivered_at is not None and stored.read_at is not None
    # A late delivery receipt never moves it back.
    fake_graph.deliver_status(sent.message_id, "delivered")
    messenger_relay(1)
    session.expire_all()
    assert session.get(ChannelDelivery, record.message_id).state == DeliveryState.READ


def test_an_answer_read_the_moment_it_arrives_shows_read(session, brand, expert_socket, fake_graph, page,
                                                           messenger_relay):
    """Meta's read watermark can fall within the send call (Meta stamps the message then): it still covers it."""
    expert, sio = expert_socket
    fake_graph.auto_statuses = ("delivered", "read")  # the person has the chat open: read as it arrives
    connect(session, brand, page)
    conversation_id, _chat = _accepted(sio, fake_graph, page, messenger_relay)
    for number in range(1, 5):
        assert _answer(sio, conversation_id, f"Réponse {number}", client_id=f"e-{number}")["ok"]
        assert outbound.send_due() == 1
        assert [answer.status_code for answer in messenger_relay(2)] == [200, 200]
        session.expire_all()
        assert session.scalars(sa.select(ChannelDelivery.state)).all() == [DeliveryState.READ] * number


@pytest.mark.parametrize("wrote_ago", [25 * HOUR, 7 * DAY - HOUR])
def test_past_24_hours_and_within_7_days_the_reply_goes_out_as_a_human_agent_message_tag(
        session, brand, expert_socket, fake_graph, page, messenger_relay, wrote_ago):
    expert, sio = expert_socket
    connect(session, brand, page)
    conversation_id, chat = _accepted(sio, fake_graph, page, messenger_relay, "Vous êtes là ?",
                                      timestamp=fake_graph.now() - wrote_ago)
    reply = _answer(sio, conversation_id, "Oui, je suis là.")
    assert reply["ok"], reply
    assert outbound.send_due() == 1
    [sent] = fake_graph.sent(to=PERSON, account=page)
    assert sent.body == {"recipient": {"id": PERSON}, "message": {"text": "Oui, je suis là."},
                         "messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    session.expire_all()
    assert session.scalar(sa.select(ChannelDelivery.state)) == DeliveryState.SENT  # Meta took it


def test_after_7_days_free_text_is_refused_before_it_is_stored_naming_the_field(
        session, brand, expert_socket, fake_graph, page, messenger_relay):
    expert, sio = expert_socket
    connect(session, brand, page)
    conversation_id, _chat = _accepted(sio, fake_graph, page, messenger_relay, "Il y a longtemps",
                                       timestamp=fake_graph.now() - (7 * DAY + HOUR))
    reply = _answer(sio, conversation_id, "Désolé du retard")
    assert reply == {"ok": False, "field": "body", "error":
                     "The customer's 7-day window for a person's reply has closed: they must write first."}
    assert [m.sender.value for m in _messages(session, conversation_id)] == ["visitor"]
    assert session.scalar(sa.select(sa.func.count()).select_from(ChannelDelivery)) == 0
    assert outbound.send_due() == 0
    assert fake_graph.sent(to=PERSON) == []

    # Once the person writes again, the window is open and the same answer goes out as a plain RESPONSE.
    fake_graph.deliver_inbound(page, PERSON, "Toujours intéressé")
    assert [answer.status_code for answer in messenger_relay(1)] == [200]
    assert _answer(sio, conversation_id, "Désolé du retard", client_id="e-2")["ok"]
    assert outbound.send_due() == 1
    assert [(record.text, record.body["messaging_type"]) for record in fake_graph.sent(to=PERSON)] == \
        [("Désolé du retard", "RESPONSE")]


@pytest.mark.usefixtures("clamd")  # the app scans with the test run's clamd
def test_an_image_arrives_scanned_upright_and_stripped_of_its_metadata(
        session, brand, fake_graph, page, messenger_relay):
    connect(session, brand, page)
    inbound = fake_graph.deliver_inbound(page, PERSON, kind="image", content=phone_photo(), mime_type="image/jpeg")
    assert inbound.url is not None  # Messenger names a file by its CDN address, fetched by the app
    assert [answer.status_code for answer in messenger_relay(1)] == [200]
    [conversation] = _conversations(session)
    [message] = _messages(session, conversation.id)
    attachment = session.scalar(sa.select(Attachment).where(Attachment.message_id == message.id))
    assert (message.sender.value, message.body) == ("visitor", "")  # Messenger carries no caption
    assert (attachment.kind.value, attachment.content_type, attachment.width, attachment.height) == \
        ("image", "image/jpeg", 40, 60)  # turned as the phone was held
    kept = Image.open(io.BytesIO(storage().get(attachment.storage_key)))
    assert MAKE not in kept.getexif() and GPS_INFO not in kept.getexif()


@pytest.mark.usefixtures("clamd")  # the app scans with the test run's clamd
def test_an_infected_file_is_refused_by_the_scanner_and_arrives_as_a_line_saying_so(
        session, brand, fake_graph, page, messenger_relay):
    connect(session, brand, page)
    picture = io.BytesIO()
    Image.new("RGB", (32, 32), "orange").save(picture, "JPEG", comment=TEST_SIGNATURE)
    fake_graph.deliver_inbound(page, PERSON, kind="image", content=picture.getvalue(), mime_type="image/jpeg")
    assert [answer.status_code for answer in messenger_relay(1)] == [200]
    [conversation] = _conversations(session)
    [message] = _messages(session, conversation.id)
    assert message.body == "A file arrived that cannot be shown here (image)."
    assert session.scalar(sa.select(sa.func.count()).select_from(Attachment)) == 0


def test_a_quick_reply_arrives_as_the_text_the_person_tapped(session, brand, fake_graph, page, messenger_relay):
    connect(session, brand, page)
    fake_graph.deliver_inbound(page, PERSON, button=("SIZE_LARGE", "La grande"))
    assert [answer.status_code for answer in messenger_relay(1)] == [200]
    [conversation] = _conversations(session)
    assert [m.body for m in _messages(session, conversation.id)] == ["La grande"]


def test_the_same_delivery_retried_is_stored_once(session, brand, fake_graph, page, messenger_relay):
    connect(session, brand, page)
    inbound = fake_graph.deliver_inbound(page, PERSON, "Une seule fois", repeat=3)
    assert inbound.message_id.startswith("m_")
    assert [answer.status_code for answer in messenger_relay(3)] == [200, 200, 200]
    [conversation] = _conversations(session)
    assert [m.body for m in _messages(session, conversation.id)] == ["Une seule fois"]
    assert conversation.channel_customer == PERSON


@pytest.mark.parametrize("signature", ["bad", "none"])
def test_a_badly_signed_or_unsigned_delivery_is_refused_and_stores_nothing(
        session, brand, fake_graph, page, messenger_relay, signature):
    connect(session, brand, page)
    fake_graph.deliver_inbound(page, PERSON, "Forgé", signature=signature, retry=False)
    assert [answer.status_code for answer in messenger_relay(1)] == [403]
    assert _conversations(session) == []
    assert _message_count(session) == 0


def test_a_body_naming_one_connected_page_and_signed_with_anothers_secret_is_refused(
        session, brand, fake_graph, page, messenger_relay):
    """Each page has its own app secret: a body is verified with the secret of the page it names."""
    other = fake_graph.add_messenger_page(webhook_url=page.webhook_url)
    connect(session, brand, page)
    connect(session, brand, other)
    at = int(fake_graph.now() * 1000)
    event = bodies.messenger_event(other, PERSON, at, message={"mid": "m_forged", "text": "Forged"})
    fake_graph.deliver_body(page, bodies.messenger_envelope(other, [event], at), retry=False)  # page's secret
    assert [answer.status_code for answer in messenger_relay(1)] == [403]
    assert _message_count(session) == 0


def test_an_unknown_page_is_refused(session, brand, fake_graph, page, messenger_relay):
    stranger = fake_graph.add_messenger_page(webhook_url=page.webhook_url)  # signed, but nobody connected it
    connect(session, brand, page)
    fake_graph.deliver_inbound(stranger, PERSON, "Bonjour ?", retry=False)
    assert [answer.status_code for answer in messenger_relay(1)] == [403]
    assert _conversations(session) == []
    assert _message_count(session) == 0


def test_the_subscription_handshake_answers_a_connected_pages_verify_token_only(client, session, brand, page):
    connect(session, brand, page)
    query = {"hub.mode": "subscribe", "hub.challenge": "2026", "hub.verify_token": page.verify_token}
    answer = client.get("/webhooks/messenger", query_string=query)
    assert (answer.status_code, answer.get_data(as_text=True)) == (200, "2026")
    assert client.get("/webhooks/messenger", query_string={**query, "hub.verify_token": "guess"}).status_code == 403
    assert client.get("/webhooks/whatsapp", query_string=query).status_code == 403  # another kind's token


def test_the_experts_photo_is_uploaded_then_sent_by_its_id_and_its_caption_follows_tagged_like_it(
        app, session, brand, expert_socket, fake_graph, page, messenger_relay):
    expert, sio = expert_socket
    connect(session, brand, page)
    conversation_id, _chat = _accepted(sio, fake_graph, page, messenger_relay, "Une photo ?",
                                       timestamp=fake_graph.now() - 2 * DAY)
    client, csrf = logged_in(app, session.get(User, expert.user_id))
    sent = client.post(f"/api/v1/conversations/{conversation_id}/attachments", headers={"X-CSRFToken": csrf},
                       **file_form(phone_photo(), name="lampe.jpg", body="La voici"))
    assert sent.status_code == 201, sent.get_data(as_text=True)
    assert outbound.send_due() == 1
    photo, caption = fake_graph.sent(to=PERSON, account=page)
    attachment_id = photo.body["message"]["attachment"]["payload"]["attachment_id"]
    assert photo.body == {"recipient": {"id": PERSON}, "messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT",
                          "message": {"attachment": {"type": "image", "payload": {"attachment_id": attachment_id}}}}
    stored = session.get(Attachment, sent.get_json()["attachment"]["id"])
    assert fake_graph.media(attachment_id).content == storage().get(stored.storage_key)  # the cleaned copy
    assert caption.body == {"recipient": {"id": PERSON}, "message": {"text": "La voici"},
                            "messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    session.expire_all()
    assert session.get(ChannelDelivery, stored.message_id).platform_message_id == photo.message_id
