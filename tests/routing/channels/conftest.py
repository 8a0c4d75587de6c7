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
