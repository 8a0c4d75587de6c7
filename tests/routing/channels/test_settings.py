"""The Graph API's addresses and time limit are settings, refused at start-up when wrong."""

from __future__ import annotations

import pytest

from marketplace.config import ConfigError, load_config


def test_graph_addresses_default_to_metas_current_version(tmp_path):
    config = load_config(tmp_path, {"MARKETPLACE_ENV": "test"})
    assert config["WHATSAPP_GRAPH_BASE"] == "https://graph.facebook.com/v26.0"
    assert config["MESSENGER_GRAPH_BASE"] == "https://graph.facebook.com/v26.0"
    assert config["GRAPH_TIMEOUT_SECONDS"] == 10


def test_graph_addresses_can_point_at_a_fake_server(tmp_path):
    config = load_config(tmp_path, {"MARKETPLACE_ENV": "test", "WHATSAPP_GRAPH_BASE": "http://127.0.0.1:9/v26.0/",
                                    "MESSENGER_GRAPH_BASE": "http://127.0.0.1:8/v25.0"})
    assert config["WHATSAPP_GRAPH_BASE"] == "http://127.0.0.1:9/v26.0"
    assert config["MESSENGER_GRAPH_BASE"] == "http://127.0.0.1:8/v25.0"


@pytest.mark.parametrize(("name", "value"), [("WHATSAPP_GRAPH_BASE", "graph.facebook.com/v26.0"),
                                             ("MESSENGER_GRAPH_BASE", "ftp://graph.facebook.com"),
                                             ("GRAPH_TIMEOUT_SECONDS", "0")])
def test_bad_graph_settings_are_refused(tmp_path, name, value):
    with pytest.raises(ConfigError, match=name):
        load_config(tmp_path, {"MARKETPLACE_ENV": "test", name: value})
