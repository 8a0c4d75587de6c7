"""The Messenger client against the fake Send API: replies, the HUMAN_AGENT tag, attachments, errors."""

from __future__ import annotations

import pytest

from marketplace.routing.channels import payloads
from marketplace.routing.channels.graph import AuthFailed, MessengerClient, Undeliverable, WindowClosed
from tests.routing.channels.conftest import PERSON


def test_a_reply_within_24_hours_is_a_response(fake_graph, page, messenger):
    fake_graph.deliver_inbound(page, PERSON, "Do you ship to Belgium?")
    sent = messenger.send_text(PERSON, "We do, in 3 days.")
    assert (sent.recipient, sent.message_id.startswith("m_")) == (PERSON, True)
    (record,) = fake_graph.sent(to=PERSON)
    assert record.body == {"recipient": {"id": PERSON}, "message": {"text": "We do, in 3 days."},
                           "messaging_type": "RESPONSE"}


def test_after_24_hours_only_a_human_agent_reply_goes_for_7_days(fake_graph, page, messenger):
    fake_graph.deliver_inbound(page, PERSON, "hello")
    fake_graph.advance(hours=25)
    with pytest.raises(WindowClosed) as refused:
        messenger.send_text(PERSON, "sorry for the wait")
    assert (refused.value.code, refused.value.subcode, refused.value.retryable) == (10, 2018278, False)
    messenger.send_text(PERSON, "sorry for the wait", human_agent=True)
    (record,) = fake_graph.sent(to=PERSON)
    assert (record.body["messaging_type"], record.body["tag"], record.tag) == ("MESSAGE_TAG", "HUMAN_AGENT",
                                                                               "HUMAN_AGENT")
    fake_graph.advance(days=6)
    with pytest.raises(WindowClosed):
        messenger.send_text(PERSON, "a week later", human_agent=True)


def test_a_person_who_never_wrote_cannot_be_reached(fake_graph, messenger):
    with pytest.raises(Undeliverable) as refused:
        messenger.send_text("1000000000000", "hello")
    assert (refused.value.code, refused.value.subcode) == (100, 2018001)


def test_an_attachment_is_uploaded_then_sent_by_its_id(fake_graph, page, messenger):
    fake_graph.deliver_inbound(page, PERSON, "a picture?")
    attachment_id = messenger.upload_attachment(b"\xff\xd8\xff\xe0 jpeg", "image/jpeg", "shoe.jpg", "image")
    assert fake_graph.media(attachment_id).content == b"\xff\xd8\xff\xe0 jpeg"
    messenger.send_attachment(PERSON, "image", attachment_id=attachment_id)
    assert fake_graph.sent()[-1].body["message"] == {"attachment": {"type": "image", "payload": {
        "attachment_id": attachment_id}}}


def test_a_persons_file_is_downloaded_from_its_webhook_url(fake_graph, page, messenger, webhook_sink):
    fake_graph.deliver_inbound(page, PERSON, content=b"%PDF-1.4 receipt", mime_type="application/pdf")
    (message,) = payloads.parse_messenger(webhook_sink.received()[-1].body).messages
    assert message.kind == "document"
    downloaded = messenger.download_attachment(message.media.url, max_bytes=1000)
    assert (downloaded.content, downloaded.mime_type) == (b"%PDF-1.4 receipt", "application/pdf")


def test_the_pages_token_is_required(fake_graph, page):
    fake_graph.set_last_inbound(page, PERSON)
    with pytest.raises(AuthFailed) as refused:
        MessengerClient(fake_graph.graph_base, page.page_id, "EAAP-another-pages").send_text(PERSON, "hi")
    assert refused.value.code == 190


def test_a_request_made_wrong_is_refused_before_sending(fake_graph, messenger):
    with pytest.raises(ValueError, match="either attachment_id or url"):
        messenger.send_attachment(PERSON, "image")
    with pytest.raises(ValueError, match="longer than 2000"):
        messenger.send_text(PERSON, "x" * 2001)
    assert fake_graph.requests() == []
