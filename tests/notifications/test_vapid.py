"""The VAPID key is created on first start, kept afterwards, or taken from the settings; bad settings stop start-up."""

from __future__ import annotations

import base64
import stat
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from py_vapid import _check_sub

from marketplace.config import ConfigError, load_config
from marketplace.notifications.vapid import KEY_FILE_NAME, load_vapid, public_key_of
from tests.conftest import TEST_SECRET


def public_key(key: ec.EllipticCurvePrivateKey) -> str:
    point = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode()


def pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def test_the_key_is_created_once_private_and_reused(tmp_path):
    first = public_key_of(load_vapid("", tmp_path))
    key_file = tmp_path / KEY_FILE_NAME
    assert key_file.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert public_key_of(load_vapid("", tmp_path)) == first
    assert sorted(path.name for path in tmp_path.iterdir()) == [KEY_FILE_NAME]  # no temporary file left


def test_processes_starting_together_agree_on_one_key(tmp_path):
    keys: list[str] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        keys.append(public_key_of(load_vapid("", tmp_path)))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(keys) == 8 and len(set(keys)) == 1
    assert sorted(path.name for path in tmp_path.iterdir()) == [KEY_FILE_NAME]


def test_two_app_starts_on_one_instance_folder_share_the_key(tmp_path, monkeypatch, fresh_app, database_url):
    monkeypatch.setattr(Flask, "auto_find_instance_path", lambda self: str(tmp_path))
    first = fresh_app(database_url)
    assert first.instance_path == str(tmp_path) and (tmp_path / KEY_FILE_NAME).exists()
    second = fresh_app(database_url)
    assert second.extensions["vapid_public_key"] == first.extensions["vapid_public_key"]
    assert public_key_of(load_vapid("", tmp_path)) == first.extensions["vapid_public_key"]


@pytest.mark.parametrize("form", ["pem", "escaped pem", "raw"])
def test_a_configured_key_is_used_as_given(tmp_path, form):
    key = ec.generate_private_key(ec.SECP256R1())
    text = {
        "pem": pem(key),
        "escaped pem": pem(key).replace("\n", "\\n"),
        "raw": base64.urlsafe_b64encode(key.private_numbers().private_value.to_bytes(32, "big")).rstrip(b"=").decode(),
    }[form]
    assert public_key_of(load_vapid(text, tmp_path)) == public_key(key)
    assert not (tmp_path / KEY_FILE_NAME).exists()


@pytest.mark.parametrize("text", [
    "not a key",
    "-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----",
    pem(ec.generate_private_key(ec.SECP384R1())),
], ids=["text", "broken pem", "p-384 key"])  # named: the key differs in each xdist worker's collection
def test_a_bad_configured_key_is_refused(tmp_path, text):
    with pytest.raises(ConfigError, match="VAPID_PRIVATE_KEY"):
        load_vapid(text, tmp_path)


def test_the_app_does_not_start_with_a_bad_key(fresh_app, database_url):
    with pytest.raises(ConfigError, match="VAPID_PRIVATE_KEY"):
        fresh_app(database_url, VAPID_PRIVATE_KEY="not a key")


def settings(tmp_path: Path, **environ: str) -> dict:
    return load_config(tmp_path, {"MARKETPLACE_ENV": "test", "SECRET_KEY": TEST_SECRET, **environ})


def test_the_default_subject_is_one_push_services_accept(tmp_path):
    config = settings(tmp_path)
    assert config["VAPID_SUBJECT"] == "mailto:ops@marketplace.localhost" and _check_sub(config["VAPID_SUBJECT"])
    assert (config["VAPID_PRIVATE_KEY"], config["WEB_PUSH_DELIVERY"]) == ("", "background")


@pytest.mark.parametrize("subject", ["mailto:push@example.com", "https://marketplace.example.com"])
def test_a_mailto_or_https_subject_is_accepted(tmp_path, subject):
    assert settings(tmp_path, VAPID_SUBJECT=subject)["VAPID_SUBJECT"] == subject
    assert _check_sub(subject)


@pytest.mark.parametrize("subject", ["ops@example.com", "mailto:nobody", "https://example.com/contact",
                                     "http://example.com"])
def test_a_subject_push_services_would_refuse_stops_start_up(tmp_path, subject):
    with pytest.raises(ConfigError, match="VAPID_SUBJECT"):
        settings(tmp_path, VAPID_SUBJECT=subject)


def test_push_delivery_is_background_or_off(tmp_path):
    assert settings(tmp_path, WEB_PUSH_DELIVERY="off")["WEB_PUSH_DELIVERY"] == "off"
    with pytest.raises(ConfigError, match="WEB_PUSH_DELIVERY"):
        settings(tmp_path, WEB_PUSH_DELIVERY="sometimes")
