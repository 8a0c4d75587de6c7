"""`serve --demo` has a WhatsApp number and a Messenger page on a fake Graph server, unless WHATSAPP_GRAPH_BASE
(or MESSENGER_GRAPH_BASE) says where that app's Graph is."""

from __future__ import annotations

import re

import pytest
import requests
import sqlalchemy as sa

from marketplace import demo_whatsapp
from tests.conftest import running_demo


def _handshake(server, app: str, verify_token: str) -> tuple[int, str]:
    answer = requests.get(f"{server.url}/webhooks/{app}", timeout=5, params={
        "hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": verify_token})
    return answer.status_code, answer.text


def test_the_demo_says_how_to_write_to_its_whatsapp_number(demo_server):
    assert f"Maison Lumière's number +{demo_whatsapp.DISPLAY_NUMBER} runs on a fake Graph server" in demo_server.output
    phone = re.search(r"Write to it as a customer: open (\S+/dev/whatsapp)", demo_server.output).group(1)
    page = requests.get(phone, timeout=5)
    assert page.status_code == 200 and "Send on WhatsApp" in page.text
    # the number is connected
    assert _handshake(demo_server, "whatsapp", demo_whatsapp.SECRETS["verify_token"]) == (200, "1158201444")


def test_the_demo_says_how_to_write_to_its_messenger_page(demo_server):
    assert f"Maison Lumière's Facebook Page {demo_whatsapp.PAGE_ID} runs on a fake Graph server" in demo_server.output
    person = re.search(r"Write to it as a person: open (\S+/dev/messenger)\.$", demo_server.output, re.MULTILINE)
    page = requests.get(person.group(1), timeout=5)
    assert page.status_code == 200 and "Send on Messenger" in page.text
    assert f'value="{demo_whatsapp.PERSON}"' in page.text
    # the page is connected, with its own verify token
    assert _handshake(demo_server, "messenger", demo_whatsapp.MESSENGER_SECRETS["verify_token"]) == \
        (200, "1158201444")
    assert _handshake(demo_server, "messenger", demo_whatsapp.SECRETS["verify_token"])[0] == 403


@pytest.mark.parametrize(("setting", "name", "app", "other"), [
    ("WHATSAPP_GRAPH_BASE", "WhatsApp", "whatsapp", "messenger"),
    ("MESSENGER_GRAPH_BASE", "Messenger", "messenger", "whatsapp")])
def test_a_graph_base_set_in_the_environment_wins_over_the_fake_for_that_app_only(tmp_path, setting, name, app,
                                                                                   other):
    with running_demo(tmp_path, {setting: "http://127.0.0.1:9/v26.0"}) as server:
        assert f"{name}: Graph at http://127.0.0.1:9/v26.0 ({setting})" in server.output
        assert requests.get(f"{server.url}/dev/{app}", timeout=5).status_code == 404
        assert requests.get(f"{server.url}/dev/{other}", timeout=5).status_code == 200  # the other app's fake
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    with engine.connect() as connection:
        assert connection.execute(sa.text("select kind from brand_channels")).scalars().all() == [other]
    engine.dispose()


def test_the_demo_connects_nothing_when_both_apps_have_a_graph_base(tmp_path):
    settings = {"WHATSAPP_GRAPH_BASE": "http://127.0.0.1:9/v26.0", "MESSENGER_GRAPH_BASE": "http://127.0.0.1:9/v26.0"}
    with running_demo(tmp_path, settings) as server:
        assert "WhatsApp: Graph at http://127.0.0.1:9/v26.0 (WHATSAPP_GRAPH_BASE)" in server.output
        assert "Messenger: Graph at http://127.0.0.1:9/v26.0 (MESSENGER_GRAPH_BASE)" in server.output
        assert "fake Graph" not in server.output
        assert requests.get(f"{server.url}/dev/whatsapp", timeout=5).status_code == 404
        assert requests.get(f"{server.url}/dev/messenger", timeout=5).status_code == 404
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    with engine.connect() as connection:
        assert connection.scalar(sa.text("select count(*) from brand_channels")) == 0
    engine.dispose()


def test_a_demo_started_again_finds_its_number_and_page_connected(tmp_path):
    for _start in range(2):
        with running_demo(tmp_path) as server:
            assert "/dev/messenger" in server.output and "/dev/whatsapp" in server.output
            assert _handshake(server, "messenger", demo_whatsapp.MESSENGER_SECRETS["verify_token"])[0] == 200
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    with engine.connect() as connection:
        kinds = connection.execute(sa.text("select kind from brand_channels order by kind")).scalars().all()
    engine.dispose()
    assert kinds == ["messenger", "whatsapp"]
