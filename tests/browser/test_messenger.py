"""Messenger in the demo: a person's signed message to the brand's Facebook Page becomes a chat an expert answers on
their phone, and the answer reaches Meta (the demo's fake Graph server) as a reply to that person.

The person writes from the demo's Messenger page (`/dev/messenger`), which posts a signed webhook as Meta does and
lists what the fake Graph recorded as sent to that person.
"""

from __future__ import annotations

import random
import re
import time
import uuid

import pytest
import requests
from playwright.sync_api import expect

from marketplace import demo_whatsapp
from tests.browser.conftest import DESKTOP
from tests.browser.test_chat import accept_the_offer, expert_online_on_chats, expert_says
from tests.browser.test_expert_journey import new_page
from tests.browser.test_whatsapp import close_the_chat, signed_delivery
from tests.fake_graph import bodies
from tests.fake_graph.state import MessengerPage

pytestmark = pytest.mark.browser


def person_writes(demo_server, person: str, text: str) -> None:
    """Write to the demo brand's page from the person's Messenger page (a signed webhook to the app)."""
    messenger = requests.Session()
    page = messenger.get(f"{demo_server.url}/dev/messenger", timeout=10)
    assert page.status_code == 200, "the demo has no Messenger page:\n" + demo_server.output[-2000:]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    answer = messenger.post(f"{demo_server.url}/dev/messenger",
                            data={"csrf_token": token, "person": person, "text": text}, timeout=10)
    assert answer.status_code == 200 and text in answer.text, answer.text[:500]
    assert answer.url.endswith(f"/dev/messenger/{person}")
    assert "did not take the message" not in answer.text


def test_a_messenger_person_is_answered_from_the_experts_phone_and_sees_the_answer(browser, demo_server):
    errors: list[str] = []
    person = f"71{random.randrange(10**14):014d}"  # noqa: S311 - a made-up page-scoped id, new at each run
    question = f"Vous livrez les lampes à Lyon ? ({uuid.uuid4().hex[:6]})"
    expert = expert_online_on_chats(browser, demo_server, errors)
    assert "Messenger:" in demo_server.output and "/dev/messenger" in demo_server.output  # told at start-up

    person_writes(demo_server, person, question)
    accept_the_offer(expert, "Messenger")
    messages = expert.get_by_test_id("chat-messages")
    expect(messages).to_contain_text(question)
    expect(expert.get_by_test_id("chat-channel")).to_contain_text("Messenger")
    answer = f"Oui, en 3 à 5 jours ouvrés. ({uuid.uuid4().hex[:6]})"
    expert_says(expert, answer)

    # Messenger's receipts (delivered, then read) come back by webhook and show on the expert's message: it went out.
    mine = messages.locator("[data-sender=expert]").filter(has_text=answer)
    expect(mine.locator(".message__state")).to_have_text("Read", timeout=15_000)

    # The fake Graph recorded it as sent to this person, as text: their Messenger shows it after their question.
    phone = new_page(browser, demo_server, DESKTOP, errors)
    phone.goto(f"/dev/messenger/{person}")
    thread = phone.get_by_test_id("messenger-thread").locator("li")
    expect(thread).to_have_count(2)
    expect(thread.nth(0)).to_have_attribute("data-from", "person")
    expect(thread.nth(0)).to_contain_text(question)
    sent = thread.nth(1)
    expect(sent).to_have_attribute("data-testid", "sent")
    assert (sent.get_attribute("data-to"), sent.get_attribute("data-kind")) == (person, "text")
    expect(sent.get_by_test_id("sent-text")).to_have_text(answer)

    # Closed, so the tests after this one find Emma with her places free.
    expert.get_by_test_id("close-chat").click()
    expert.get_by_test_id("confirm-close").click()
    expect(expert.get_by_test_id("chat-input")).to_be_disabled()
    assert errors == []


def test_seven_days_after_the_persons_message_the_composer_closes_and_says_why(browser, demo_server):
    """Messenger lets a person's reply through for 7 days (tagged HUMAN_AGENT after 24 hours), then nothing until the
    person writes again: the expert's composer counts the days down, then shows no free-text box but a line saying
    so."""
    errors: list[str] = []
    expert = expert_online_on_chats(browser, demo_server, errors)
    page = MessengerPage(page_id=demo_whatsapp.PAGE_ID, **demo_whatsapp.MESSENGER_SECRETS)

    def write(person: str, text: str, days_ago: float) -> None:
        at = int((time.time() - days_ago * 86400) * 1000)
        event = bodies.messenger_event(page, person, at, message={"mid": f"m_{uuid.uuid4().hex}", "text": text})
        signed_delivery(demo_server, "/webhooks/messenger", demo_whatsapp.MESSENGER_SECRETS["app_secret"],
                        bodies.messenger_envelope(page, [event], at))

    late = f"72{random.randrange(10**14):014d}"  # noqa: S311 - a made-up page-scoped id, new at each run
    question = f"Toujours en stock ? ({uuid.uuid4().hex[:6]})"
    write(late, question, days_ago=8)
    accept_the_offer(expert, "Messenger")
    expect(expert.get_by_test_id("chat-messages")).to_contain_text(question)
    expect(expert.get_by_test_id("chat-window")).to_have_text(
        "Messenger takes no reply 7 days after the person’s last message: you can write again when they do.")
    expect(expert.get_by_test_id("chat-input")).to_be_hidden()
    expect(expert.get_by_test_id("template-picker")).to_be_hidden()  # Messenger has no templates to fall back on

    # The person writes again: the 7 days start over, counted down in days and hours.
    write(late, "Vous êtes là ?", days_ago=0)
    expect(expert.get_by_test_id("chat-window")).to_have_text(re.compile(
        r"^Replies possible for (7 d 0 h|6 d 23 h) more \(tagged as a person’s reply after 24 hours\)$"))
    expect(expert.get_by_test_id("chat-input")).to_be_visible()
    close_the_chat(expert)
    assert errors == []
