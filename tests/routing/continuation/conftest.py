"""Fixtures for e-mail continuation: a reply domain, and an answered chat whose visitor gave an address and left."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from marketplace.routing.door import departures
from marketplace.routing.models import Conversation, ConversationStatus

# Files attached to e-mail replies: the attachments' storage (a folder, or S3 on moto) and the test clamd.
from tests.routing.attachments.conftest import attachment_storage, clamd, clamd_socket, moto_endpoint  # noqa: F401
from tests.routing.conftest import online_expert
from tests.routing.router.test_asynchronous import chat_with, gone, status_of

REPLY_DOMAIN = "reply.example.com"
VISITOR_EMAIL = "ana@example.com"


@dataclass
class AwayChat:
    expert: object
    conversation: Conversation
    visitor_token: str

    @property
    def id(self) -> int:
        return self.conversation.id


@pytest.fixture
def reply_domain(app, monkeypatch) -> str:
    monkeypatch.setitem(app.config, "MAIL_REPLY_DOMAIN", REPLY_DOMAIN)
    return REPLY_DOMAIN


def leave_with_address(app, session, brand, email: str = VISITOR_EMAIL) -> AwayChat:
    """An expert's answered chat whose visitor gave `email` with consent, then left: asynchronous."""
    expert = online_expert(brand, display_name="Camille Durand")
    session.commit()
    chat, token = chat_with(brand, expert, email=email)
    departures.notice_gone_visitors(gone(app))
    assert status_of(chat.id) == ConversationStatus.ASYNCHRONOUS
    return AwayChat(expert, chat, token)


@pytest.fixture
def away(app, session, brand, reply_domain) -> AwayChat:
    return leave_with_address(app, session, brand)
