"""Webhook bodies as Meta posts them, turned into messages and statuses; anything else refused with its place."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest

from marketplace.routing.channels.payloads import (
    MalformedWebhook,
    Media,
    StatusError,
    account_ids,
    parse_messenger,
    parse_whatsapp,
)

NUMBER = "106540352242922"
T0 = 1733990400  # 2024-12-12 08:00:00 UTC


def at(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def whatsapp(*values: dict, number: str = NUMBER) -> bytes:
    """A body with one change per value, as the Cloud API posts them (one entry per business account)."""
    changes = [{"value": {"messaging_product": "whatsapp",
                          "metadata": {"display_phone_number": "15550783881", "phone_number_id": number}, **value},
                "field": "messages"} for value in values]
    return json.dumps({"object": "whatsapp_business_account",
                       "entry": [{"id": "102290129340398", "changes": changes}]}).encode()


CONTACT = {"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}
WAMID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
QUOTED = "wamid.HBgLMTY0NzA0MjY4NzcVAgARGBI2QzhBMzUxMzM5RjMwMjBDQjAA"


def inbound(message: dict) -> dict:
    return {"contacts": [CONTACT], "messages": [{"from": "16505551234", "id": WAMID, "timestamp": str(T0),
                                                  **message}]}


def test_a_text_message():
    batch = parse_whatsapp(whatsapp(inbound({"type": "text", "text": {"body": "Does it come in another size?"}})))
    assert batch.statuses == ()
    (message,) = batch.messages
    assert (message.channel, message.account_id, message.sender, message.sender_name) == (
        "whatsapp", NUMBER, "16505551234", "Sheena Nelson")
    assert message.message_id == WAMID
    assert (message.kind, message.text, message.timestamp) == ("text", "Does it come in another size?", at(T0))
    assert message.media is None and message.reply_id is None and message.context_id is None


def test_an_image_with_its_caption():
    (message,) = parse_whatsapp(whatsapp(inbound({"type": "image", "image": {
        "caption": "This one", "mime_type": "image/jpeg",
        "sha256": "WaQSMQ0D1tGSkXgNZGEIWh0C5ZpFs9jhqJ8bEv+XoYo=", "id": "1003383421387256"}}))).messages
    assert message.kind == "image" and message.text == "This one"
    assert message.media == Media(media_id="1003383421387256", mime_type="image/jpeg",
                                  sha256="WaQSMQ0D1tGSkXgNZGEIWh0C5ZpFs9jhqJ8bEv+XoYo=")


def test_a_document_with_its_file_name():
    (message,) = parse_whatsapp(whatsapp(inbound({"type": "document", "document": {
        "filename": "invoice-2024-117.pdf", "mime_type": "application/pdf", "sha256": "abc=",
        "id": "1575920859863702"}}))).messages
    assert message.kind == "document" and message.text is None
    assert (message.media.media_id, message.media.filename) == ("1575920859863702", "invoice-2024-117.pdf")


def test_a_voice_note():
    (message,) = parse_whatsapp(whatsapp(inbound({"type": "audio", "audio": {
        "mime_type": "audio/ogg; codecs=opus", "sha256": "x=", "id": "1007590947484932", "voice": True}}))).messages
    assert message.kind == "audio"
    assert message.media == Media(media_id="1007590947484932", mime_type="audio/ogg; codecs=opus", sha256="x=",
                                  voice=True)


def test_a_template_quick_reply_button():
    (message,) = parse_whatsapp(whatsapp(inbound({
        "type": "button", "context": {"from": "15550783881", "id": QUOTED},
        "button": {"payload": "TALK_TO_EXPERT", "text": "Talk to an expert"}}))).messages
    assert (message.kind, message.text, message.reply_id) == ("button", "Talk to an expert", "TALK_TO_EXPERT")
    assert message.context_id == QUOTED


@pytest.mark.parametrize("reply_type", ["button_reply", "list_reply"])
def test_an_interactive_reply(reply_type):
    reply = {"id": "size-m", "title": "Medium"} | ({"description": "38-40"} if reply_type == "list_reply" else {})
    (message,) = parse_whatsapp(whatsapp(inbound({"type": "interactive", "interactive": {
        "type": reply_type, reply_type: reply}}))).messages
    assert (message.kind, message.text, message.reply_id) == ("interactive", "Medium", "size-m")


def test_a_type_without_content_we_show_is_kept_as_named():
    (message,) = parse_whatsapp(whatsapp(inbound({"type": "unsupported", "errors": [
        {"code": 131051, "title": "Message type unknown", "message": "Message type unknown",
         "error_data": {"details": "Message type is currently not supported."}}]}))).messages
    assert (message.kind, message.text, message.media) == ("unsupported", None, None)


def test_statuses_with_pricing_and_errors():
    sent = {"id": "wamid.A", "status": "sent", "timestamp": str(T0), "recipient_id": "16505551234",
            "conversation": {"id": "4f3b1c", "origin": {"type": "utility"}},
            "pricing": {"billable": True, "pricing_model": "PMP", "category": "utility", "type": "regular"}}
    failed = {"id": "wamid.B", "status": "failed", "timestamp": str(T0 + 5), "recipient_id": "16505551234",
              "errors": [{"code": 131047, "title": "Re-engagement message", "message": "Re-engagement message",
                          "error_data": {"details": "Message failed to send because more than 24 hours have passed "
                                                    "since the customer last replied to this number."},
                          "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}]}
    batch = parse_whatsapp(whatsapp({"statuses": [sent, failed]}))
    assert batch.messages == ()
    first, second = batch.statuses
    assert (first.message_id, first.status, first.recipient, first.timestamp) == ("wamid.A", "sent", "16505551234",
                                                                                  at(T0))
    assert (first.category, first.billable, first.errors) == ("utility", True, ())
    assert (second.message_id, second.status, second.category, second.billable) == ("wamid.B", "failed", None, None)
    assert second.errors == (StatusError(131047, "Re-engagement message", "Re-engagement message",
                                         "Message failed to send because more than 24 hours have passed since the "
                                         "customer last replied to this number."),)


def test_unknown_statuses_and_other_fields_are_skipped():
    body = json.loads(whatsapp({"statuses": [{"id": "wamid.C", "status": "deleted", "timestamp": str(T0),
                                              "recipient_id": "1"}]}))
    body["entry"][0]["changes"].append({"field": "message_template_status_update", "value": {
        "event": "APPROVED", "message_template_id": 1, "message_template_name": "x"}})
    batch = parse_whatsapp(json.dumps(body).encode())
    assert batch.messages == () and batch.statuses == ()


def test_several_entries_and_changes_in_order():
    first = json.loads(whatsapp(inbound({"type": "text", "text": {"body": "one"}})))
    second = json.loads(whatsapp({"statuses": [{"id": "wamid.D", "status": "read", "timestamp": str(T0 + 9),
                                                "recipient_id": "331"}]},
                                 inbound({"type": "text", "id": "wamid.E", "text": {"body": "two"}}),
                                 number="106540352249999"))
    first["entry"].extend(second["entry"])
    raw = json.dumps(first).encode()
    batch = parse_whatsapp(raw)
    assert [(m.account_id, m.text) for m in batch.messages] == [(NUMBER, "one"), ("106540352249999", "two")]
    assert [(s.account_id, s.status) for s in batch.statuses] == [("106540352249999", "read")]
    assert account_ids("whatsapp", raw) == (NUMBER, "106540352249999")


MESSENGER_PAGE = "107000000000042"
PSID = "6912384759123847"
MS = T0 * 1000 + 123


def messenger(*events: dict, page: str = MESSENGER_PAGE) -> bytes:
    return json.dumps({"object": "page", "entry": [{"id": page, "time": MS, "messaging": [
        {"sender": {"id": PSID}, "recipient": {"id": page}, "timestamp": MS, **event} for event in events]}]}).encode()


def test_a_messenger_text_and_its_millisecond_time():
    (message,) = parse_messenger(messenger({"message": {"mid": "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM", "text": "hello"}})
                                 ).messages
    assert (message.channel, message.account_id, message.sender) == ("messenger", MESSENGER_PAGE, PSID)
    assert (message.message_id, message.kind, message.text) == ("m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM", "text", "hello")
    assert message.timestamp == at(T0) + dt.timedelta(milliseconds=123)


def test_messenger_attachments_each_become_a_message_with_a_stable_id():
    batch = parse_messenger(messenger({"message": {"mid": "m_1", "attachments": [
        {"type": "image", "payload": {"url": "https://scontent.xx.fbcdn.net/v/t1.15752-9/a.jpg?oh=1"}},
        {"type": "file", "payload": {"url": "https://cdn.fbsbx.com/v/t59.2708-21/b.pdf?oh=2"}},
        {"type": "audio", "payload": {"url": "https://cdn.fbsbx.com/v/t59.3654-21/c.mp4?oh=3"}}]}}))
    assert [(m.message_id, m.kind, m.media.url) for m in batch.messages] == [
        ("m_1", "image", "https://scontent.xx.fbcdn.net/v/t1.15752-9/a.jpg?oh=1"),
        ("m_1#1", "document", "https://cdn.fbsbx.com/v/t59.2708-21/b.pdf?oh=2"),
        ("m_1#2", "audio", "https://cdn.fbsbx.com/v/t59.3654-21/c.mp4?oh=3")]


def test_messenger_quick_replies_and_postbacks_are_buttons():
    batch = parse_messenger(messenger(
        {"message": {"mid": "m_2", "text": "Yes please", "quick_reply": {"payload": "EXPERT_YES"},
                     "reply_to": {"mid": "m_0"}}},
        {"postback": {"mid": "m_3", "title": "Talk to an expert", "payload": "TALK"}}))
    first, second = batch.messages
    assert (first.kind, first.text, first.reply_id, first.context_id) == ("button", "Yes please", "EXPERT_YES", "m_0")
    assert (second.message_id, second.kind, second.text, second.reply_id) == ("m_3", "button", "Talk to an expert",
                                                                              "TALK")


def test_messenger_receipts_and_echoes():
    batch = parse_messenger(messenger(
        {"message": {"mid": "m_4", "is_echo": True, "app_id": 1517776481860111, "text": "our own reply"}},
        {"delivery": {"mids": ["m_5", "m_6"], "watermark": MS - 1000}},
        {"read": {"watermark": MS}}))
    assert batch.messages == ()
    delivered_5, delivered_6, delivered, read = batch.statuses
    assert [(s.message_id, s.status) for s in (delivered_5, delivered_6)] == [("m_5", "delivered"),
                                                                              ("m_6", "delivered")]
    assert delivered_5.up_to == at(T0) + dt.timedelta(milliseconds=-877)
    # The delivery's watermark covers every message sent before it, also those its `mids` leaves out.
    assert (delivered.message_id, delivered.status, delivered.recipient, delivered.up_to) == \
        (None, "delivered", PSID, delivered_5.up_to)
    assert (read.message_id, read.status, read.recipient, read.up_to) == (None, "read", PSID, read.timestamp)


def test_a_messenger_delivery_without_message_ids_is_its_watermark():
    """Meta: `mids` may be missing (older Messenger clients); `watermark` is always there."""
    (delivered,) = parse_messenger(messenger({"delivery": {"watermark": MS - 1000}})).statuses
    assert (delivered.message_id, delivered.status, delivered.up_to) == \
        (None, "delivered", at(T0) + dt.timedelta(milliseconds=-877))


def test_messenger_account_ids_are_the_pages():
    body = json.loads(messenger({"message": {"mid": "m_7", "text": "a"}}))
    body["entry"].append(json.loads(messenger({"message": {"mid": "m_8", "text": "b"}}, page="107000000000043"))
                         ["entry"][0])
    raw = json.dumps(body).encode()
    assert account_ids("messenger", raw) == (MESSENGER_PAGE, "107000000000043")
    assert [m.account_id for m in parse_messenger(raw).messages] == [MESSENGER_PAGE, "107000000000043"]


GOOD_TEXT = json.loads(whatsapp(inbound({"type": "text", "text": {"body": "hi"}})))


def broken(change) -> bytes:
    body = copy.deepcopy(GOOD_TEXT)
    change(body)
    return json.dumps(body).encode()


def _message(body: dict) -> dict:
    return body["entry"][0]["changes"][0]["value"]["messages"][0]


WHERE = "entry[0].changes[0].value"


@pytest.mark.parametrize(("raw", "field"), [
    (b"not json", "body"),
    (b"\xff\xfe", "body"),
    (b"[1, 2]", "body"),
    (json.dumps({"object": "page", "entry": []}).encode(), "object"),
    (json.dumps({"object": "whatsapp_business_account"}).encode(), "entry"),
    (json.dumps({"object": "whatsapp_business_account", "entry": {"id": "1"}}).encode(), "entry"),
    (json.dumps({"object": "whatsapp_business_account", "entry": ["x"]}).encode(), "entry[0]"),
    (broken(lambda b: b["entry"][0]["changes"][0].pop("value")), "entry[0].changes[0].value"),
    (broken(lambda b: b["entry"][0]["changes"][0]["value"].pop("metadata")), f"{WHERE}.metadata"),
    (broken(lambda b: _message(b).pop("id")), f"{WHERE}.messages[0].id"),
    (broken(lambda b: _message(b).update(id="")), f"{WHERE}.messages[0].id"),
    (broken(lambda b: _message(b).update(timestamp="yesterday")), f"{WHERE}.messages[0].timestamp"),
    (broken(lambda b: _message(b).update(timestamp="99999999999999999999")), f"{WHERE}.messages[0].timestamp"),
    (broken(lambda b: _message(b).update(text={"bod": "hi"})), f"{WHERE}.messages[0].text.body"),
    (broken(lambda b: _message(b).update(text="hi")), f"{WHERE}.messages[0].text"),
    (broken(lambda b: _message(b).update(type="image")), f"{WHERE}.messages[0].image"),
    (broken(lambda b: _message(b).update(**{"from": {"id": 1}})), f"{WHERE}.messages[0].from"),
    (broken(lambda b: b["entry"][0]["changes"][0]["value"].update(messages="hi")), f"{WHERE}.messages"),
    (broken(lambda b: b["entry"][0]["changes"][0]["value"].update(messages=["hi"])), f"{WHERE}.messages[0]"),
    (broken(lambda b: b["entry"][0]["changes"][0]["value"].update(statuses=[
        {"id": "w", "status": "failed", "timestamp": "1", "recipient_id": "1", "errors": [{"code": "x"}]}])),
     f"{WHERE}.statuses[0].errors[0].code"),
    (broken(lambda b: b["entry"][0]["changes"][0]["value"].update(statuses=[
        {"status": "read", "timestamp": "1", "recipient_id": "1"}])), f"{WHERE}.statuses[0].id"),
])
def test_a_malformed_whatsapp_body_is_refused_naming_the_place(raw, field):
    with pytest.raises(MalformedWebhook) as refused:
        parse_whatsapp(raw)
    assert refused.value.field == field
    assert refused.value.status == 400


@pytest.mark.parametrize(("event", "field"), [
    ({"message": {"text": "no mid"}}, "entry[0].messaging[0].message.mid"),
    ({"message": {"mid": "m_1"}}, "entry[0].messaging[0].message.text"),
    ({"message": "hi"}, "entry[0].messaging[0].message"),
    ({"message": {"mid": "m_1", "attachments": [{"type": "image", "payload": {}}]}},
     "entry[0].messaging[0].message.attachments[0].payload.url"),
    ({"delivery": {"mids": "m_1", "watermark": MS}}, "entry[0].messaging[0].delivery.mids"),
    ({"delivery": {"mids": [1], "watermark": MS}}, "entry[0].messaging[0].delivery.mids"),
    ({"read": {}}, "entry[0].messaging[0].read.watermark"),
])
def test_a_malformed_messenger_body_is_refused_naming_the_place(event, field):
    with pytest.raises(MalformedWebhook) as refused:
        parse_messenger(messenger(event))
    assert refused.value.field == field


def test_a_messenger_event_without_a_sender_is_refused():
    body = json.loads(messenger({"message": {"mid": "m_1", "text": "x"}}))
    del body["entry"][0]["messaging"][0]["sender"]
    with pytest.raises(MalformedWebhook, match=r"entry\[0\]\.messaging\[0\]\.sender is missing"):
        parse_messenger(json.dumps(body))


def test_a_messenger_body_is_not_a_whatsapp_one():
    with pytest.raises(MalformedWebhook) as refused:
        parse_whatsapp(messenger({"message": {"mid": "m_1", "text": "x"}}))
    assert refused.value.field == "object"
