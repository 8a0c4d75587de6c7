"""The built-in SMTP receiver, end to end: smtplib on loopback to the receiver, into the conversation (both
databases, really committed: the receiver takes each mail in a thread of its own)."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from marketplace.brands.models import Brand
from marketplace.database import db
from marketplace.routing.continuation import smtp_in
from marketplace.routing.models import Conversation, ConversationStatus, EndReason, Message, Sender
from marketplace.routing.router.admission import end_conversation
from tests.conftest import BACKENDS, committed_database_app, free_port
from tests.factories import BrandFactory
from tests.routing.continuation.conftest import REPLY_DOMAIN, leave_with_address
from tests.routing.continuation.mails import reply, reply_address_of


@pytest.fixture(scope="module", params=BACKENDS)
def committed_app(request, tmp_path_factory) -> Iterator[Flask]:
    with committed_database_app(request.param, tmp_path_factory.mktemp("smtp_in"), "smtp_in") as app:
        app.config["MAIL_REPLY_DOMAIN"] = REPLY_DOMAIN
        yield app


@pytest.fixture
def receiver(committed_app) -> Iterator[tuple[str, int]]:
    port = free_port()
    controller = smtp_in.controller(committed_app, "127.0.0.1", port)
    controller.start()
    try:
        yield "127.0.0.1", port
    finally:
        controller.stop()


@pytest.fixture
def away(committed_app):
    with committed_app.app_context():
        brand = BrandFactory(name="Lumière")
        db.session.commit()
        chat = leave_with_address(committed_app, db.session, brand)
        address = reply_address_of(chat.id)
        db.session.remove()  # its read ends: on SQLite a transaction holds the write lock the receiver needs
        yield chat, address


def visitor_bodies(app: Flask, conversation_id: int) -> list[str]:
    with app.app_context():
        try:
            return list(db.session.scalars(sa.select(Message.body).where(
                Message.conversation_id == conversation_id, Message.sender == Sender.VISITOR).order_by(Message.seq)))
        finally:
            db.session.remove()


def test_a_reply_sent_with_smtplib_lands_in_the_conversation_once(committed_app, receiver, away):
    chat, address = away
    mail = reply(address, message_id="<smtp-1@example.com>")
    with smtplib.SMTP(*receiver, timeout=10) as smtp:
        assert smtp.send_message(mail) == {}  # 250: accepted for every recipient
        smtp.send_message(mail)  # delivered again: accepted, stored once
    assert visitor_bodies(committed_app, chat.id) == ["Thanks, the fuse was it!"]


def test_a_forged_token_or_another_sender_gets_550_and_stores_nothing(committed_app, receiver, away):
    chat, address = away
    local, _, domain = address.partition("@")
    forged = f"{local[:-4]}{'aaaa' if not local.endswith('aaaa') else 'bbbb'}@{domain}"
    with smtplib.SMTP(*receiver, timeout=10) as smtp:
        for refused in (reply(forged), reply(address, sender="eve@example.com")):
            with pytest.raises(smtplib.SMTPDataError) as caught:
                smtp.send_message(refused)
            assert caught.value.smtp_code == 550
            assert b"sender" not in caught.value.smtp_error.lower()  # no reason given away
            smtp.rset()
    assert visitor_bodies(committed_app, chat.id) == []


def test_mail_for_any_other_address_is_refused_at_rcpt(committed_app, receiver):
    with smtplib.SMTP(*receiver, timeout=10) as smtp, pytest.raises(smtplib.SMTPRecipientsRefused) as caught:
        smtp.send_message(reply("someone@example.org"))
    assert caught.value.recipients["someone@example.org"][0] == 550


def test_a_reply_the_brand_cannot_take_now_gets_451_and_lands_when_sent_again(committed_app, receiver, away):
    chat, address = away
    with committed_app.app_context():
        conversation = db.session.get(Conversation, chat.id)
        brand_id = conversation.brand_id
        brand = db.session.get(Brand, brand_id)
        end_conversation(chat.id, ConversationStatus.CLOSED, EndReason.EXPERT, expert_id=conversation.expert_id)
        brand.async_expert_limit, brand.max_concurrent = 0, 0  # no room with its expert, no live place either
        db.session.commit()
        db.session.remove()
    mail = reply(address, message_id="<smtp-later@example.com>")
    with smtplib.SMTP(*receiver, timeout=10) as smtp:
        with pytest.raises(smtplib.SMTPDataError) as caught:
            smtp.send_message(mail)
        assert caught.value.smtp_code == 451  # the sending server keeps it and tries again
        smtp.rset()
        with committed_app.app_context():
            db.session.get(Brand, brand_id).async_expert_limit = 5
            db.session.commit()
            db.session.remove()
        assert smtp.send_message(mail) == {}
    assert visitor_bodies(committed_app, chat.id) == ["Thanks, the fuse was it!"]
