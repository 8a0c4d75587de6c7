"""A file's message reaches both sides like any message, with what they need to show it; HEIC arrives as JPEG."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from marketplace.extensions import socketio
from tests.routing.attachments.conftest import pdf_bytes
from tests.routing.attachments.helpers import Chat, active_chat, logged_in, visitor_sends
from tests.routing.attachments.test_inspection import phone_photo
from tests.routing.conftest import arrive, received, visitor_token

pytestmark = pytest.mark.usefixtures("attachment_storage")


def test_the_expert_and_the_visitor_get_the_message_with_its_attachment(app, client, brand, expert_socket):
    expert, sio = expert_socket
    token = visitor_token()
    conversation = arrive(brand, token)
    sio.emit("offer_accept", {"offer_id": received(sio, "offer")[0]["offer_id"]}, callback=True)
    visitor = socketio.test_client(app, namespace="/visitor",
                                   auth={"key": brand.widget_key, "token": token, "conversation_id": conversation.id})
    visitor.get_received("/visitor")
    chat = Chat(brand, conversation, token, expert, None)

    sent = visitor_sends(client, chat, phone_photo(), name="IMG_1.jpg", body="Look")

    assert sent.status_code == 201
    [to_expert] = received(sio, "message")
    [to_visitor] = received(visitor, "message", "/visitor")  # the upload came over HTTP: its socket is told too
    assert to_expert == to_visitor == sent.get_json()
    assert to_expert["attachment"] == {"id": to_expert["attachment"]["id"], "kind": "image", "name": "IMG_1.jpg",
                                       "content_type": "image/jpeg", "size": to_expert["attachment"]["size"],
                                       "width": 40, "height": 60, "has_thumbnail": True}
    synced = sio.emit("chat_sync", {"conversation_id": conversation.id, "after_seq": 0}, callback=True)
    assert synced["messages"][0]["attachment"] == to_expert["attachment"]
    listed = client.get(f"{chat.widget}/messages?after=0", headers={"X-Visitor-Token": token}).get_json()
    assert listed["messages"][0]["attachment"] == to_expert["attachment"]
    visitor.disconnect("/visitor")


def test_a_heic_photo_is_sent_as_a_jpeg(client, session, brand, attachment_storage):
    chat = active_chat(session, brand)
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "HEIF")

    response = visitor_sends(client, chat, out.getvalue(), name="IMG_2.HEIC", content_type="image/heic")

    assert response.status_code == 201, response.get_data(as_text=True)
    attachment = response.get_json()["attachment"]
    assert (attachment["name"], attachment["content_type"]) == ("IMG_2.jpg", "image/jpeg")


def test_a_text_message_still_carries_no_attachment(client, session, brand):
    chat = active_chat(session, brand)
    sent = client.post(f"{chat.widget}/messages", json={"client_id": "t-1", "body": "Hello"},
                       headers={"X-Visitor-Token": chat.token})
    assert sent.status_code == 201 and sent.get_json()["attachment"] is None
    assert visitor_sends(client, chat, pdf_bytes(), name="a.pdf", client_id="t-2").status_code == 201


def test_a_file_without_a_caption_shows_as_its_name_in_the_experts_list(app, session, brand):
    chat = active_chat(session, brand)
    visitor_sends(app.test_client(), chat, pdf_bytes(), name="warranty.pdf", content_type="application/pdf")
    expert, _csrf = logged_in(app, chat.expert_user)
    [summary] = expert.get("/api/v1/expert/inbox").get_json()["chats"]
    assert summary["last_message"]["body"] == "warranty.pdf"
