"""Channel fees: effective-dated per app and category, counted in the monthly budget, holding a reply past it, and
billed on the brand's invoice; the fee table's API refuses bad input and shows no other brand's table."""

from __future__ import annotations

import datetime as dt
import io

import pypdf
import pytest
import sqlalchemy as sa
from flask import g

from marketplace.brands.models import BrandRole
from marketplace.core import clock
from marketplace.database import utcnow
from marketplace.extensions import socketio
from marketplace.payouts.statements import services as statements
from marketplace.routing.channels import fees, outbound
from marketplace.routing.console import caps
from marketplace.routing.console.dashboard import brand_dashboard
from marketplace.routing.models import (
    BrandLoad,
    Channel,
    ChannelDelivery,
    ChannelFee,
    ChannelHold,
    DeliveryState,
    FeeCategory,
    Message,
)
from tests.conftest import log_in
from tests.factories import BrandFactory
from tests.routing.channels.conftest import CUSTOMER, connect
from tests.routing.channels.test_whatsapp_conversations import _accepted
from tests.routing.conftest import admin_of, received

UTC = dt.UTC


def _fee(session, brand, amount, effective_from, kind=Channel.WHATSAPP, category=FeeCategory.SERVICE):
    session.add(ChannelFee(brand_id=brand.id, kind=kind, category=category, amount_cents=amount,
                           effective_from=effective_from))
    session.commit()


def test_the_fee_in_effect_is_the_latest_started_by_the_messages_day_in_the_brands_timezone(session, brand):
    _fee(session, brand, 5, dt.date(2026, 1, 1))
    _fee(session, brand, 8, dt.date(2026, 3, 1))
    _fee(session, brand, 40, dt.date(2026, 1, 1), category=FeeCategory.MARKETING)
    _fee(session, brand, 2, dt.date(2026, 1, 1), kind=Channel.MESSENGER)

    def fee(at, kind=Channel.WHATSAPP, category=FeeCategory.SERVICE):
        return fees.fee_in_effect(brand.id, brand.timezone, kind, category, at)

    assert fee(dt.datetime(2025, 12, 31, 12, tzinfo=UTC)) == 0  # before the first row: no fee
    assert fee(dt.datetime(2026, 2, 28, 22, 59, tzinfo=UTC)) == 5
    assert fee(dt.datetime(2026, 2, 28, 23, 0, tzinfo=UTC)) == 8  # midnight in Paris: March has begun there
    assert fee(dt.datetime(2026, 6, 1, tzinfo=UTC), category=FeeCategory.MARKETING) == 40
    assert fee(dt.datetime(2026, 6, 1, tzinfo=UTC), category=FeeCategory.UTILITY) == 0
    assert fee(dt.datetime(2026, 6, 1, tzinfo=UTC), kind=Channel.MESSENGER) == 2


pytestmark_graph = pytest.mark.usefixtures("graph_settings")


def _committed(session, brand) -> int:
    session.expire_all()
    return session.get(BrandLoad, brand.id).month_committed_cents


@pytestmark_graph
def test_fees_count_in_the_budget_and_a_reply_past_it_is_held_with_nothing_stored_or_sent(
        app, session, brand, expert_socket, fake_graph, number, whatsapp_relay):
    expert, sio = expert_socket
    connect(session, brand, number)
    _fee(session, brand, 7, clock.local_day(utcnow(), brand.timezone))
    conversation, _chat = _accepted(sio, session, fake_graph, number, whatsapp_relay)
    chat_price = _committed(session, brand)
    assert chat_price == 200  # the accepted chat's price, committed when it was accepted
    brand.monthly_budget_cents = chat_price + 7  # room for one message's fee, not two
    session.commit()
    admin = admin_of(session, brand)
    brand_side = app.test_client()
    log_in(brand_side, admin.email)
    brand_sio = socketio.test_client(app, flask_test_client=brand_side)  # the admin's open console pages
    assert brand_sio.is_connected()
    brand_sio.get_received()
    g.__dict__.clear()  # the test's one app context cached the admin as the user: the expert's socket speaks next

    first = sio.emit("chat_send", {"conversation_id": conversation.id, "client_id": "e-1", "body": "Yes, two left."},
                     callback=True)
    assert first["ok"], first
    record = session.scalar(sa.select(ChannelDelivery))
    assert (record.fee_cents, record.fee_category) == (7, FeeCategory.SERVICE)
    assert _committed(session, brand) == chat_price + 7
    assert outbound.send_due() == 1
    assert len(fake_graph.sent(to=CUSTOMER, account=number)) == 1

    held = sio.emit("chat_send", {"conversation_id": conversation.id, "client_id": "e-2", "body": "Anything else?"},
                    callback=True)
    assert held["ok"] is False
    assert held["error"] == "This brand has reached its monthly budget: the message was not sent."
    session.expire_all()
    assert [m.body for m in session.scalars(sa.select(Message).where(Message.conversation_id == conversation.id)
                                            .order_by(Message.seq))] == ["Hello, is the lamp in stock?",
                                                                         "Yes, two left."]
    assert session.scalar(sa.select(sa.func.count()).select_from(ChannelDelivery)) == 1
    assert outbound.send_due() == 0
    assert len(fake_graph.sent(to=CUSTOMER, account=number)) == 1
    assert _committed(session, brand) == chat_price + 7

    # The brand is told: the hold is recorded, its open pages hear of it at once (the dashboard fetches its figures
    # again), and it shows on its dashboard with the month's fees.
    hold = session.scalar(sa.select(ChannelHold))
    assert (hold.brand_id, hold.conversation_id, hold.fee_cents) == (brand.id, conversation.id, 7)
    assert received(brand_sio, "channel_message_held") == [
        {"brand_id": brand.id, "conversation_id": conversation.id, "fee_cents": 7}]
    brand_sio.disconnect()
    board = brand_dashboard(admin, brand.id)
    assert (board.channel_fees_cents, board.channel_messages_held) == (7, 1)
    budget = next(use for use in caps.cap_usage(admin, brand.id).caps if use.name == "monthly_budget_cents")
    assert (budget.used, budget.cap) == (chat_price + 7, chat_price + 7)

    # The month's invoice (provisional) bills the fee on a line of its own, inside the subtotal.
    now = utcnow()
    invoice = statements.brand_invoice(admin, brand.id, now.year, now.month)
    (part,) = invoice.parts
    assert [(line.kind, line.category, line.messages, line.amount_cents) for line in part.channel_fees] == \
        [("whatsapp", "service", 1, 7)]
    assert part.subtotal_cents == 7
    pdf = brand_side.get(f"/api/v1/brands/{brand.id}/invoices/{now:%Y-%m}.pdf")
    assert pdf.status_code == 200
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Channel fees: WhatsApp, service messages 1 0.07 EUR" in text
    assert "Subtotal excl. VAT (0 chats) 0.07 EUR" in text


@pytestmark_graph
def test_a_priced_reply_locks_the_brand_before_the_conversation_as_the_router_does(
        app, session, brand, expert_socket, fake_graph, number, whatsapp_relay):
    """Numbering a message locks its conversation's row; pricing it locks the brand's load. The router locks the
    brand first, then a conversation (accepting, ending): a reply that took them the other way round could wait on
    a router transaction waiting on it (a deadlock on PostgreSQL). The statements show the order taken."""
    from marketplace.database import db

    expert, sio = expert_socket
    connect(session, brand, number)
    _fee(session, brand, 7, clock.local_day(utcnow(), brand.timezone))
    conversation, _chat = _accepted(sio, session, fake_graph, number, whatsapp_relay)
    statements_run: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements_run.append(" ".join(statement.split()).lower())

    sa.event.listen(db.engine, "before_cursor_execute", seen)
    try:
        reply = sio.emit("chat_send", {"conversation_id": conversation.id, "client_id": "e-1", "body": "Yes."},
                         callback=True)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", seen)
    assert reply["ok"], reply
    brand_lock = next(i for i, sql in enumerate(statements_run) if "from brand_loads" in sql)
    numbering = next(i for i, sql in enumerate(statements_run)
                     if sql.startswith("update conversations") and "last_seq" in sql)
    assert brand_lock < numbering, statements_run
    assert session.scalar(sa.select(ChannelDelivery.fee_cents)) == 7


@pytestmark_graph
def test_a_message_whose_send_finally_fails_is_not_charged(
        session, brand, expert_socket, fake_graph, number, whatsapp_relay):
    expert, sio = expert_socket
    connect(session, brand, number)
    _fee(session, brand, 9, clock.local_day(utcnow(), brand.timezone))
    conversation, _chat = _accepted(sio, session, fake_graph, number, whatsapp_relay)
    chat_price = _committed(session, brand)
    fake_graph.window_refusal = "answer"
    fake_graph.advance(hours=25)  # Meta's clock says the window closed: Graph refuses the send (131047)
    sio.emit("chat_send", {"conversation_id": conversation.id, "client_id": "e-1", "body": "Still there?"},
             callback=True)
    assert _committed(session, brand) == chat_price + 9
    outbound.send_due()
    session.expire_all()
    assert session.scalar(sa.select(ChannelDelivery)).state == DeliveryState.FAILED
    assert _committed(session, brand) == chat_price
    assert brand_dashboard(admin_of(session, brand), brand.id).channel_fees_cents == 0


# The fee table's API.

def _post(client, csrf, brand_id, body):
    return client.post(f"/api/v1/brands/{brand_id}/channel-fees", json=body, headers={"X-CSRFToken": csrf})


def test_an_admin_schedules_fees_and_reads_the_table_with_their_states(client, session, brand):
    today = clock.local_day(utcnow(), brand.timezone)
    _fee(session, brand, 3, today - dt.timedelta(days=30))
    csrf = log_in(client, admin_of(session, brand).email)
    now = _post(client, csrf, brand.id, {"kind": "whatsapp", "category": "service", "amount_cents": 5,
                                         "effective_from": today.isoformat()})
    assert now.status_code == 201, now.get_json()
    assert (now.get_json()["amount_cents"], now.get_json()["state"]) == (5, "in_effect")
    later = _post(client, csrf, brand.id, {"kind": "whatsapp", "category": "marketing", "amount_cents": 60,
                                           "effective_from": (today + dt.timedelta(days=3)).isoformat()})
    assert later.status_code == 201 and later.get_json()["state"] == "scheduled"
    table = client.get(f"/api/v1/brands/{brand.id}/channel-fees").get_json()
    assert table["currency"] == "EUR"
    assert sorted((fee["category"], fee["amount_cents"], fee["state"]) for fee in table["fees"]) == \
        [("marketing", 60, "scheduled"), ("service", 3, "past"), ("service", 5, "in_effect")]
    assert "/api/v1/brands/{brand_id}/channel-fees" in client.get("/api/openapi.json").get_json()["paths"]


@pytest.mark.parametrize(("change", "field"), [
    ({"kind": "telegram"}, "kind"),
    ({"kind": "web"}, "kind"),
    ({"category": "promo"}, "category"),
    ({"amount_cents": -1}, "amount_cents"),
    ({"amount_cents": "5"}, "amount_cents"),
    ({"amount_cents": 2.5}, "amount_cents"),
    ({"effective_from": "2020-01-01"}, "effective_from"),
    ({"effective_from": "soon"}, "effective_from"),
])
def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(client, session, brand, change, field):
    csrf = log_in(client, admin_of(session, brand).email)
    body = {"kind": "whatsapp", "category": "utility", "amount_cents": 4,
            "effective_from": clock.local_day(utcnow(), brand.timezone).isoformat(), **change}
    answer = _post(client, csrf, brand.id, body)
    assert answer.status_code == 422
    assert answer.mimetype == "application/problem+json" and field in answer.get_json()["errors"]
    assert session.scalar(sa.select(sa.func.count()).select_from(ChannelFee)) == 0


def test_another_brand_is_not_found_and_a_viewer_cannot_schedule(app, client, session, brand):
    other = BrandFactory()
    session.commit()
    _fee(session, other, 11, dt.date(2026, 1, 1))
    body = {"kind": "whatsapp", "category": "service", "amount_cents": 4,
            "effective_from": clock.local_day(utcnow(), brand.timezone).isoformat()}
    csrf = log_in(client, admin_of(session, brand).email)
    assert client.get(f"/api/v1/brands/{other.id}/channel-fees").status_code == 404
    assert _post(client, csrf, other.id, body).status_code == 404
    assert client.get(f"/api/v1/brands/{brand.id}/channel-fees").get_json()["fees"] == []
    viewer = app.test_client()
    csrf = log_in(viewer, admin_of(session, brand, BrandRole.VIEWER).email)
    assert _post(viewer, csrf, brand.id, body).status_code == 403
    assert session.scalar(sa.select(sa.func.count()).select_from(ChannelFee)) == 1


def test_the_caps_page_lists_the_fees_in_effect_and_adds_a_dated_one(client, session, brand):
    from tests.routing.test_pages import form_token

    today = clock.local_day(utcnow(), brand.timezone)
    _fee(session, brand, 4, today - dt.timedelta(days=40))
    _fee(session, brand, 6, today - dt.timedelta(days=10))
    log_in(client, admin_of(session, brand).email)
    page = client.get(f"/brands/{brand.slug}/caps").get_data(as_text=True)
    assert 'data-testid="channel-fees"' in page and "0.06" in page and "0.04" not in page  # the past one is gone
    refused = client.post(f"/brands/{brand.slug}/caps/channel-fees", data={
        "csrf_token": form_token(page), "kind": "whatsapp", "category": "marketing", "amount": "0,45",
        "effective_from": (today - dt.timedelta(days=1)).isoformat()})
    assert refused.status_code == 422 and "A new fee starts today or later" in refused.get_data(as_text=True)
    saved = client.post(f"/brands/{brand.slug}/caps/channel-fees", data={
        "csrf_token": form_token(page), "kind": "whatsapp", "category": "marketing", "amount": "0,45",
        "effective_from": (today + dt.timedelta(days=2)).isoformat()})
    assert saved.status_code == 302
    fee = session.scalar(sa.select(ChannelFee).where(ChannelFee.category == FeeCategory.MARKETING))
    assert (fee.amount_cents, fee.effective_from, fee.kind) == (45, today + dt.timedelta(days=2), Channel.WHATSAPP)
    shown = client.get(f"/brands/{brand.slug}/caps").get_data(as_text=True)
    assert 'data-fee-state="scheduled"' in shown and "0.45" in shown


def test_a_web_reply_has_no_fee_and_is_never_held(session, brand, expert_socket):
    from tests.routing.conftest import arrive, received

    expert, sio = expert_socket
    _fee(session, brand, 7, dt.date(2020, 1, 1))
    _fee(session, brand, 7, dt.date(2020, 1, 1), kind=Channel.MESSENGER)
    conversation = arrive(brand)
    offer = received(sio, "offer")[-1]
    assert sio.emit("offer_accept", {"offer_id": offer["offer_id"]}, callback=True)["ok"]
    brand.monthly_budget_cents = _committed(session, brand)  # spent to the cent
    session.commit()
    reply = sio.emit("chat_send", {"conversation_id": conversation.id, "client_id": "e-1", "body": "Hello"},
                     callback=True)
    assert reply["ok"], reply
    assert session.scalar(sa.select(sa.func.count()).select_from(ChannelDelivery)) == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(ChannelHold)) == 0
