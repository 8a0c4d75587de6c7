"""A closed chat in the widget: within the brand's reopen window the visitor sees it with its history and simply
writes to continue it (the expert gets it); after the window the composer gives way to a new conversation."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import DESKTOP
from tests.browser.test_chat import (
    accept_the_offer,
    expert_online_on_chats,
    expert_says,
    serving_shop,
    visitor_says,
    visitor_starts_chat,
)
from tests.browser.test_demo_logins import log_in
from tests.browser.test_expert_journey import new_page

pytestmark = pytest.mark.browser
WINDOW_LABEL = "A visitor's message continues a closed chat for (hours)"


@pytest.fixture(scope="module")
def shop(demo_server, tmp_path_factory) -> Iterator[str]:
    with serving_shop(demo_server, tmp_path_factory.mktemp("shop")) as address:
        yield address


def set_reopen_window(browser: Browser, demo_server, hours: int, errors: list[str]) -> None:
    """Maison Lumière's admin sets the reopen window on the program page."""
    admin = new_page(browser, demo_server, DESKTOP, errors)
    log_in(admin, demo_server.logins["brand admin"], demo_server.password)
    admin.goto("/brands/maison-lumiere/program")
    admin.get_by_label(WINDOW_LABEL).fill(str(hours))
    admin.get_by_role("button", name="Save the program").click()
    expect(admin.get_by_text("The program is saved; it applies to the next chat.", exact=True)).to_be_visible()
    admin.close()


def answered_then_ended(browser: Browser, demo_server, shop: str, errors: list[str]):
    """An expert answers the visitor's question, then the visitor ends the chat: the rating shows."""
    expert = expert_online_on_chats(browser, demo_server, errors)
    visitor, frame = visitor_starts_chat(browser, demo_server, shop, errors)
    visitor_says(frame, "Which bulb for a reading lamp?")
    accept_the_offer(expert)
    expert_says(expert, "A warm white LED of about 2700 K.")
    expect(frame.get_by_test_id("messages").locator("[data-seq]")).to_have_count(2)
    frame.get_by_test_id("end-chat").click()
    expect(expert.get_by_test_id("chat-ended")).to_contain_text("The visitor ended this chat.")
    expect(frame.get_by_test_id("rating-5")).to_be_attached()
    return expert, visitor, frame


def test_within_the_window_the_visitor_writes_in_the_closed_chat_and_the_expert_gets_it(
        browser, demo_server, shop):
    errors: list[str] = []
    expert, _, frame = answered_then_ended(browser, demo_server, shop, errors)
    frame.get_by_test_id("skip-rating").click()
    # The closed chat, whole, with its composer: no "End chat" in a chat that has ended.
    expect(frame.get_by_test_id("queue-status")).to_have_text("The chat has ended. Write below to continue it.")
    expect(frame.get_by_test_id("messages").locator("[data-seq]")).to_have_count(2)
    expect(frame.get_by_test_id("end-chat")).to_be_hidden()
    expect(frame.get_by_test_id("start-new-conversation")).to_be_hidden()

    visitor_says(frame, "One more thing: is it dimmable?")
    # The message continued it: back with the same expert, who gets it in the same chat.
    expect(frame.get_by_test_id("queue-status")).to_contain_text("Emma")
    expect(frame.get_by_test_id("end-chat")).to_be_visible()
    messages = expert.get_by_test_id("chat-messages")
    expect(messages).to_contain_text("One more thing: is it dimmable?")
    expect(expert.get_by_test_id("chat-input")).to_be_enabled()
    expert_says(expert, "Yes, with a trailing-edge dimmer.")
    visitor_messages = frame.get_by_test_id("messages")
    expect(visitor_messages.locator("[data-seq]")).to_have_count(4)
    expect(visitor_messages.locator("[data-sender=expert]").last).to_contain_text("trailing-edge")
    frame.get_by_test_id("end-chat").click()
    expect(frame.get_by_test_id("rating-5")).to_be_visible()  # the rating flow as before
    frame.get_by_test_id("rating-4").check()
    frame.get_by_test_id("submit-rating").click()
    expect(frame.get_by_test_id("rating-thanks")).to_be_visible()
    frame.get_by_test_id("back-to-closed-chat").click()
    expect(frame.get_by_test_id("message-input")).to_be_visible()
    expect(frame.get_by_test_id("messages").locator("[data-seq]")).to_have_count(4)
    assert errors == []


def test_after_the_window_the_closed_chat_offers_a_new_conversation_instead_of_the_composer(
        browser, demo_server, shop):
    errors: list[str] = []
    set_reopen_window(browser, demo_server, 0, errors)
    try:
        _, _, frame = answered_then_ended(browser, demo_server, shop, errors)
        frame.get_by_test_id("skip-rating").click()
        expect(frame.get_by_test_id("queue-status")).to_have_text("The chat has ended.")
        expect(frame.get_by_test_id("messages").locator("[data-seq]")).to_have_count(2)  # its history stays
        expect(frame.get_by_test_id("message-input")).to_be_hidden()
        frame.get_by_test_id("start-new-conversation").click()
        topic = frame.get_by_label(re.compile("topic", re.IGNORECASE))
        if topic.count():
            topic.select_option(index=1)
        frame.get_by_test_id("start-chat").click()
        expect(frame.get_by_test_id("message-input")).to_be_visible()
        expect(frame.get_by_test_id("messages").locator("[data-seq]")).to_have_count(0)  # a new conversation
    finally:
        set_reopen_window(browser, demo_server, 168, errors)
    assert errors == []
