"""The brand's FAQ bot as a visitor and an expert meet it: it answers a covered question first, labelled as automated;
"Talk to an expert" reaches a person, who sees the bot's exchange; asking for a "conseiller" reaches routing at
once; a failing bot hands over instead of falling silent; "Yes" resolves the chat.

On a demo of its own (the bot on changes what every visitor meets), where Maison Lumière's admin turns the bot on
through the API and adds an entry of their own.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.test_chat import (
    accept_the_offer,
    expert_online_on_chats,
    expert_says,
    serving_shop,
    visitor_says,
    visitor_starts_chat,
)
from tests.conftest import csrf_token_from, running_demo

pytestmark = pytest.mark.browser
QUESTION = "Combien de temps faut-il pour recevoir une lampe commandée ?"
ANSWER = "Une lampe commandée arrive chez vous en 48 heures, suivie par e-mail."


def turn_the_bot_on(server) -> None:
    """Maison Lumière's bot on, with an entry of this module's, as its admin would set it through the API."""
    http = requests.Session()
    token = csrf_token_from(http.get(f"{server.url}/login", timeout=10).text)
    http.post(f"{server.url}/login", timeout=10, data={
        "email": server.logins["brand admin"], "password": server.password, "csrf_token": token})
    headers = {"X-CSRFToken": csrf_token_from(http.get(f"{server.url}/brands/maison-lumiere", timeout=10).text)}
    brand_id = next(brand["id"] for brand in http.get(f"{server.url}/api/v1/brands", timeout=10).json()
                    if brand["slug"] == "maison-lumiere")
    base = f"{server.url}/api/v1/brands/{brand_id}/faq"
    entry = http.post(f"{base}/entries", headers=headers, timeout=10, json={
        "ref": "browser-delivery", "lang": "fr", "question": QUESTION, "answer": ANSWER, "tags": ["livraison"]})
    assert entry.status_code == 201, entry.text
    turned = http.patch(f"{base}/settings", headers=headers, timeout=10, json={"bot_enabled": True})
    assert turned.status_code == 200, turned.text


@pytest.fixture(scope="module")
def bot_demo(tmp_path_factory) -> Iterator:
    with running_demo(tmp_path_factory.mktemp("demo-bot")) as demo:
        turn_the_bot_on(demo)
        yield demo


@pytest.fixture(scope="module")
def shop(bot_demo, tmp_path_factory) -> Iterator[str]:
    with serving_shop(bot_demo, tmp_path_factory.mktemp("shop-bot")) as address:
        yield address


def test_the_bot_answers_then_the_visitor_reaches_an_expert_who_sees_the_exchange(
        browser, bot_demo, shop):
    errors: list[str] = []
    expert = expert_online_on_chats(browser, bot_demo, errors)
    visitor, frame = visitor_starts_chat(browser, bot_demo, shop, errors)
    expect(frame.get_by_test_id("queue-status")).to_contain_text("automated assistant")
    expect(frame.get_by_test_id("talk-to-expert")).to_be_visible()  # a person is one tap away from the start
    visitor_says(frame, QUESTION)

    messages = frame.get_by_test_id("messages")
    answer = messages.locator("[data-sender=bot]")
    expect(answer).to_contain_text(ANSWER)
    expect(answer).to_contain_text("Automated answer")  # labelled, never taken for a person
    expect(frame.get_by_test_id("bot-feedback")).to_contain_text("Did this answer your question?")
    expect(expert.get_by_test_id("offer")).to_have_count(0)  # nobody is offered what the bot has
    frame.get_by_test_id("bot-not-helpful").click()

    expect(frame.get_by_test_id("bot-feedback")).to_be_hidden()
    expect(messages.locator("[data-sender=bot]").last).to_contain_text("expert")
    accept_the_offer(expert)
    pane = expert.get_by_test_id("chat-messages")
    expect(pane).to_contain_text(QUESTION)
    expect(pane.locator("[data-sender=bot]").first).to_contain_text(ANSWER)
    expect(pane.locator("[data-sender=bot]").first).to_contain_text("FAQ bot (automated)")
    # Beside the chat, the brand's entries for the visitor's question: a tap puts one's answer in the draft.
    suggestion = expert.get_by_test_id("faq-suggestion").first
    expect(suggestion).to_be_visible()
    suggestion.click()
    expect(expert.get_by_test_id("chat-input")).not_to_have_value("")
    expect(expert.get_by_test_id("chat-input")).to_be_in_viewport()
    expert_says(expert, "Bonjour, je regarde votre commande.")
    expect(messages.locator("[data-sender=expert]")).to_contain_text("je regarde votre commande")
    # A good answer of theirs, proposed to the brand as a new entry.
    expert.get_by_test_id("propose-faq").click()
    expect(expert.get_by_test_id("propose-faq-question")).to_have_value(QUESTION)
    expect(expert.get_by_test_id("propose-faq-answer")).to_have_value("Bonjour, je regarde votre commande.")
    expert.get_by_test_id("propose-faq-answer").fill("Une lampe arrive en 48 heures ; le suivi part par e-mail.")
    expert.get_by_test_id("propose-faq-send").click()
    expect(expert.get_by_test_id("propose-faq-note")).to_have_text("Proposed: the brand will review it.")
    expect(frame.get_by_test_id("talk-to-expert")).to_be_hidden()
    frame.get_by_test_id("end-chat").click()
    assert errors == []


def test_asking_for_a_conseiller_reaches_routing_at_once(browser, bot_demo, shop):
    errors: list[str] = []
    expert = expert_online_on_chats(browser, bot_demo, errors)
    visitor, frame = visitor_starts_chat(browser, bot_demo, shop, errors)
    visitor_says(frame, "je veux parler à un conseiller")
    messages = frame.get_by_test_id("messages")
    expect(messages.locator("[data-sender=bot]")).to_have_count(1)
    expect(messages.locator("[data-sender=bot]")).to_contain_text("expert")  # the hand-over line, no answer
    expect(frame.get_by_test_id("talk-to-expert")).to_be_hidden()
    accept_the_offer(expert)
    expect(expert.get_by_test_id("chat-messages")).to_contain_text("je veux parler à un conseiller")
    frame.get_by_test_id("end-chat").click()
    assert errors == []


def test_a_failing_bot_hands_the_visitor_to_an_expert(browser, bot_demo, shop):
    errors: list[str] = []
    expert = expert_online_on_chats(browser, bot_demo, errors)
    visitor, frame = visitor_starts_chat(browser, bot_demo, shop, errors)
    armed = requests.post(f"{bot_demo.url}/dev/faults/faq.answer/1", timeout=10)
    assert armed.status_code == 200 and armed.json() == {"faq.answer": 1}
    visitor_says(frame, QUESTION)
    messages = frame.get_by_test_id("messages")
    expect(messages.locator("[data-sender=bot]")).to_contain_text("expert")  # handed over, not silence
    expect(messages).not_to_contain_text(ANSWER)
    accept_the_offer(expert)
    expect(expert.get_by_test_id("chat-messages")).to_contain_text(QUESTION)
    frame.get_by_test_id("end-chat").click()
    assert errors == []


def test_yes_resolves_the_chat_and_offers_a_new_one(browser, bot_demo, shop):
    errors: list[str] = []
    visitor, frame = visitor_starts_chat(browser, bot_demo, shop, errors)
    visitor_says(frame, QUESTION)
    expect(frame.get_by_test_id("messages").locator("[data-sender=bot]")).to_contain_text(ANSWER)
    frame.get_by_test_id("bot-helpful").click()
    expect(frame.get_by_test_id("queue-status")).to_contain_text("Glad this helped")
    expect(frame.get_by_test_id("start-new-conversation")).to_be_visible()
    expect(frame.get_by_test_id("message-input")).to_be_hidden()
    assert errors == []
