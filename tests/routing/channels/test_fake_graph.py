"""The fake Graph's other direction: signed webhooks, retried deliveries, statuses after each send, the handshake."""

from __future__ import annotations

import json

import pytest

from marketplace.routing.channels import payloads
from marketplace.routing.channels.graph import RateLimited, WindowClosed
from marketplace.routing.channels.signatures import SIGNATURE_HEADER, verify_signature
from tests.routing.channels.conftest import CUSTOMER, PERSON


def test_an_inbound_message_is_signed_with_the_numbers_app_secret(fake_graph, number, webhook_sink):
    inbound = fake_graph.deliver_inbound(number, CUSTOMER, "hello", name="Ana")
    (received,) = webhook_sink.received()
    assert received.body == inbound.body and inbound.ok
    assert verify_signature(number.app_secret, received.body, received.headers[SIGNATURE_HEADER])
    assert not verify_signature("another app's secret", received.body, received.headers[SIGNATURE_HEADER])
    assert payloads.account_ids("whatsapp", received.body) == (number.phone_number_id,)
    (message,) = payloads.parse_whatsapp(received.body).messages
    assert (message.message_id, message.text, message.sender_name) == (inbound.message_id, "hello", "Ana")


def test_bad_and_missing_signatures_can_be_sent(fake_graph, number, webhook_sink):
    fake_graph.deliver_inbound(number, CUSTOMER, "forged", signature="bad")
    fake_graph.deliver_inbound(number, CUSTOMER, "unsigned", signature="none")
    forged, unsigned = webhook_sink.received()
    assert not verify_signature(number.app_secret, forged.body, forged.headers[SIGNATURE_HEADER])
    assert SIGNATURE_HEADER not in unsigned.headers


def test_a_delivery_is_retried_with_the_same_body_until_answered_2xx(fake_graph, number, webhook_sink):
    webhook_sink.answer_next(500, n=2)
    inbound = fake_graph.deliver_inbound(number, CUSTOMER, "are you there?")
    assert [(d.attempt, d.status) for d in inbound.deliveries] == [(1, 500), (2, 500), (3, 200)]
    bodies = [r.body for r in webhook_sink.received()]
    assert bodies == [inbound.body] * 3


def test_the_same_delivery_can_be_repeated(fake_graph, page, webhook_sink):
    inbound = fake_graph.deliver_inbound(page, PERSON, "twice", repeat=2)
    ids = [m.message_id for r in webhook_sink.received() for m in payloads.parse_messenger(r.body).messages]
    assert ids == [inbound.message_id, inbound.message_id]


def test_statuses_follow_each_send_in_order(fake_graph, number, whatsapp, webhook_sink):
    fake_graph.auto_statuses = ("sent", "delivered", "read")
    fake_graph.deliver_inbound(number, CUSTOMER, "hi")
    sent = whatsapp.send_text(CUSTOMER, "hello")
    assert fake_graph.wait_for_webhooks()
    statuses = [s for r in webhook_sink.received()[1:] for s in payloads.parse_whatsapp(r.body).statuses]
    assert [(s.message_id, s.status) for s in statuses] == [(sent.message_id, "sent"),
                                                            (sent.message_id, "delivered"),
                                                            (sent.message_id, "read")]
    assert all(verify_signature(number.app_secret, r.body, r.headers[SIGNATURE_HEADER])
               for r in webhook_sink.received())


def test_a_send_can_fail_later_by_status(fake_graph, number, whatsapp, webhook_sink):
    fake_graph.deliver_inbound(number, CUSTOMER, "hi")
    fake_graph.fail_delivery_next(131026)
    sent = whatsapp.send_text(CUSTOMER, "this one will not arrive")
    assert fake_graph.wait_for_webhooks()
    (status,) = payloads.parse_whatsapp(webhook_sink.received()[-1].body).statuses
    assert (status.message_id, status.status, [e.code for e in status.errors]) == (sent.message_id, "failed",
                                                                                   [131026])


def test_a_status_can_be_delivered_on_demand(fake_graph, page, messenger, webhook_sink):
    fake_graph.auto_statuses = ()
    fake_graph.deliver_inbound(page, PERSON, "hi")
    sent = messenger.send_text(PERSON, "hello")
    fake_graph.deliver_status(sent.message_id, "delivered")
    fake_graph.deliver_status(sent.message_id, "read")
    statuses = [s for r in webhook_sink.received()[1:] for s in payloads.parse_messenger(r.body).statuses]
    # Messenger's delivery receipt names the message and carries a watermark; its read receipt only a watermark.
    assert [(s.message_id, s.status, s.recipient) for s in statuses] == [(sent.message_id, "delivered", PERSON),
                                                                         (None, "delivered", PERSON),
                                                                         (None, "read", PERSON)]


def test_several_entries_in_one_delivery(fake_graph, number, webhook_sink):
    other = fake_graph.add_whatsapp_number(app_secret=number.app_secret)
    first = json.loads(fake_graph.deliver_inbound(number, CUSTOMER, "one").body)
    second = json.loads(fake_graph.deliver_inbound(other, CUSTOMER, "two", webhook_url=webhook_sink.url).body)
    first["entry"].extend(second["entry"])
    (delivery,) = fake_graph.deliver_body(number, first)
    received = webhook_sink.received()[-1]
    assert delivery.ok and verify_signature(number.app_secret, received.body, received.headers[SIGNATURE_HEADER])
    assert payloads.account_ids("whatsapp", received.body) == (number.phone_number_id, other.phone_number_id)
    assert [m.text for m in payloads.parse_whatsapp(received.body).messages] == ["one", "two"]


def test_the_verification_handshake(fake_graph, number, webhook_sink):
    number.verify_token = webhook_sink.verify_token
    assert fake_graph.verify_subscription(number).ok
    refused = fake_graph.verify_subscription(number, verify_token="guess")
    assert (refused.ok, refused.status) == (False, 403)


def test_every_call_is_logged_with_the_code_it_got(fake_graph, whatsapp):
    fake_graph.fail_next(130429)
    with pytest.raises(RateLimited):
        whatsapp.send_text(CUSTOMER, "hi")
    with pytest.raises(WindowClosed):
        whatsapp.send_text(CUSTOMER, "hi")
    assert [(r.version, r.status, r.code, r.fault) for r in fake_graph.requests()] == [
        ("v26.0", 400, 130429, "fail"), ("v26.0", 400, 131047, None)]
