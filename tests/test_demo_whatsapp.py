"""`serve --demo` has a WhatsApp number on a fake Graph server, unless WHATSAPP_GRAPH_BASE says where Graph is."""

from __future__ import annotations

import re

import requests
import sqlalchemy as sa

from marketplace import demo_whatsapp
from tests.conftest import running_demo


def test_the_demo_says_how_to_write_to_its_whatsapp_number(demo_server):
    assert f"Maison Lumière's number +{demo_whatsapp.DISPLAY_NUMBER} runs on a fake Graph server" in demo_server.output
    phone = re.search(r"Write to it as a customer: open (\S+/dev/whatsapp)", demo_server.output).group(1)
    page = requests.get(phone, timeout=5)
    assert page.status_code == 200 and "Send on WhatsApp" in page.text
    handshake = requests.get(f"{demo_server.url}/webhooks/whatsapp", timeout=5, params={
        "hub.mode": "subscribe", "hub.challenge": "1158201444",
        "hub.verify_token": demo_whatsapp.SECRETS["verify_token"]})
    assert (handshake.status_code, handshake.text) == (200, "1158201444")  # the number is connected


def test_whatsapp_graph_base_set_in_the_environment_wins_over_the_fake(tmp_path):
    settings = {"WHATSAPP_GRAPH_BASE": "http://127.0.0.1:9/v26.0"}
    with running_demo(tmp_path, settings) as server:
        assert "WhatsApp: Graph at http://127.0.0.1:9/v26.0 (WHATSAPP_GRAPH_BASE)" in server.output
        assert "fake Graph" not in server.output
        assert requests.get(f"{server.url}/dev/whatsapp", timeout=5).status_code == 404
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    with engine.connect() as connection:
        assert connection.scalar(sa.text("select count(*) from brand_channels")) == 0
    engine.dispose()
