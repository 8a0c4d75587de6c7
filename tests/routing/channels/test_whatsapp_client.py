"""The WhatsApp client against the fake Cloud API: sends, templates, media, the window and typed errors."""

from __future__ import annotations

import hashlib
import time

import pytest
import requests

from marketplace.routing.channels import payloads
from marketplace.routing.channels.graph import (
    AuthFailed,
    GraphUnavailable,
    InvalidRequest,
    RateLimited,
    Undeliverable,
    WhatsAppClient,
    WindowClosed,
    classify,
)
from tests.routing.channels.conftest import CUSTOMER

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8 + b"\r\n--boundary-like\r\n"


def test_free_text_inside_the_window_goes_out_as_the_cloud_api_expects(fake_graph, number, whatsapp):
    fake_graph.deliver_inbound(number, CUSTOMER, "Is the blue one in stock?")
    sent = whatsapp.send_text("+" + CUSTOMER, "Yes, in every size.")
    assert sent.recipient == CUSTOMER and sent.message_id.startswith("wamid.")
    (record,) = fake_graph.sent(to=CUSTOMER)
    assert record.message_id == sent.message_id
    assert record.body == {"messaging_product": "whatsapp", "recipient_type": "individual", "to": CUSTOMER,
                           "type": "text", "text": {"body": "Yes, in every size.", "preview_url": False}}


def test_free_text_to_a_customer_who_never_wrote_is_refused_with_131047(fake_graph, whatsapp):
    with pytest.raises(WindowClosed) as refused:
        whatsapp.send_text(CUSTOMER, "Hello?")
    assert (refused.value.code, refused.value.http_status, refused.value.retryable) == (131047, 400, False)
    assert "24 hours" in refused.value.details
    assert fake_graph.sent() == []


def test_the_window_closes_24_hours_after_the_customers_last_message(fake_graph, number, whatsapp):
    fake_graph.deliver_inbound(number, CUSTOMER, "hi")
    fake_graph.advance(hours=23, seconds=3590)
    whatsapp.send_text(CUSTOMER, "still inside")
    fake_graph.advance(seconds=20)
    with pytest.raises(WindowClosed):
        whatsapp.send_text(CUSTOMER, "too late")
    fake_graph.deliver_inbound(number, CUSTOMER, "I'm back")
    whatsapp.send_text(CUSTOMER, "welcome back")
    assert [r.text for r in fake_graph.sent(to=CUSTOMER)] == ["still inside", "welcome back"]


def test_a_template_goes_out_of_the_window_with_its_parameters(fake_graph, number, whatsapp):
    fake_graph.add_template(number, "reply_waiting", "fr", category="utility", parameters=2)
    sent = whatsapp.send_template(CUSTOMER, "reply_waiting", "fr", body_parameters=["Camille", "Lumière"])
    assert sent.status == "accepted"
    (record,) = fake_graph.sent()
    assert record.kind == "template"
    assert record.body["template"] == {"name": "reply_waiting", "language": {"code": "fr"}, "components": [
        {"type": "body", "parameters": [{"type": "text", "text": "Camille"}, {"type": "text", "text": "Lumière"}]}]}


def test_an_unknown_template_or_the_wrong_parameters_are_refused(fake_graph, number, whatsapp):
    fake_graph.add_template(number, "reply_waiting", "fr", parameters=2)
    with pytest.raises(InvalidRequest) as unknown:
        whatsapp.send_template(CUSTOMER, "reply_waiting", "en_US", body_parameters=["a", "b"])
    assert unknown.value.code == 132001
    with pytest.raises(InvalidRequest) as miscounted:
        whatsapp.send_template(CUSTOMER, "reply_waiting", "fr", body_parameters=["a"])
    assert miscounted.value.code == 132000
    assert fake_graph.sent() == []


def test_media_is_uploaded_sent_by_id_and_downloaded_with_the_token(fake_graph, number, whatsapp):
    fake_graph.deliver_inbound(number, CUSTOMER, "photo please")
    media_id = whatsapp.upload_media(PNG, "image/png", "shoe.png")
    stored = fake_graph.media(media_id)
    assert (stored.content, stored.mime_type, stored.filename) == (PNG, "image/png", "shoe.png")
    whatsapp.send_media(CUSTOMER, "image", media_id, caption="The blue one")
    assert fake_graph.sent()[-1].body["image"] == {"id": media_id, "caption": "The blue one"}
    downloaded = whatsapp.download_media(media_id)
    assert (downloaded.content, downloaded.mime_type) == (PNG, "image/png")
    assert downloaded.sha256 == hashlib.sha256(PNG).hexdigest()


def test_a_customers_document_is_downloaded_from_its_webhook_media_id(fake_graph, number, whatsapp, webhook_sink):
    pdf = b"%PDF-1.7\n" + b"\x00\xff" * 500
    inbound = fake_graph.deliver_inbound(number, CUSTOMER, content=pdf, mime_type="application/pdf",
                                         filename="receipt.pdf", caption="my receipt")
    (message,) = payloads.parse_whatsapp(webhook_sink.received()[-1].body).messages
    assert (message.kind, message.text, message.media.filename) == ("document", "my receipt", "receipt.pdf")
    assert message.media.media_id == inbound.media_id
    assert whatsapp.download_media(message.media.media_id).content == pdf


def test_a_download_over_the_limit_is_refused(fake_graph, number, whatsapp):
    inbound = fake_graph.deliver_inbound(number, CUSTOMER, content=PNG, mime_type="image/png")
    with pytest.raises(InvalidRequest, match="over the limit"):
        whatsapp.download_media(inbound.media_id, max_bytes=len(PNG) - 1)
    assert len(whatsapp.download_media(inbound.media_id, max_bytes=len(PNG)).content) == len(PNG)


def test_media_addresses_need_the_token_and_expire(fake_graph, number, whatsapp):
    media_id = whatsapp.upload_media(PNG, "image/png")
    url = whatsapp.media_info(media_id).url
    assert requests.get(url, timeout=5).status_code == 401
    assert requests.get(url, headers={"Authorization": "Bearer someone-else"}, timeout=5).status_code == 401
    bearer = {"Authorization": f"Bearer {number.access_token}"}
    assert requests.get(url, headers=bearer, timeout=5).content == PNG
    fake_graph.advance(seconds=301)
    assert requests.get(url, headers=bearer, timeout=5).status_code == 404


def test_an_unsupported_media_type_is_refused_at_upload(whatsapp):
    with pytest.raises(InvalidRequest) as refused:
        whatsapp.upload_media(b"MZ\x90\x00", "application/x-msdownload", "setup.exe")
    assert refused.value.code == 131053


def test_the_token_is_required(fake_graph, number, whatsapp):
    with pytest.raises(ValueError, match="access token"):
        WhatsAppClient(fake_graph.graph_base, number.phone_number_id, "")
    answer = requests.post(f"{fake_graph.graph_base}/{number.phone_number_id}/messages", timeout=5,
                           json={"messaging_product": "whatsapp", "to": CUSTOMER, "type": "text",
                                 "text": {"body": "hi"}})
    assert answer.status_code == 401 and answer.json()["error"]["code"] == 190
    stranger = WhatsAppClient(fake_graph.graph_base, number.phone_number_id, "EAAG-not-this-numbers-token")
    with pytest.raises(AuthFailed) as refused:
        stranger.send_text(CUSTOMER, "hi")
    assert (refused.value.code, refused.value.http_status, refused.value.retryable) == (190, 401, False)
    with pytest.raises(AuthFailed):
        stranger.media_info(whatsapp.upload_media(PNG, "image/png"))


@pytest.mark.parametrize(("code", "kind", "retryable"), [
    (130429, RateLimited, True), (131056, RateLimited, True), (4, RateLimited, True),
    (131026, Undeliverable, False), (190, AuthFailed, False), (10, AuthFailed, False),
    (131000, GraphUnavailable, True), (2, GraphUnavailable, True), (131009, InvalidRequest, False),
    (131047, WindowClosed, False)])
def test_graph_errors_become_typed_errors_with_their_code(fake_graph, number, whatsapp, code, kind, retryable):
    fake_graph.set_last_inbound(number, CUSTOMER)
    fake_graph.fail_next(code, path="/*/messages")
    with pytest.raises(kind) as refused:
        whatsapp.send_text(CUSTOMER, "hi")
    assert (refused.value.code, refused.value.retryable) == (code, retryable)
    assert refused.value.fbtrace_id
    assert whatsapp.send_text(CUSTOMER, "hi again").message_id  # the fault was for one request only
    assert classify(code) is kind


def test_a_slow_answer_is_bounded_and_may_have_been_sent(fake_graph, number):
    fake_graph.set_last_inbound(number, CUSTOMER)
    client = WhatsAppClient(fake_graph.graph_base, number.phone_number_id, number.access_token, timeout=0.3)
    fake_graph.slow_next(1.0)
    began = time.monotonic()
    with pytest.raises(GraphUnavailable) as timed_out:
        client.send_text(CUSTOMER, "are you there?")
    assert time.monotonic() - began < 0.9
    assert timed_out.value.may_have_been_sent and timed_out.value.retryable
    assert [r.text for r in fake_graph.sent()] == ["are you there?"]  # it went, the answer did not come back


def test_no_server_at_all_is_unavailable(fake_graph, number):
    client = WhatsAppClient("http://127.0.0.1:9/v26.0", number.phone_number_id, number.access_token, timeout=1)
    with pytest.raises(GraphUnavailable):
        client.send_text(CUSTOMER, "hi")


def test_outside_the_window_the_refusal_may_come_as_a_failed_status(fake_graph, whatsapp, webhook_sink):
    fake_graph.window_refusal = "status"
    sent = whatsapp.send_text(CUSTOMER, "hello after two days")
    assert fake_graph.wait_for_webhooks()
    (status,) = payloads.parse_whatsapp(webhook_sink.received()[-1].body).statuses
    assert (status.message_id, status.status, status.recipient) == (sent.message_id, "failed", CUSTOMER)
    assert [error.code for error in status.errors] == [131047]
    assert classify(status.errors[0].code) is WindowClosed


@pytest.mark.parametrize(("call", "message"), [
    (lambda c: c.send_text(CUSTOMER, "   "), "non-empty"),
    (lambda c: c.send_text(CUSTOMER, "x" * 4097), "longer than 4096"),
    (lambda c: c.send_text("not-a-number", "hi"), "international form"),
    (lambda c: c.send_media(CUSTOMER, "audio", "1", caption="no"), "takes no caption"),
    (lambda c: c.send_media(CUSTOMER, "image", "1", filename="a.png"), "only a document"),
    (lambda c: c.send_media(CUSTOMER, "gif", "1"), "kind must be one of"),
    (lambda c: c.upload_media(b"", "image/png"), "empty"),
])
def test_a_request_made_wrong_is_refused_before_sending(fake_graph, whatsapp, call, message):
    with pytest.raises(ValueError, match=message):
        call(whatsapp)
    assert fake_graph.requests() == []
