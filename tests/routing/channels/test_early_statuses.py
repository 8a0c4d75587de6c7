"""Meta may post a message's statuses before our send has recorded the id Graph answered with: they are kept, and
applied once the id is recorded (or by the sweep, when the two raced); kept a day at most when no send records it."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from marketplace.core import clock
from marketplace.database import unit_of_work, utcnow
from marketplace.routing.channels import outbound, statuses
from marketplace.routing.channels.payloads import StatusUpdate
from marketplace.routing.models import BrandLoad, ChannelDelivery, ChannelEarlyStatus, DeliveryState
from tests.routing.channels.conftest import CUSTOMER, connect
from tests.routing.channels.test_fees import _fee
from tests.routing.channels.test_whatsapp_conversations import _accepted
from tests.routing.conftest import received

pytestmark = pytest.mark.usefixtures("graph_settings")


def _statuses_come_first(monkeypatch, fake_graph, relay, *, statuses: int, then_read: bool = False) -> None:
    """Post Meta's statuses of the next send to the app between Graph's answer and the recording of its id."""
    call_graph = outbound._call_graph

    def answered_late(outgoing):
        sent = call_graph(outgoing)
        assert {answer.status_code for answer in relay(statuses)} == {200}
        if then_read:
            fake_graph.deliver_status(sent.message_id, "read")
            assert [answer.status_code for answer in relay(1)] == [200]
        return sent

    monkeypatch.setattr(outbound, "_call_graph", answered_late)


def _reply(sio, conversation, body="Yes, two left."):
    assert sio.emit("chat_send", {"conversation_id": conversation.id, "client_id": "e-1", "body": body},
                    callback=True)["ok"]
    received(sio, "message_delivery")


def _record(session) -> ChannelDelivery:
    return session.scalar(sa.select(ChannelDelivery).execution_options(populate_existing=True))


def _kept(session) -> list[tuple[str, DeliveryState]]:
    return [tuple(row) for row in session.execute(
        sa.select(ChannelEarlyStatus.platform_message_id, ChannelEarlyStatus.state).order_by(ChannelEarlyStatus.id))]


@pytest.mark.parametrize("then_read", [False, True])
def test_statuses_posted_before_the_send_is_recorded_move_the_record_once_it_is(
        session, brand, expert_socket, fake_graph, number, whatsapp_relay, monkeypatch, then_read):
    _expert, sio = expert_socket
    connect(session, brand, number)
    conversation, _chat = _accepted(sio, session, fake_graph, number, whatsapp_relay)
    _reply(sio, conversation)
    _statuses_come_first(monkeypatch, fake_graph, whatsapp_relay, statuses=2, then_read=then_read)
    assert outbound.send_due() == 1
    record = _record(session)
    final = DeliveryState.READ if then_read else DeliveryState.DELIVERED
    assert (record.state, record.platform_message_id) == (final, fake_graph.sent(to=CUSTOMER)[-1].message_id)
    assert record.delivered_at is not None and (record.read_at is not None) == then_read
    assert received(sio, "message_delivery")[-1] == {"conversation_id": conversation.id, "seq": 2,
                                                     "delivery": {"state": final.value, "error": None}}
    assert _kept(session) == []


def test_a_failure_posted_before_the_send_is_recorded_fails_it_and_gives_its_fee_back(
        session, brand, expert_socket, fake_graph, number, whatsapp_relay, monkeypatch):
    _expert, sio = expert_socket
    connect(session, brand, number)
    _fee(session, brand, 9, clock.local_day(utcnow(), brand.timezone))
    conversation, _chat = _accepted(sio, session, fake_graph, number, whatsapp_relay)
    _reply(sio, conversation)
    session.expire_all()
    charged = session.get(BrandLoad, brand.id).month_committed_cents
    fake_graph.fail_delivery_next(131026)
    _statuses_come_first(monkeypatch, fake_graph, whatsapp_relay, statuses=1)
    assert outbound.send_due() == 1
    record = _record(session)
    assert (record.state, record.error_code) == (DeliveryState.FAILED, 131026)
    session.expire_all()
    assert session.get(BrandLoad, brand.id).month_committed_cents == charged - 9
    assert received(sio, "message_delivery")[-1]["delivery"]["state"] == "failed"


def _status(number, message_id: str, status: str, at: dt.datetime) -> StatusUpdate:
    return StatusUpdate("whatsapp", number.phone_number_id, message_id, CUSTOMER, status, at)


def test_a_status_for_an_id_no_send_records_is_kept_a_day_then_forgotten(session, brand, number):
    channel = connect(session, brand, number)
    now = utcnow()
    for _redelivered in range(2):
        with unit_of_work():
            assert statuses.apply_status(channel.id, _status(number, "wamid.elsewhere", "delivered", now)) == 0
    assert _kept(session) == [("wamid.elsewhere", DeliveryState.DELIVERED)]  # Meta's redelivery kept once
    assert statuses.sweep_early_statuses(now + dt.timedelta(hours=23)) == \
        {"applied": 0, "forgotten": 0, "watermarks_forgotten": 0}
    assert _kept(session) == [("wamid.elsewhere", DeliveryState.DELIVERED)]
    assert statuses.sweep_early_statuses(now + statuses.EARLY_STATUS_KEPT + dt.timedelta(minutes=1)) == \
        {"applied": 0, "forgotten": 1, "watermarks_forgotten": 0}
    assert _kept(session) == []


def test_a_status_kept_while_the_send_recorded_its_id_is_applied_by_the_sweep(
        session, brand, expert_socket, fake_graph, number, whatsapp_relay):
    """On PostgreSQL the status's transaction and the send's may each miss the other's row (neither had committed):
    the sweep applies what the send did not."""
    _expert, sio = expert_socket
    channel = connect(session, brand, number)
    conversation, _chat = _accepted(sio, session, fake_graph, number, whatsapp_relay)
    _reply(sio, conversation)
    assert outbound.send_due() == 1
    record = _record(session)
    session.add(ChannelEarlyStatus(channel_id=channel.id, platform_message_id=record.platform_message_id,
                                   state=DeliveryState.DELIVERED, occurred_at=utcnow(), received_at=utcnow()))
    session.commit()
    assert statuses.sweep_early_statuses() == {"applied": 1, "forgotten": 0, "watermarks_forgotten": 0}
    assert _record(session).state == DeliveryState.DELIVERED
    assert received(sio, "message_delivery")[-1]["delivery"]["state"] == "delivered"
    assert _kept(session) == []
