"""A WhatsApp number and a Messenger page on the fake Graph, with the project's clients pointed at them."""

from __future__ import annotations

import pytest

from marketplace.routing.channels.graph import MessengerClient, WhatsAppClient

CUSTOMER = "33612345678"
PERSON = "6912384759123847"


@pytest.fixture
def number(fake_graph, webhook_sink):
    """A WhatsApp number whose webhooks go to the sink."""
    return fake_graph.add_whatsapp_number(webhook_url=webhook_sink.url)


@pytest.fixture
def page(fake_graph, webhook_sink):
    return fake_graph.add_messenger_page(webhook_url=webhook_sink.url)


@pytest.fixture
def whatsapp(fake_graph, number) -> WhatsAppClient:
    config = {"WHATSAPP_GRAPH_BASE": fake_graph.graph_base, "GRAPH_TIMEOUT_SECONDS": 2}
    return WhatsAppClient.from_config(config, number.phone_number_id, number.access_token)


@pytest.fixture
def messenger(fake_graph, page) -> MessengerClient:
    config = {"MESSENGER_GRAPH_BASE": fake_graph.graph_base, "GRAPH_TIMEOUT_SECONDS": 2}
    return MessengerClient.from_config(config, page.page_id, page.access_token)


class Relay:
    """Meta's side for the app under test: what the fake Graph posted to the sink (signed bodies, statuses after each
    send) is posted on to the app's webhook through the test client, in order, each once."""

    def __init__(self, client, sink, path: str):
        self.client, self.sink, self.path, self.done = client, sink, path, 0

    def __call__(self, expect: int | None = None) -> list:
        """Post on what arrived since the last call (waiting for `expect` more first); the app's answers."""
        if expect is not None:
            self.sink.wait_for(self.done + expect)
        received = self.sink.received()[self.done:]
        self.done += len(received)
        return [self.client.post(self.path, data=item.body, headers={
            name: value for name, value in item.headers.items()
            if name.lower() in ("content-type", "x-hub-signature-256")}) for item in received]


@pytest.fixture
def graph_settings(app, fake_graph, monkeypatch):
    """The app's Graph clients pointed at the fake; the expert's messages are sent when the test says
    (`outbound.send_due`), not from a background task."""
    for name, value in (("WHATSAPP_GRAPH_BASE", fake_graph.graph_base), ("MESSENGER_GRAPH_BASE", fake_graph.graph_base),
                        ("GRAPH_TIMEOUT_SECONDS", 3), ("CHANNEL_DELIVERY", "off")):
        monkeypatch.setitem(app.config, name, value)


def connect(session, brand, account, *, admin=None):
    """Connect a fake number or page to the brand through the service, as its admin would; committed."""
    from marketplace.routing.channels import connections
    from marketplace.routing.models import Channel
    from tests.fake_graph import WhatsAppNumber
    from tests.routing.conftest import admin_of

    whatsapp = isinstance(account, WhatsAppNumber)
    values = {"kind": "whatsapp" if whatsapp else "messenger",
              ("phone_number_id" if whatsapp else "page_id"): account.account_id,
              "access_token": account.access_token, "app_secret": account.app_secret,
              "verify_token": account.verify_token}
    channel = connections.connect_channel(admin or admin_of(session, brand), brand.id, values)
    assert channel.kind == (Channel.WHATSAPP if whatsapp else Channel.MESSENGER)
    return channel


@pytest.fixture
def whatsapp_relay(client, webhook_sink) -> Relay:
    return Relay(client, webhook_sink, "/webhooks/whatsapp")


@pytest.fixture
def messenger_relay(client, webhook_sink) -> Relay:
    return Relay(client, webhook_sink, "/webhooks/messenger")
