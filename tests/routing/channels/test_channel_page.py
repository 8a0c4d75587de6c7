"""The brand console's channel page: an admin connects an account and sees its webhook address but never a secret,
sends a test through the real Graph client (the fake), and disconnects after confirming; a viewer only reads."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import AuditEvent
from marketplace.brands.models import BrandRole
from marketplace.routing.models import BrandChannel
from tests.conftest import log_in
from tests.routing.channels.conftest import CUSTOMER, connect
from tests.routing.conftest import admin_of

# Connecting a number asks Graph for its display number: the fake's, never Meta's (an unknown id there: none).
pytestmark = pytest.mark.usefixtures("graph_settings")

SECRETS = {"access_token": "EAAG-token-value-123", "app_secret": "0123456789abcdef0123456789abcdef",
           "verify_token": "my-verify-token-7Q2z"}


def _page(brand):
    return f"/brands/{brand.slug}/channels"


def _test_send(client, csrf, brand, channel, to, text):
    return client.post(f"{_page(brand)}/{channel.id}/test", data={
        f"test-{channel.id}-csrf_token": csrf, f"test-{channel.id}-to": to, f"test-{channel.id}-text": text})


def _connect_form(client, csrf, brand, **values):
    return client.post(_page(brand), data={"csrf_token": csrf, "kind": "whatsapp", "phone_number_id": "106540352242922",
                                           **SECRETS, **values})


def _audits(session, kind):
    session.expire_all()
    return list(session.scalars(sa.select(AuditEvent).where(AuditEvent.kind == kind)))


def test_an_admin_connects_a_number_and_sees_its_webhook_address_and_no_secret(client, session, brand):
    csrf = log_in(client, admin_of(session, brand).email)
    answer = _connect_form(client, csrf, brand)
    assert answer.status_code == 302
    page = client.get(_page(brand)).get_data(as_text=True)
    assert "WhatsApp account 106540352242922 is connected" in page
    assert re.search(r'data-testid="webhook-url">http://[^/<]+/webhooks/whatsapp<', page)
    assert "set, ends in …7Q2z" in page
    assert not any(secret in page for secret in SECRETS.values())
    assert 'aria-current="page">Messaging apps<' in page  # its tab in the console
    assert [event.detail["account_id"] for event in _audits(session, "channel_connected")] == ["106540352242922"]
    # Graph knows no such number (it is not the fake's): the number stays unknown, and the page says what that means.
    assert "not known: the web chat offers no WhatsApp link" in page


def test_the_number_customers_dial_is_given_or_asked_of_whatsapp(client, session, brand, fake_graph):
    csrf = log_in(client, admin_of(session, brand).email)
    assert _connect_form(client, csrf, brand, display_phone_number="+33 1 80 00 00 00").status_code == 302
    number = fake_graph.add_whatsapp_number(display_phone_number="+1 555-010-0042")
    assert _connect_form(client, csrf, brand, phone_number_id=number.phone_number_id,
                         access_token=number.access_token).status_code == 302
    page = client.get(_page(brand)).get_data(as_text=True)
    assert re.findall(r'data-testid="display-number">([^<]+)<', page) == ["+33180000000", "+15550100042"]
    refused = _connect_form(client, csrf, brand, phone_number_id="106540352242923", display_phone_number="12")
    assert refused.status_code == 422
    assert "Give the WhatsApp number in international form" in refused.get_data(as_text=True)


def test_a_refusal_names_the_field_and_keeps_no_secret_in_the_form(client, session, brand):
    csrf = log_in(client, admin_of(session, brand).email)
    answer = _connect_form(client, csrf, brand, phone_number_id="+33 6 12", verify_token="with space")
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert re.search(r'id="phone_number_id-error">Give the phone number&#39;s id \(digits\)', page)
    assert not any(secret in page for secret in SECRETS.values())
    assert session.scalar(sa.select(sa.func.count()).select_from(BrandChannel)) == 0


def test_a_viewer_reads_the_page_but_cannot_connect(client, session, brand):
    csrf = log_in(client, admin_of(session, brand, BrandRole.VIEWER).email)
    page = client.get(_page(brand)).get_data(as_text=True)
    assert "admins can connect, test or disconnect" in page and 'data-testid="connect-form"' not in page
    assert _connect_form(client, csrf, brand).status_code == 403


def test_a_test_send_reaches_graph_as_the_template_outside_the_window(client, session, brand, fake_graph,
                                                                       graph_settings):
    number = fake_graph.add_whatsapp_number()
    fake_graph.add_template(number, "hello_world", "en_US")
    channel = connect(session, brand, number)
    csrf = log_in(client, admin_of(session, brand).email)
    answer = _test_send(client, csrf, brand, channel, f"+{CUSTOMER}", "Hello from the console")
    assert answer.status_code == 200
    assert f"WhatsApp took the test message for {CUSTOMER} (as the hello_world template" in answer.get_data(
        as_text=True)
    [sent] = fake_graph.sent(to=CUSTOMER)
    assert (sent.kind, sent.account_id) == ("template", number.phone_number_id)
    [audit] = _audits(session, "channel_test_sent")
    assert (audit.detail["ok"], audit.detail["sent_as"]) == (True, "template")


def test_graphs_refusal_is_shown_in_words_and_becomes_the_channels_last_error(client, session, brand, fake_graph,
                                                                              graph_settings):
    number = fake_graph.add_whatsapp_number()  # no hello_world template on this number: Graph refuses it
    channel = connect(session, brand, number)
    csrf = log_in(client, admin_of(session, brand).email)
    answer = _test_send(client, csrf, brand, channel, CUSTOMER, "Hi")
    page = answer.get_data(as_text=True)
    assert "WhatsApp refused the test message: Meta refused the message. Meta said:" in page
    assert "(code 132001)" in page
    session.expire_all()
    assert "132001" in session.get(BrandChannel, channel.id).last_error
    assert _audits(session, "channel_test_sent")[0].detail["ok"] is False


def test_a_bad_recipient_is_refused_naming_the_field_before_anything_is_sent(client, session, brand, fake_graph,
                                                                            graph_settings):
    channel = connect(session, brand, fake_graph.add_whatsapp_number())
    csrf = log_in(client, admin_of(session, brand).email)
    answer = _test_send(client, csrf, brand, channel, "call me", "Hi")
    assert answer.status_code == 422
    assert f'id="test-{channel.id}-to-error">Give the customer' in answer.get_data(as_text=True)
    assert fake_graph.sent() == []


def test_disconnecting_asks_first_then_removes_the_account(client, session, brand, fake_graph):
    channel = connect(session, brand, fake_graph.add_whatsapp_number())
    csrf = log_in(client, admin_of(session, brand).email)
    asked = client.get(f"{_page(brand)}/{channel.id}/disconnect").get_data(as_text=True)
    assert f"Disconnect WhatsApp account {channel.account_id}?" in asked
    assert session.get(BrandChannel, channel.id) is not None
    answer = client.post(f"{_page(brand)}/{channel.id}/disconnect", data={"csrf_token": csrf})
    assert answer.status_code == 302
    session.expire_all()
    assert session.get(BrandChannel, channel.id) is None
    assert len(_audits(session, "channel_disconnected")) == 1


def test_the_page_speaks_french(client, session, brand):
    log_in(client, admin_of(session, brand).email)
    page = client.get(_page(brand), headers={"Accept-Language": "fr-FR"}).get_data(as_text=True)
    assert "Messageries" in page and "Connecter un compte" in page and "Jeton de vérification" in page


def test_a_test_send_to_a_customer_who_just_wrote_goes_as_the_text(client, session, brand, fake_graph, number,
                                                                  graph_settings, whatsapp_relay):
    channel = connect(session, brand, number)
    fake_graph.deliver_inbound(number, CUSTOMER, "Hello, are you there?")
    assert [answer.status_code for answer in whatsapp_relay(expect=1)] == [200]
    csrf = log_in(client, admin_of(session, brand).email)
    answer = _test_send(client, csrf, brand, channel, CUSTOMER, "Yes, this is a test.")
    assert "(as a text, id wamid." in answer.get_data(as_text=True)
    [sent] = fake_graph.sent(to=CUSTOMER)
    assert (sent.kind, sent.text) == ("text", "Yes, this is a test.")
    assert 'data-testid="last-inbound">none yet' not in answer.get_data(as_text=True)  # its health shows the message
