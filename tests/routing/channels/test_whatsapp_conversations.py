"""A WhatsApp customer's message becomes a conversation routed like a chat, and the expert's answer goes back out."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from PIL import Image

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
from tests.routing.channels.conftest import CUSTOMER, connect
from tests.routing.conftest import messages_when_offered, received

pytestmark = pytest.mark.usefixtures("graph_settings")


def _conversations(session):
    return list(session.scalars(sa.select(Conversation).where(Conversation.channel == Channel.WHATSAPP)
                                .order_by(Conversation.id)))


def _messages(session, conversation_id):
    return list(session.scalars(sa.select(Message).where(Message.conversation_id == conversation_id)
                                .order_by(Message.seq)))


def _accepted(sio, session, fake_graph, number, relay, text="Hello, is the lamp in stock?"):
    fake_graph.deliver_inbound(number, CUSTOMER, text)
    assert [answer.status_code for answer in relay(1)] == [200]
    offer = received(sio, "offer")[-1]
    assert offer["channel"] == "whatsapp"  # the expert's offer card says where the customer writes from
    accepted = sio.emit("offer_accept", {"offer_id": offer["offer_id"]}, callback=True)
    assert accepted["ok"], accepted
    return session.get(Conversation, offer["conversation_id"], populate_existing=True), accepted["chat"]


def test_a_signed_message_is_routed_and_the_experts_answer_reaches_whatsapp(
        session, brand, expert_socket, fake_graph, number, whatsapp_relay):
    expert, sio = expert_socket
    channel = connect(session, brand, number)
    conversation, chat = _accepted(sio, session, fake_graph, number, whatsapp_relay)
    assert (conversation.channel, conversation.channel_id, conversation.channel_customer) == \
        (Channel.WHATSAPP, channel.id, CUSTOMER)
    assert conversation.status == ConversationStatus.ACTIVE and conversation.expert_id == expert.id
    assert chat["channel"] == "whatsapp" and chat["window_closes_at"] is not None
    assert [(m.sender.value, m.body) for m in _messages(session, conversation.id)] == \
        [("visitor", "Hello, is the lamp in stock?")]

    reply = sio.emit("chat_send", {"conversation_id": conversation.id, "client_id": "e-1", "body": "Yes, two left."},
                     callback=True)
    assert reply["ok"] and reply["message"]["delivery"] == {"state": "pending", "error": None}
    assert outbound.send_due() == 1
    sent = fake_graph.sent(to=CUSTOMER, account=number)
    assert [(record.kind, record.text) for record in sent] == [("text", "Yes, two left.")]
    record = session.scalar(sa.select(ChannelDelivery).execution_options(populate_existing=True))
    assert (record.state, record.platform_message_id) == (DeliveryState.SENT, sent[0].message_id)

    # Meta's statuses follow the send: the message shows them, and the expert is told live.
    assert [answer.status_code for answer in whatsapp_relay(2)] == [200, 200]
    session.expire_all()
    assert session.get(ChannelDelivery, record.message_id).state == DeliveryState.DELIVERED
    told = received(sio, "message_delivery")
    assert [event["delivery"]["state"] for event in told] == ["sent", "delivered"]  # Meta's `sent` moved nothing
    assert told[-1] == {"conversation_id": conversation.id, "seq": 2, "delivery": {"state": "delivered", "error": None}}
    fake_graph.deliver_status(sent[0].message_id, "read")
    whatsapp_relay(1)
    synced = sio.emit("chat_sync", {"conversation_id": conversation.id, "after_seq": 1}, callback=True)
    assert synced["messages"][0]["delivery"] == {"state": "read", "error": None}
    # A late `delivered` never moves it back.
    fake_graph.deliver_status(sent[0].message_id, "delivered")
    whatsapp_relay(1)
    session.expire_all()
    assert session.get(ChannelDelivery, record.message_id).state == DeliveryState.READ
    assert session.get(type(channel), channel.id).last_inbound_at is not None


def test_the_same_delivery_retried_is_stored_once(session, brand, fake_graph, number, whatsapp_relay):
    connect(session, brand, number)
    inbound = fake_graph.deliver_inbound(number, CUSTOMER, "Only once", repeat=3)
    assert [answer.status_code for answer in whatsapp_relay(3)] == [200, 200, 200]
    [conversation] = _conversations(session)
    assert [m.body for m in _messages(session, conversation.id)] == ["Only once"]
    assert inbound.message_id.startswith("wamid.")


def test_a_batch_is_stored_in_the_order_of_its_timestamps(session, brand, fake_graph, number, whatsapp_relay):
    connect(session, brand, number)
    now = fake_graph.now()
    messages = [{"from": CUSTOMER, "id": f"wamid.order{index}", "timestamp": str(int(now) + offset), "type": "text",
                 "text": {"body": body}} for index, (offset, body) in enumerate([(20, "third"), (0, "first"),
                                                                                   (10, "second")])]
    body = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"phone_number_id": number.phone_number_id},
        "messages": messages}}]}]}
    fake_graph.deliver_body(number, body)
    assert [answer.status_code for answer in whatsapp_relay(1)] == [200]
    [conversation] = _conversations(session)
    assert [m.body for m in _messages(session, conversation.id)] == ["first", "second", "third"]


@pytest.mark.parametrize("signature", ["bad", "none"])
def test_a_badly_signed_or_unsigned_delivery_is_refused_and_stores_nothing(
        session, brand, fake_graph, number, whatsapp_relay, signature):
    connect(session, brand, number)
    fake_graph.deliver_inbound(number, CUSTOMER, "Forged", signature=signature, retry=False)
    assert [answer.status_code for answer in whatsapp_relay(1)] == [403]
    assert _conversations(session) == []
    assert session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0


def test_an_unknown_phone_number_is_refused(session, brand, fake_graph, number, whatsapp_relay):
    stranger = fake_graph.add_whatsapp_number(webhook_url=number.webhook_url)  # signed, but nobody connected it
    connect(session, brand, number)
    fake_graph.deliver_inbound(stranger, CUSTOMER, "Hello?", retry=False)
    assert [answer.status_code for answer in whatsapp_relay(1)] == [403]
    assert _conversations(session) == []


def test_the_subscription_handshake_answers_the_challenge_only_for_a_connected_verify_token(
        client, session, brand, number):
    connect(session, brand, number)
    query = {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": number.verify_token}
    answer = client.get("/webhooks/whatsapp", query_string=query)
    assert (answer.status_code, answer.get_data(as_text=True)) == (200, "1158201444")
    assert client.get("/webhooks/whatsapp", query_string={**query, "hub.verify_token": "guess"}).status_code == 403
    assert client.get("/webhooks/messenger", query_string=query).status_code == 403  # another kind's token


def test_an_image_arrives_through_the_attachments_pipeline(session, brand, fake_graph, number, whatsapp_relay):
    connect(session, brand, number)
    picture = Image.new("RGB", (64, 48), "orange")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make: metadata the pipeline strips
    data = io.BytesIO()
    picture.save(data, "JPEG", exif=exif)
    fake_graph.deliver_inbound(number, CUSTOMER, kind="image", content=data.getvalue(), mime_type="image/jpeg",
                               caption="The broken lamp")
    assert [answer.status_code for answer in whatsapp_relay(1)] == [200]
    [conversation] = _conversations(session)
    [message] = _messages(session, conversation.id)
    attachment = session.scalar(sa.select(Attachment).where(Attachment.message_id == message.id))
    assert message.body == "The broken lamp"
    assert (attachment.kind.value, attachment.content_type, attachment.width, attachment.height) == \
        ("image", "image/jpeg", 64, 48)
    from marketplace.routing.attachments.storage import storage

    stored = Image.open(io.BytesIO(storage().get(attachment.storage_key)))
    assert 0x010F not in stored.getexif()


def test_a_voice_message_arrives_as_a_line_saying_so(session, brand, fake_graph, number, whatsapp_relay):
    connect(session, brand, number)
    fake_graph.deliver_inbound(number, CUSTOMER, kind="audio", content=b"OggS" + bytes(200), mime_type="audio/ogg")
    assert [answer.status_code for answer in whatsapp_relay(1)] == [200]
    [conversation] = _conversations(session)
    [message] = _messages(session, conversation.id)
    assert "cannot be played here" in message.body


def test_outside_the_window_free_text_is_refused_before_it_is_stored(
        session, brand, expert_socket, fake_graph, number, whatsapp_relay):
    expert, sio = expert_socket
    connect(session, brand, number)
    yesterday = fake_graph.now() - 25 * 3600
    fake_graph.deliver_inbound(number, CUSTOMER, "Written yesterday", timestamp=yesterday)
    whatsapp_relay(1)
    offer = received(sio, "offer")[-1]
    sio.emit("offer_accept", {"offer_id": offer["offer_id"]}, callback=True)
    reply = sio.emit("chat_send", {"conversation_id": offer["conversation_id"], "client_id": "e-1", "body": "Hi"},
                     callback=True)
    assert reply["ok"] is False and "24-hour window has closed" in reply["error"]
    assert [m.sender.value for m in _messages(session, offer["conversation_id"])] == ["visitor"]
    assert session.scalar(sa.select(sa.func.count()).select_from(ChannelDelivery)) == 0
    assert fake_graph.sent(to=CUSTOMER) == []


@pytest.mark.parametrize("refusal", ["answer", "status"])
def test_a_131047_refusal_marks_the_message_failed_with_its_reason(
        session, brand, expert_socket, fake_graph, number, whatsapp_relay, refusal):
    """Our clock says the window is open, Meta's says closed: Graph refuses at once, or accepts and then reports
    the failure by status webhook; either way the message shows it failed, and why."""
    expert, sio = expert_socket
    channel = connect(session, brand, number)
    conversation, _chat = _accepted(sio, session, fake_graph, number, whatsapp_relay)
    fake_graph.window_refusal = refusal
    fake_graph.advance(hours=25)
    sio.emit("chat_send", {"conversation_id": conversation.id, "client_id": "e-1", "body": "Still there?"},
             callback=True)
    outbound.send_due()
    if refusal == "status":  # accepted, then Meta's `failed` status
        assert [answer.status_code for answer in whatsapp_relay(1)] == [200]
    session.expire_all()
    record = session.scalar(sa.select(ChannelDelivery))
    assert (record.state, record.error_code) == (DeliveryState.FAILED, 131047)
    assert "window" in record.error_text
    assert received(sio, "message_delivery")[-1]["delivery"]["state"] == "failed"
    assert session.get(type(channel), channel.id).last_error is not None


def test_a_channel_conversation_counts_in_the_brands_caps_and_its_message_is_kept(
        session, brand, fake_graph, number, whatsapp_relay):
    brand.max_concurrent = 1
    session.commit()
    connect(session, brand, number)
    fake_graph.deliver_inbound(number, CUSTOMER, "First customer")
    fake_graph.deliver_inbound(number, "33698765432", "Second customer")
    assert [answer.status_code for answer in whatsapp_relay(2)] == [200, 200]
    first, second = _conversations(session)
    assert first.status == ConversationStatus.WAITING
    assert (second.status, second.end_reason.value) == (ConversationStatus.CAPPED, "max_concurrent")
    assert [m.body for m in _messages(session, second.id)] == ["Second customer"]


def test_the_accounts_last_inbound_is_noted_at_most_every_30_seconds(session, brand, fake_graph, number):
    """Health, not a hot row: a message within INBOUND_PRECISION of the one noted leaves it; one past it moves it."""
    import datetime as dt

    from marketplace.database import unit_of_work
    from marketplace.routing.channels import connections

    channel = connect(session, brand, number)
    first = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)

    def noted_after(at: dt.datetime) -> dt.datetime:
        with unit_of_work():
            connections.note_inbound(channel.id, at)
        session.expire_all()
        return session.get(type(channel), channel.id).last_inbound_at.replace(tzinfo=dt.UTC)

    assert noted_after(first) == first
    assert noted_after(first + connections.INBOUND_PRECISION) == first  # within it: left as it was
    later = first + connections.INBOUND_PRECISION + dt.timedelta(seconds=1)
    assert noted_after(later) == later


# The customer's first message is there before anyone is offered their conversation.

def _between_door_and_message(monkeypatch, step) -> None:
    """Run `step(conversation_id)` after the customer's conversation is found or let in, before their message is
    stored (where another request may act on it)."""
    from marketplace.routing.channels import inbound

    customer_wrote = inbound._customer_wrote

    def meanwhile(conversation_id, *args):
        step(conversation_id)
        customer_wrote(conversation_id, *args)

    monkeypatch.setattr(inbound, "_customer_wrote", meanwhile)


@pytest.mark.parametrize("meanwhile", ["nothing", "the brand is routed"])
def test_the_customers_first_message_is_stored_before_an_expert_is_offered_their_conversation(
        session, brand, expert_socket, fake_graph, number, whatsapp_relay, monkeypatch, meanwhile):
    """Not an empty chat on the expert's phone, nor one they could close before the message is in: and not when
    another customer's arrival (or a freed slot) routes the brand between the door and the message either."""
    from marketplace.routing.router.decisions import route_brand

    _expert, sio = expert_socket
    connect(session, brand, number)
    held = messages_when_offered(monkeypatch)
    if meanwhile == "the brand is routed":
        _between_door_and_message(monkeypatch, lambda _conversation_id: route_brand(brand.id))
    fake_graph.deliver_inbound(number, CUSTOMER, "Is the lamp in stock?")
    assert [answer.status_code for answer in whatsapp_relay(1)] == [200]
    [offer] = received(sio, "offer")
    assert held == {offer["conversation_id"]: ["Is the lamp in stock?"]}


def test_a_file_fetched_on_meta_s_second_delivery_is_offered_at_once(
        session, brand, expert_socket, fake_graph, number, whatsapp_relay, monkeypatch):
    """Graph paused on the first delivery (503: Meta delivers it again): the conversation waits unoffered, and the
    second delivery, which stores the photo, offers it at once (not at the next sweep)."""
    _expert, sio = expert_socket
    connect(session, brand, number)
    held = messages_when_offered(monkeypatch)
    picture = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(picture, "PNG")
    fake_graph.fail_next(2, method="GET")  # Graph's temporary error on the media's first request
    fake_graph.deliver_inbound(number, CUSTOMER, kind="image", content=picture.getvalue(), mime_type="image/png",
                               caption="This one", repeat=2)
    assert [answer.status_code for answer in whatsapp_relay(2)] == [503, 200]
    [offer] = received(sio, "offer")
    assert held == {offer["conversation_id"]: ["This one"]}


def test_a_conversation_a_crash_left_unrouted_after_its_message_is_offered_by_the_sweep(
        session, brand, expert_socket, fake_graph, number, whatsapp_relay, monkeypatch):
    from marketplace.routing.door import services as door
    from marketplace.routing.router.decisions import route_all

    _expert, sio = expert_socket
    connect(session, brand, number)
    monkeypatch.setattr(door, "first_message_stored", lambda *_: None)  # the process stops after the message's commit
    fake_graph.deliver_inbound(number, CUSTOMER, "Anyone there?")
    whatsapp_relay(1)
    assert received(sio, "offer") == []
    [conversation] = _conversations(session)
    assert conversation.status == ConversationStatus.WAITING
    held = messages_when_offered(monkeypatch)
    assert route_all() == 1
    assert held == {conversation.id: ["Anyone there?"]}


@pytest.mark.parametrize("answered", [False, True])
def test_a_message_for_a_conversation_that_ended_meanwhile_is_kept(
        session, brand, expert_socket, fake_graph, number, whatsapp_relay, monkeypatch, answered):
    """The expert closed the chat between the door and the message: the message goes to a new conversation, offered
    like any (or continues the closed one when it was answered, within the brand's reopen window); never lost."""
    from marketplace.routing.models import EndReason
    from marketplace.routing.router.admission import end_conversation

    expert, sio = expert_socket
    connect(session, brand, number)
    first, _chat = _accepted(sio, session, fake_graph, number, whatsapp_relay)
    if answered:
        sio.emit("chat_send", {"conversation_id": first.id, "client_id": "e-1", "body": "Hello!"}, callback=True)
    received(sio, "offer")

    def expert_closes(conversation_id):
        if conversation_id == first.id:
            end_conversation(first.id, ConversationStatus.CLOSED, EndReason.EXPERT, expert_id=expert.id)

    _between_door_and_message(monkeypatch, expert_closes)
    fake_graph.deliver_inbound(number, CUSTOMER, "One more thing")
    assert {answer.status_code for answer in whatsapp_relay()} == {200}
    conversations = _conversations(session)
    if answered:
        assert [c.id for c in conversations] == [first.id]
        assert conversations[0].status == ConversationStatus.ACTIVE  # back with its expert
        assert _messages(session, first.id)[-1].body == "One more thing"
    else:
        assert [(c.id, c.status) for c in conversations][0] == (first.id, ConversationStatus.CLOSED)
        [second] = conversations[1:]
        assert [m.body for m in _messages(session, second.id)] == ["One more thing"]
        assert received(sio, "offer")[-1]["conversation_id"] == second.id


def test_a_photo_from_a_customer_refused_at_the_door_is_kept_with_their_conversation(
        session, brand, fake_graph, number, whatsapp_relay):
    brand.max_concurrent = 1
    session.commit()
    connect(session, brand, number)
    fake_graph.deliver_inbound(number, "33698765432", "First customer")
    picture = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(picture, "PNG")
    fake_graph.deliver_inbound(number, CUSTOMER, kind="image", content=picture.getvalue(), mime_type="image/png",
                               caption="Broken on arrival")
    assert [answer.status_code for answer in whatsapp_relay(2)] == [200, 200]
    _first, refused = _conversations(session)
    assert refused.status == ConversationStatus.CAPPED
    [message] = _messages(session, refused.id)
    assert message.body == "Broken on arrival"
    assert session.scalar(sa.select(Attachment.kind).where(Attachment.message_id == message.id)).value == "image"
