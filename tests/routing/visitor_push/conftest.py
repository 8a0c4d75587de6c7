"""Fixtures for Web Push for visitors: the loopback push service and a browser's keys (tests/notifications), and
visitors with an answered chat."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from marketplace.database import db
from marketplace.routing.models import Conversation
from marketplace.routing.visitor_push import services
from tests.notifications.conftest import BrowserKeys, PushService, browser_keys, push_service  # noqa: F401
from tests.routing.conftest import online_expert
from tests.routing.router.test_asynchronous import chat_with


@pytest.fixture(autouse=True)
def no_background_push(app, monkeypatch):
    """Inside a rolled-back transaction the tests deliver pushes themselves: a background task could not see it."""
    monkeypatch.setitem(app.config, "WEB_PUSH_DELIVERY", "off")


@dataclass
class Chat:
    expert: object
    conversation: Conversation
    visitor_token: str

    @property
    def id(self) -> int:
        return self.conversation.id


def answered_chat(session, brand, *, email: str | None = None) -> Chat:
    """An expert's answered chat whose visitor is on the page (with an address given only when `email` is)."""
    expert = online_expert(brand, display_name="Camille Durand")
    session.commit()
    conversation, token = chat_with(brand, expert, email=email)
    return Chat(expert, conversation, token)


def subscribe(brand, chat: Chat, service: PushService, keys: BrowserKeys, path: str = "/visitor-browser"):
    """The visitor's widget subscribes this browser for its conversation (as the widget opened as a page does)."""
    services.subscribe(brand.widget_key, chat.visitor_token, chat.id, service.url(path), keys.p256dh, keys.auth)
    return db.session.get(Conversation, chat.id, populate_existing=True)


@pytest.fixture
def chat(session, brand) -> Chat:
    return answered_chat(session, brand)
