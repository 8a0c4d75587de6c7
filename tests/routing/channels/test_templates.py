"""A WhatsApp number's message templates: recorded by the brand's admins, sent by the expert after the window."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from marketplace.brands.models import BrandRole
from marketplace.database import utcnow
from marketplace.errors import InvalidInput
from marketplace.routing.channels import outbound
from marketplace.routing.channels.templates import filled, placeholders
from marketplace.routing.models import ChannelDelivery, ChannelTemplate, DeliveryState, FeeCategory, Message
from tests.conftest import csrf_token_from, log_in
from tests.factories import BrandFactory
from tests.routing.channels.conftest import CUSTOMER, connect
from tests.routing.conftest import admin_of, received

pytestmark = pytest.mark.usefixtures("graph_settings")

REMINDER = {"name": "order_reminder", "language": "en_US", "category": "utility", "status": "approved",
            "body": "Hello {{1}}, your order {{2}} is ready."}


def _path(brand_id, channel_id, template_id=None):
    path = f"/api/v1/brands/{brand_id}/channels/{channel_id}/templates"
    return path if template_id is None else f"{path}/{template_id}"


def _csrf(client):
    return csrf_token_from(client.get("/login", follow_redirects=True).get_data(as_text=True))


def test_placeholders_are_counted_and_filled():
    assert placeholders("Hi {{1}}, order {{2}} ({{1}})") == 2
    assert placeholders("No parameter") == 0
    assert filled("Hi {{1}}, order {{ 2 }}", ["Ann", "A-12"]) == "Hi Ann, order A-12"
    for gap in ("Hi {{2}}", "{{1}} and {{3}}"):
        with pytest.raises(InvalidInput) as refused:
            placeholders(gap)
        assert refused.value.field == "body"


def test_an_admin_records_edits_and_deletes_templates_and_viewers_list_them(app, client, session, brand, number):
    channel = connect(session, brand, number)
    csrf = log_in(client, admin_of(session, brand).email)
    created = client.post(_path(brand.id, channel.id), json=REMINDER, headers={"X-CSRFToken": csrf})
    assert created.status_code == 201, created.get_json()
    shown = created.get_json()
    assert (shown["name"], shown["language"], shown["parameters"], shown["status"]) == \
        ("order_reminder", "en_US", 2, "approved")
    again = client.post(_path(brand.id, channel.id), json=REMINDER, headers={"X-CSRFToken": csrf})
    assert again.status_code == 409 and "name" in again.get_json()["errors"]
    changed = client.patch(_path(brand.id, channel.id, shown["id"]), json={"status": "rejected", "body": "Hi {{1}}"},
                           headers={"X-CSRFToken": csrf})
    assert changed.status_code == 200, changed.get_json()
    assert (changed.get_json()["status"], changed.get_json()["parameters"]) == ("rejected", 1)

    viewer = app.test_client()
    viewer_csrf = log_in(viewer, admin_of(session, brand, BrandRole.VIEWER).email)
    listed = viewer.get(_path(brand.id, channel.id)).get_json()["templates"]
    assert [(t["id"], t["body"]) for t in listed] == [(shown["id"], "Hi {{1}}")]
    assert viewer.delete(_path(brand.id, channel.id, shown["id"]),
                         headers={"X-CSRFToken": viewer_csrf}).status_code == 403

    assert client.delete(_path(brand.id, channel.id, shown["id"]), headers={"X-CSRFToken": csrf}).status_code == 204
    assert session.scalar(sa.select(sa.func.count()).select_from(ChannelTemplate)) == 0


@pytest.mark.parametrize(("change", "field"), [
    ({"name": "Order Reminder"}, "name"),
    ({"language": "english"}, "language"),
    ({"category": "promo"}, "category"),
    ({"status": "live"}, "status"),
    ({"body": ""}, "body"),
    ({"body": "Hi {{2}}"}, "body"),
    ({"body": "x" * 1025}, "body"),
])
def test_bad_input_is_refused_naming_the_field(client, session, brand, number, change, field):
    channel = connect(session, brand, number)
    csrf = log_in(client, admin_of(session, brand).email)
    answer = client.post(_path(brand.id, channel.id), json={**REMINDER, **change}, headers={"X-CSRFToken": csrf})
    assert answer.status_code == 422
    assert answer.mimetype == "application/problem+json" and field in answer.get_json()["errors"]
    assert session.scalar(sa.select(sa.func.count()).select_from(ChannelTemplate)) == 0


def test_another_brands_channel_and_templates_are_not_found(client, session, brand, number):
    channel = connect(session, brand, number)
    other = BrandFactory()
    session.commit()
    csrf = log_in(client, admin_of(session, other).email)
    assert client.get(_path(brand.id, channel.id)).status_code == 404
    assert client.get(_path(other.id, channel.id)).status_code == 404
    assert client.post(_path(other.id, channel.id), json=REMINDER, headers={"X-CSRFToken": csrf}).status_code == 404
    assert session.scalar(sa.select(sa.func.count()).select_from(ChannelTemplate)) == 0


def _template(session, channel, **fields):
    template = ChannelTemplate(channel_id=channel.id, **{**REMINDER, "parameters": 2, **fields})
    session.add(template)
    session.commit()
    return template


def _closed_conversation(sio, session, brand, fake_graph, number, relay):
    """A customer who wrote 25 hours ago, whose conversation the expert holds: the window has closed."""
    fake_graph.deliver_inbound(number, CUSTOMER, "Is my order ready?", timestamp=fake_graph.now() - 25 * 3600)
    relay(1)
    offer = received(sio, "offer")[-1]
    assert sio.emit("offer_accept", {"offer_id": offer["offer_id"]}, callback=True)["ok"]
    return offer["conversation_id"]


def _bodies(session, conversation_id):
    return [(m.sender.value, m.body) for m in session.scalars(
        sa.select(Message).where(Message.conversation_id == conversation_id).order_by(Message.seq))]


def test_outside_the_window_free_text_is_refused_and_a_template_goes_out(
        client, session, brand, expert_socket, fake_graph, number, whatsapp_relay):
    expert, sio = expert_socket
    channel = connect(session, brand, number)
    fake_graph.add_template(number, "order_reminder", "en_US", parameters=2)
    template = _template(session, channel)
    _template(session, channel, name="draft", status="pending", body="Hi", parameters=0)
    conversation_id = _closed_conversation(sio, session, brand, fake_graph, number, whatsapp_relay)
    csrf = _csrf(client)
    chats_page = client.get("/expert/chats").get_data(as_text=True)
    assert 'data-testid="template-picker"' in chats_page and "js/channel_window.js" in chats_page
    assert "Window closes in {time}" in chats_page

    offered = client.get(f"/api/v1/conversations/{conversation_id}/templates").get_json()["templates"]
    assert [t["name"] for t in offered] == ["order_reminder"]  # the pending one is not offered
    refused = client.post(f"/api/v1/conversations/{conversation_id}/messages",
                          json={"client_id": "free-1", "body": "Hi"}, headers={"X-CSRFToken": csrf})
    assert refused.status_code == 409 and "body" in refused.get_json()["errors"]

    sent = client.post(f"/api/v1/conversations/{conversation_id}/template-messages",
                       json={"template_id": template.id, "parameters": ["Ann", "A-12"], "client_id": "tpl-1"},
                       headers={"X-CSRFToken": csrf})
    assert sent.status_code == 201, sent.get_json()
    assert sent.get_json()["body"] == "Hello Ann, your order A-12 is ready."
    assert sent.get_json()["delivery"] == {"state": "pending", "error": None}
    # A resend with the same client id is the same message.
    client.post(f"/api/v1/conversations/{conversation_id}/template-messages",
                json={"template_id": template.id, "parameters": ["Ann", "A-12"], "client_id": "tpl-1"},
                headers={"X-CSRFToken": csrf})
    assert _bodies(session, conversation_id) == [("visitor", "Is my order ready?"),
                                                 ("expert", "Hello Ann, your order A-12 is ready.")]
    assert outbound.send_due() == 1
    [record] = fake_graph.sent(to=CUSTOMER, account=number)
    assert record.kind == "template"
    template_sent = record.body["template"]
    assert (template_sent["name"], template_sent["language"]["code"]) == ("order_reminder", "en_US")
    assert [p["text"] for p in template_sent["components"][0]["parameters"]] == ["Ann", "A-12"]
    delivery = session.scalar(sa.select(ChannelDelivery).execution_options(populate_existing=True))
    assert (delivery.state, delivery.template_name, delivery.template_parameters) == \
        (DeliveryState.SENT, "order_reminder", ["Ann", "A-12"])
    assert delivery.fee_category == FeeCategory(template.category.value)  # priced as Meta prices it, not as a reply
    assert delivery.fee_category != FeeCategory.SERVICE


def test_inside_the_window_a_template_goes_out_too(
        client, session, brand, expert_socket, fake_graph, number, whatsapp_relay):
    expert, sio = expert_socket
    channel = connect(session, brand, number)
    fake_graph.add_template(number, "welcome", "fr", parameters=0)
    template = _template(session, channel, name="welcome", language="fr", body="Bonjour !", parameters=0)
    fake_graph.deliver_inbound(number, CUSTOMER, "Hello")
    whatsapp_relay(1)
    offer = received(sio, "offer")[-1]
    sio.emit("offer_accept", {"offer_id": offer["offer_id"]}, callback=True)
    sent = client.post(f"/api/v1/conversations/{offer['conversation_id']}/template-messages",
                       json={"template_id": template.id, "parameters": []}, headers={"X-CSRFToken": _csrf(client)})
    assert sent.status_code == 201, sent.get_json()
    assert outbound.send_due() == 1
    assert [r.kind for r in fake_graph.sent(to=CUSTOMER, account=number)] == ["template"]


@pytest.mark.parametrize(("body", "field"), [
    ({"parameters": ["Ann"]}, "parameters"),
    ({"parameters": ["Ann", "A-12", "extra"]}, "parameters"),
    ({"parameters": ["Ann", "two\nlines"]}, "parameters"),
    ({"parameters": ["Ann", "A-12"], "template_id": 0}, "template_id"),
])
def test_a_wrong_template_or_parameters_is_refused_before_storing(
        client, session, brand, expert_socket, fake_graph, number, whatsapp_relay, body, field):
    expert, sio = expert_socket
    channel = connect(session, brand, number)
    template = _template(session, channel)
    conversation_id = _closed_conversation(sio, session, brand, fake_graph, number, whatsapp_relay)
    answer = client.post(f"/api/v1/conversations/{conversation_id}/template-messages",
                         json={"template_id": template.id, **body}, headers={"X-CSRFToken": _csrf(client)})
    assert answer.status_code == 422 and field in answer.get_json()["errors"]
    if len(body["parameters"]) != 2:
        assert answer.get_json()["errors"]["parameters"] == ["This template takes 2 parameters."]
    assert _bodies(session, conversation_id) == [("visitor", "Is my order ready?")]
    assert session.scalar(sa.select(sa.func.count()).select_from(ChannelDelivery)) == 0


def test_a_rejected_template_and_an_expert_not_holding_the_conversation_cannot_send(
        app, client, session, brand, expert_socket, fake_graph, number, whatsapp_relay):
    from marketplace.accounts.models import User
    from tests.routing.conftest import online_expert

    expert, sio = expert_socket
    channel = connect(session, brand, number)
    template = _template(session, channel)
    rejected = _template(session, channel, name="old", status="rejected", body="Old", parameters=0)
    conversation_id = _closed_conversation(sio, session, brand, fake_graph, number, whatsapp_relay)
    answer = client.post(f"/api/v1/conversations/{conversation_id}/template-messages",
                         json={"template_id": rejected.id, "parameters": []}, headers={"X-CSRFToken": _csrf(client)})
    assert answer.status_code == 422 and "template_id" in answer.get_json()["errors"]

    other = online_expert(brand)
    session.commit()
    client = app.test_client()
    csrf = log_in(client, session.get(User, other.user_id).email)
    answer = client.post(f"/api/v1/conversations/{conversation_id}/template-messages",
                         json={"template_id": template.id, "parameters": ["Ann", "A-12"]},
                         headers={"X-CSRFToken": csrf})
    assert answer.status_code == 404
    assert client.get(f"/api/v1/conversations/{conversation_id}/templates").status_code == 404
    assert _bodies(session, conversation_id) == [("visitor", "Is my order ready?")]


def test_the_customers_answer_to_a_template_reopens_the_window_on_the_experts_page(
        client, session, brand, expert_socket, fake_graph, number, whatsapp_relay):
    expert, sio = expert_socket
    channel = connect(session, brand, number)
    fake_graph.add_template(number, "order_reminder", "en_US", parameters=2)
    template = _template(session, channel)
    conversation_id = _closed_conversation(sio, session, brand, fake_graph, number, whatsapp_relay)
    sent = client.post(f"/api/v1/conversations/{conversation_id}/template-messages",
                       json={"template_id": template.id, "parameters": ["Ann", "A-12"]},
                       headers={"X-CSRFToken": _csrf(client)})
    assert sent.status_code == 201
    outbound.send_due()
    whatsapp_relay(2)  # the template's statuses
    received(sio, "chat")
    fake_graph.deliver_inbound(number, CUSTOMER, "Thanks, coming today")
    whatsapp_relay(1)
    [chat] = [event for event in received(sio, "chat") if event["conversation_id"] == conversation_id]
    assert dt.datetime.fromisoformat(chat["window_closes_at"]) > utcnow() + dt.timedelta(hours=23)
    free = sio.emit("chat_send", {"conversation_id": conversation_id, "client_id": "free-2", "body": "See you!"},
                    callback=True)
    assert free["ok"], free
    # A message inside an open window tells the expert nothing more.
    fake_graph.deliver_inbound(number, CUSTOMER, "Great")
    whatsapp_relay(1)
    assert [event for event in received(sio, "chat") if event["conversation_id"] == conversation_id] == []
