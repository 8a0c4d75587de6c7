"""Settings are read from the environment and refused, with a clear message, when wrong."""

from __future__ import annotations

import pytest

from marketplace.config import ConfigError, load_config


def test_production_refuses_to_start_without_a_strong_secret_key(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(tmp_path, {"MARKETPLACE_ENV": "production", "SMTP_HOST": "mail"})
    with pytest.raises(ConfigError, match="at least 32"):
        load_config(tmp_path, {"MARKETPLACE_ENV": "production", "SECRET_KEY": "short", "SMTP_HOST": "mail"})


def test_development_keeps_one_generated_key_per_instance(tmp_path):
    first = load_config(tmp_path, {})["SECRET_KEY"]
    assert len(first) >= 32
    assert load_config(tmp_path, {})["SECRET_KEY"] == first


def test_production_cookies_are_secure(tmp_path):
    config = load_config(tmp_path, {"MARKETPLACE_ENV": "production", "SECRET_KEY": "x" * 40, "SMTP_HOST": "mail"})
    assert config["SESSION_COOKIE_SECURE"] and config["REMEMBER_COOKIE_SECURE"]
    assert config["MAIL_BACKEND"] == "smtp"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("MARKETPLACE_ENV", "staging", "MARKETPLACE_ENV must be one of"),
        ("DATABASE_URL", "mysql://x/y", "DATABASE_URL must be a URL"),
        ("SCHEDULER_MODE", "sometimes", "SCHEDULER_MODE must be one of"),
        ("SMTP_PORT", "twenty-five", "SMTP_PORT must be a whole number"),
        ("SOCKETIO_MESSAGE_QUEUE", "amqp://x", "SOCKETIO_MESSAGE_QUEUE must be a URL"),
        ("SESSION_COOKIE_SECURE", "maybe", "SESSION_COOKIE_SECURE must be true or false"),
        ("MAIL_BACKEND", "smtp", "SMTP_HOST is required"),
        ("SOCKETIO_ASYNC_MODE", "eventlet", "SOCKETIO_ASYNC_MODE must be one of"),
        ("ATTACHMENT_STORAGE", "ftp", "ATTACHMENT_STORAGE must be one of"),
        ("ATTACHMENT_STORAGE", "s3", "ATTACHMENT_S3_BUCKET is required"),
        ("ATTACHMENT_S3_ENDPOINT_URL", "minio:9000", "ATTACHMENT_S3_ENDPOINT_URL must be a URL"),
        ("ATTACHMENT_LINK_SECONDS", "5", "ATTACHMENT_LINK_SECONDS must be at least 10"),
        ("CLAMD_ADDRESS", "clamav", "CLAMD_ADDRESS must be host:port"),
        ("MAIL_REPLY_DOMAIN", "reply@shop.example", "MAIL_REPLY_DOMAIN must be a domain name"),
        ("MAIL_REPLY_DOMAIN", "-shop.example", "MAIL_REPLY_DOMAIN must be a domain name"),
        ("INBOUND_MAIL_SECRET", "short", "INBOUND_MAIL_SECRET must be at least 24 characters"),
        ("CONTINUATION_DIGEST_SECONDS", "-1", "CONTINUATION_DIGEST_SECONDS must be at least 0"),
        ("CONTINUATION_REPLY_TOKEN_DAYS", "0", "CONTINUATION_REPLY_TOKEN_DAYS must be at least 1"),
    ],
)
def test_it_refuses_bad_values_naming_the_setting(tmp_path, name, value, message):
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path, {name: value})


def test_plain_postgres_urls_use_psycopg_3(tmp_path):
    config = load_config(tmp_path, {"DATABASE_URL": "postgres://u@h/db"})
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


def test_the_command_line_reports_a_bad_setting_without_a_traceback():
    import subprocess
    import sys
    from pathlib import Path

    result = subprocess.run(  # noqa: S603
        [str(Path(sys.executable).parent / "marketplace"), "db", "current"],
        env={"PATH": "/usr/bin:/bin", "MARKETPLACE_ENV": "production"}, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("Configuration error: SECRET_KEY is required")
    assert "Traceback" not in result.stderr


def test_attachments_default_to_a_folder_unscanned_with_five_minute_links(tmp_path):
    config = load_config(tmp_path, {})
    assert config["ATTACHMENT_STORAGE"] == "local"
    assert config["ATTACHMENT_FOLDER"] == str(tmp_path / "attachments")
    assert config["ATTACHMENT_LINK_SECONDS"] == 300
    assert (config["CLAMD_SOCKET"], config["CLAMD_ADDRESS"]) == ("", "")
    scanned = load_config(tmp_path, {"CLAMD_ADDRESS": "127.0.0.1:3310", "ATTACHMENT_STORAGE": "s3",
                                     "ATTACHMENT_S3_BUCKET": "files"})
    assert (scanned["CLAMD_ADDRESS"], scanned["ATTACHMENT_S3_BUCKET"]) == ("127.0.0.1:3310", "files")


def test_email_continuation_defaults_to_a_two_minute_digest_and_no_reply_address(tmp_path):
    config = load_config(tmp_path, {"MAIL_REPLY_DOMAIN": "Reply.Shop.Example"})
    assert config["MAIL_REPLY_DOMAIN"] == "reply.shop.example"  # compared in lowercase with addresses
    assert (config["CONTINUATION_DIGEST_SECONDS"], config["CONTINUATION_REPLY_TOKEN_DAYS"],
            config["CONTINUATION_RESUME_TOKEN_HOURS"], config["INBOUND_MAIL_SECRET"]) == (120, 30, 168, "")
    assert load_config(tmp_path, {})["MAIL_REPLY_DOMAIN"] == ""
