"""A Messenger receipt names no message, only a time: every message sent to the person before its watermark was
delivered (or read). One that comes before our send has recorded its message still covers it: the person's latest
watermarks are kept, and the send applies them as it records; never an older one, never a state backwards."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from marketplace.database import unit_of_work, utcnow
from marketplace.routing.channels import outbound, statuses
from marketplace.routing.channels.payloads import StatusUpdate
from marketplace.routing.models import ChannelDelivery, ChannelWatermark, DeliveryState
from tests.routing.channels.conftest import PERSON, connect
from tests.routing.channels.test_messenger_conversations import _accepted, _answer
from tests.routing.conftest import received

pytestmark = pytest.mark.usefixtures("graph_settings")


def _receipt(page, status: str, up_to: dt.datetime) -> StatusUpdate:
    """Messenger's receipt of `status` with its watermark, as payloads.parse_messenger makes it."""
    return StatusUpdate("messenger", page.page_id, None, PERSON, status, up_to + dt.timedelta(milliseconds=200),
                        up_to=up_to)


def _taken(channel, *receipts: StatusUpdate) -> list[int]:
    """Take the receipts as the webhook does, each in its own unit: how many records each moved."""
    moved = []
    for receipt in receipts:
        with unit_of_work():
            moved.append(statuses.apply_status(channel.id, receipt))
    return moved


def _during_the_send(monkeypatch, receipts) -> None:
    """Have `receipts(now)` taken once, after Graph took the next send and before the send records it."""
    call_graph = outbound._call_graph
    pending = [receipts]

    def answered_late(outgoing):
        sent = call_graph(outgoing)
        if pending:
            pending.pop()(utcnow())
        return sent

    monkeypatch.setattr(outbound, "_call_graph", answered_late)


def _records(session) -> list[ChannelDelivery]:
    return list(session.scalars(sa.select(ChannelDelivery).order_by(ChannelDelivery.message_id)
                                .execution_options(populate_existing=True)))


def _answered(sio, fake_graph, page, messenger_relay, count: int = 1) -> int:
    conversation_id, _chat = _accepted(sio, fake_graph, page, messenger_relay)
    for number in range(1, count + 1):
        assert _answer(sio, conversation_id, f"Réponse {number}", client_id=f"e-{number}")["ok"]
    return conversation_id


@pytest.mark.parametrize("status", ["delivered", "read"])
def test_a_watermark_taken_before_the_send_records_its_message_moves_it_as_it_records(
        session, brand, expert_socket, fake_graph, page, messenger_relay, monkeypatch, status):
    _expert, sio = expert_socket
    channel = connect(session, brand, page)
    conversation_id = _answered(sio, fake_graph, page, messenger_relay)
    moved: list[int] = []
    _during_the_send(monkeypatch, lambda now: moved.extend(_taken(channel, _receipt(page, status, now))))
    assert outbound.send_due() == 1
    assert moved == [0]  # nothing recorded to move yet: kept
    [record] = _records(session)
    assert record.state == DeliveryState(status)
    assert getattr(record, f"{status}_at") is not None
    assert received(sio, "message_delivery")[-1] == {"conversation_id": conversation_id, "seq": 2,
                                                     "delivery": {"state": status, "error": None}}


def test_the_fake_meta_reading_the_answer_before_the_send_records_it_shows_it_read(
        session, brand, expert_socket, fake_graph, page, messenger_relay, monkeypatch):
    """The browser test's race, through the signed webhooks: the delivery (with its message id) and the read
    watermark both come while the send is still waiting for Graph's answer."""
    _expert, sio = expert_socket
    fake_graph.auto_statuses = ("delivered", "read")
    connect(session, brand, page)
    _answered(sio, fake_graph, page, messenger_relay)

    def posted(_now):
        assert [answer.status_code for answer in messenger_relay(2)] == [200, 200]

    _during_the_send(monkeypatch, posted)
    assert outbound.send_due() == 1
    [record] = _records(session)
    assert record.state == DeliveryState.READ
    assert record.delivered_at is not None and record.read_at is not None
    assert [event["delivery"]["state"] for event in received(sio, "message_delivery")][-2:] == ["delivered", "read"]


def test_a_watermark_from_before_the_message_was_handed_to_graph_leaves_it_sent(
        session, brand, expert_socket, fake_graph, page, messenger_relay):
    """The person read everything up to a moment before this message went: it is not theirs to have read."""
    _expert, sio = expert_socket
    channel = connect(session, brand, page)
    _answered(sio, fake_graph, page, messenger_relay)
    assert _taken(channel, _receipt(page, "read", utcnow() - dt.timedelta(seconds=1))) == [0]
    assert outbound.send_due() == 1
    [record] = _records(session)
    assert (record.state, record.read_at) == (DeliveryState.SENT, None)


def test_an_older_receipt_taken_after_a_newer_one_keeps_the_newer_watermark(
        session, brand, expert_socket, fake_graph, page, messenger_relay, monkeypatch):
    """Meta's receipts may come out of order or twice: the kept watermark only ever moves forward, and a delivery
    after a read never moves the message back."""
    _expert, sio = expert_socket
    channel = connect(session, brand, page)
    _answered(sio, fake_graph, page, messenger_relay)

    def out_of_order(now):
        newer, older = _receipt(page, "read", now), _receipt(page, "read", now - dt.timedelta(minutes=1))
        assert _taken(channel, newer, newer, older, _receipt(page, "delivered", now)) == [0, 0, 0, 0]

    _during_the_send(monkeypatch, out_of_order)
    assert outbound.send_due() == 1
    [record] = _records(session)
    assert record.state == DeliveryState.READ
    kept = session.scalar(sa.select(ChannelWatermark).execution_options(populate_existing=True))
    assert kept.read_up_to == record.read_at - dt.timedelta(milliseconds=200)  # the newer one's, and its time
    assert _taken(channel, _receipt(page, "delivered", utcnow())) == [0]
    assert _records(session)[0].state == DeliveryState.READ


def test_a_watermark_covers_the_messages_sent_before_it_and_not_those_after(
        session, brand, expert_socket, fake_graph, page, messenger_relay, monkeypatch):
    """One receipt taken while the second answer is on its way reads the first (recorded) and the second (as it
    records); the third, sent after it, stays sent."""
    _expert, sio = expert_socket
    channel = connect(session, brand, page)
    _answered(sio, fake_graph, page, messenger_relay, count=3)
    assert outbound.send(_records(session)[0].message_id)
    moved: list[int] = []
    _during_the_send(monkeypatch, lambda now: moved.extend(_taken(channel, _receipt(page, "read", now))))
    assert outbound.send(_records(session)[1].message_id)
    assert outbound.send(_records(session)[2].message_id)
    assert moved == [1]
    assert [record.state for record in _records(session)] == [DeliveryState.READ, DeliveryState.READ,
                                                              DeliveryState.SENT]


def test_kept_watermarks_are_forgotten_a_day_after_they_last_changed(session, brand, page):
    channel = connect(session, brand, page)
    now = utcnow()
    assert _taken(channel, _receipt(page, "read", now)) == [0]
    assert statuses.sweep_early_statuses(now + dt.timedelta(hours=23))["watermarks_forgotten"] == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(ChannelWatermark)) == 1
    later = statuses.sweep_early_statuses(now + statuses.EARLY_STATUS_KEPT + dt.timedelta(minutes=1))
    assert later["watermarks_forgotten"] == 1
    assert session.scalar(sa.select(sa.func.count()).select_from(ChannelWatermark)) == 0
