"""The expert's chat screen on a phone: a full-height conversation with its composer in view, a list that tells
chats apart, canned answers found by typing "/", and how a chat ended (the visitor left, their rating).

Visitors talk over the widget's HTTP calls (their side is tested in test_chat.py), and the expert accepts offers
through the API as the offer banner does (the banner has tests of its own): the banner's side of the contract with
this page, the "marketplace:chat-accepted" event and `/expert/chats?chat=<id>`, is played here by the test.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import DESKTOP, Viewport
from tests.browser.test_chat import expert_online_on_chats, widget_key
from tests.browser.test_demo_logins import assert_no_horizontal_overflow, log_in
from tests.browser.test_expert_journey import new_page

pytestmark = pytest.mark.browser

SMALL_PHONE = Viewport("small phone", 360, 740, is_mobile=True)
RETURNS = ("Returns", "You can send any lamp back within 30 days: we email you a prepaid label.")


@dataclass
class Visitor:
    """A visitor on the brand's site, talking through the widget's calls with their own token."""

    server: str
    key: str
    token: str
    conversation_id: int

    def _post(self, path: str, payload: dict | None = None) -> dict:
        response = requests.post(f"{self.server}/api/widget/{self.key}/conversations/{self.conversation_id}{path}",
                                 json=payload or {}, headers={"X-Visitor-Token": self.token}, timeout=10)
        assert response.status_code < 300, response.text[:300]
        return response.json()

    def says(self, text: str) -> None:
        self._post("/messages", {"client_id": f"v-{secrets.token_hex(8)}", "body": text})

    def rates(self, rating: int, comment: str) -> None:
        self._post("/rating", {"rating": rating, "comment": comment})

    def leaves(self) -> None:
        self._post("/leave")


@pytest.fixture(scope="module")
def key(demo_server) -> str:
    return widget_key(demo_server)


@pytest.fixture
def arrive(demo_server, key) -> Iterator[Callable[..., Visitor]]:
    """Visitors starting chats with Maison Lumière; each leaves at the end, freeing the expert's room."""
    arrived: list[Visitor] = []

    def arrive_(topic: str, first_words: str, *, page_url: str = "https://lumiere.example/lamps/reading",
                locale: str = "fr-FR") -> Visitor:
        token = secrets.token_urlsafe(32)
        response = requests.post(f"{demo_server.url}/api/widget/{key}/conversations", timeout=10,
                                 json={"topic": topic, "page_url": page_url, "locale": locale},
                                 headers={"X-Visitor-Token": token})
        assert response.status_code == 201, response.text[:300]
        visitor = Visitor(demo_server.url, key, token, response.json()["id"])
        arrived.append(visitor)
        visitor.says(first_words)
        return visitor

    yield arrive_
    for visitor in arrived:
        requests.post(f"{demo_server.url}/api/widget/{key}/conversations/{visitor.conversation_id}/leave",
                      headers={"X-Visitor-Token": visitor.token}, timeout=10)


@pytest.fixture
def errors() -> Iterator[list[str]]:
    found: list[str] = []
    yield found
    assert found == [], found


def csrf(page: Page) -> dict:
    return {"X-CSRFToken": page.locator("meta[name=csrf-token]").get_attribute("content")}


def accept(expert: Page, visitor: Visitor) -> dict:
    """Accept the visitor's chat as the offer banner's Accept does; the chat summary it answers."""
    deadline = time.monotonic() + 10
    while True:
        offers = expert.request.get("/api/v1/expert/inbox").json()["offers"]
        offer = next((o for o in offers if o["conversation_id"] == visitor.conversation_id), None)
        if offer or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert offer, f"no offer for conversation {visitor.conversation_id}: {offers}"
    response = expert.request.post(f"/api/v1/offers/{offer['offer_id']}/accept", headers=csrf(expert))
    assert response.ok, response.text()
    return response.json()


def accepted_in_banner(expert: Page, chat: dict) -> None:
    """What the banner does on this page once its Accept is answered."""
    expert.evaluate("chat => document.dispatchEvent(new CustomEvent('marketplace:chat-accepted', {detail: {chat}}))",
                    chat)


def expert_writes(expert: Page, conversation_id: int, text: str) -> None:
    response = expert.request.post(f"/api/v1/conversations/{conversation_id}/messages", headers=csrf(expert),
                                   data={"client_id": f"e-{secrets.token_hex(8)}", "body": text})
    assert response.status == 201, response.text()


def box(page: Page, test_id: str) -> dict:
    return page.get_by_test_id(test_id).bounding_box()


def shot(page: Page, screenshot_dir, name: str) -> None:
    page.screenshot(path=str(screenshot_dir / f"chat-phone-{name}.png"))


def test_a_long_chat_fills_the_phone_screen_and_keeps_the_composer_in_view(browser, demo_server, arrive, errors,
                                                                            screenshot_dir):
    expert = expert_online_on_chats(browser, demo_server, errors)
    visitor = arrive("Choosing a lamp", "Hello! Which lamp for reading in bed?")
    chat = accept(expert, visitor)
    for n in range(1, 7):
        visitor.says(f"Question {n}: and what about the shade?\nIt should not dazzle.\nMy room is small.")
        expert_writes(expert, visitor.conversation_id, f"Answer {n}: a fabric shade softens the light;\n"
                                                       "choose a warm bulb of about 2700 K.")
    accepted_in_banner(expert, chat)

    messages = expert.get_by_test_id("chat-messages")
    expect(messages.locator("[data-seq]")).to_have_count(13)
    expect(expert.locator("#conversation-title")).to_be_focused()
    viewport = expert.viewport_size
    composer = box(expert, "chat-input")
    assert composer["y"] > 0 and composer["y"] + composer["height"] <= viewport["height"], composer
    send = box(expert, "chat-send")
    assert send["y"] + send["height"] <= viewport["height"], send
    # The log follows its growing content from a ResizeObserver, called before the next frame: wait for that frame
    # (on a busy machine it comes late), then look.
    expert.wait_for_function("""() => {
        const log = document.querySelector('[data-testid=chat-messages]');
        return Math.abs(log.scrollHeight - log.scrollTop - log.clientHeight) < 2;
    }""", timeout=5000)
    sizes = expert.evaluate("""() => {
        const log = document.querySelector('[data-testid=chat-messages]');
        return {page: document.documentElement.scrollHeight, inner: window.innerHeight,
                logScroll: log.scrollHeight, logClient: log.clientHeight,
                logAtEnd: Math.abs(log.scrollHeight - log.scrollTop - log.clientHeight) < 2};
    }""")
    assert sizes["page"] == sizes["inner"] == viewport["height"], sizes  # the page itself does not scroll
    assert sizes["logScroll"] > sizes["logClient"] and sizes["logAtEnd"], sizes  # the messages scroll in their box
    expect(messages.locator("[data-seq]").last).to_contain_text("Answer 6")
    expect(messages.locator("[data-seq]").last).to_be_in_viewport()
    shot(expert, screenshot_dir, "long-chat")

    # The visitor's page and context sit in the header.
    context = expert.get_by_test_id("chat-context")
    expect(context).to_contain_text("Choosing a lamp")
    expect(context).to_contain_text("French")
    expect(context).to_contain_text(re.compile(r"Waited \d+"))
    expect(context.get_by_role("link")).to_have_attribute("href", "https://lumiere.example/lamps/reading")

    # An answer sent from the composer lands at the end, in view.
    expert.get_by_test_id("chat-input").fill("Anything else I can help with?")
    expert.get_by_test_id("chat-send").click()
    expect(messages.locator("[data-seq]")).to_have_count(14)
    expect(messages.locator("[data-seq]").last).to_be_in_viewport()

    # One tap back to the list, where the page scrolls as usual again.
    expert.get_by_test_id("back-to-chats").click()
    item = expert.get_by_test_id("chat-item").filter(has_text=chat["visitor_label"])
    expect(item.get_by_test_id("chat-last-message")).to_have_text("You: Anything else I can help with?")
    expect(item).to_be_focused()
    assert not expert.evaluate("document.documentElement.classList.contains('chat-screen')")


def test_two_chats_of_one_brand_are_told_apart_and_one_tap_switches_between_them(browser, demo_server, arrive,
                                                                                 errors, screenshot_dir):
    expert = expert_online_on_chats(browser, demo_server, errors)
    first = arrive("Returns", "My lamp arrived with a cracked base.")
    second = arrive("Delivery", "When will order 4471 arrive?")
    accept(expert, first)
    accept(expert, second)

    items = expert.get_by_test_id("chat-item")  # chats closed in earlier tests are in the list too, below
    broken, late = items.filter(has_text="cracked base"), items.filter(has_text="order 4471")
    expect(broken).to_contain_text("Maison Lumière")
    expect(broken).to_contain_text("Returns")
    expect(late).to_contain_text("Maison Lumière")
    expect(late).to_contain_text("Delivery")
    broken_label, late_label = (item.get_by_test_id("chat-visitor").inner_text() for item in (broken, late))
    assert broken_label != late_label, broken_label
    assert all(re.fullmatch(r"Visitor [0-9A-F]{4}", label) for label in (broken_label, late_label))
    for item in (broken, late):
        expect(item.get_by_test_id("unread")).to_have_text("1")
        expect(item.locator("[data-field=since]")).to_have_text(re.compile(r"^\d+ (sec|min)$"))
        expect(item).to_contain_text("Waiting for your answer")
    expect(items.first).to_contain_text("cracked base")  # the visitor who has waited longest comes first
    shot(expert, screenshot_dir, "two-chats-list")

    late.click()
    title = expert.locator("#conversation-title")
    messages = expert.get_by_test_id("chat-messages")
    expect(title).to_contain_text(late_label)
    expect(title).to_contain_text("Maison Lumière")
    expect(messages).to_contain_text("When will order 4471 arrive?")
    tabs = expert.get_by_test_id("chat-tab")
    late_tab, broken_tab = (tabs.filter(has_text=label.split()[-1]) for label in (late_label, broken_label))
    expect(late_tab).to_have_attribute("aria-current", "true")
    shot(expert, screenshot_dir, "two-chats-open")

    broken_tab.click()  # one tap to the other chat, without going back to the list
    expect(title).to_contain_text(broken_label)
    expect(messages).to_contain_text("My lamp arrived with a cracked base.")
    expect(messages).not_to_contain_text("order 4471")
    expect(broken_tab).to_have_attribute("aria-current", "true")
    expect(broken_tab.locator("[data-field=unread]")).to_be_hidden()

    # A visitor who writes while another chat is open shows on their tab.
    second.says("Hello? Still there?")
    expect(late_tab.locator("[data-field=unread]")).to_have_text("1")
    expect(messages).not_to_contain_text("Still there?")


def ensure_returns_answer(browser: Browser, demo_server, errors: list[str]) -> None:
    """The brand admin adds a canned answer about returns on the brand's widget page, as a person would."""
    admin = new_page(browser, demo_server, DESKTOP, errors)
    log_in(admin, demo_server.logins["brand admin"], demo_server.password)
    admin.goto("/brands/maison-lumiere/widget")
    answers = admin.get_by_label("Canned answers")
    if RETURNS[0] not in answers.input_value():
        answers.fill(answers.input_value().rstrip() + f"\n\n{RETURNS[0]}\n{RETURNS[1]}")
        admin.get_by_role("button", name="Save").click()
        expect(admin.get_by_text("The chat settings are saved.")).to_be_visible()
    admin.context.close()


def test_typing_a_slash_and_letters_finds_a_canned_answer_and_enter_inserts_it(browser, demo_server, arrive, errors,
                                                                                screenshot_dir):
    ensure_returns_answer(browser, demo_server, errors)
    expert = expert_online_on_chats(browser, demo_server, errors)
    visitor = arrive("Returns", "Can I send my lamp back?")
    chat = accept(expert, visitor)
    accepted_in_banner(expert, chat)
    answers = expert.request.get("/api/v1/expert/inbox").json()["canned_answers"][str(chat["brand"]["id"])]
    assert RETURNS[0] in [answer["title"] for answer in answers] and len(answers) > 2

    draft = expert.get_by_test_id("chat-input")
    draft.press_sequentially("Of course. /ret")
    suggestions = expert.get_by_role("listbox", name="Canned answers")
    expect(suggestions).to_be_visible()
    options = suggestions.get_by_role("option")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("Returns")
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(draft).to_have_attribute("aria-activedescendant", options.first.get_attribute("id"))
    shot(expert, screenshot_dir, "canned-suggestions")
    suggestion = options.first.bounding_box()
    assert suggestion["y"] >= 0 and suggestion["y"] + suggestion["height"] <= expert.viewport_size["height"]

    draft.press("Enter")
    expect(draft).to_have_value(f"Of course. {RETURNS[1]}")
    expect(suggestions).to_be_hidden()

    # By touch: "/" alone lists every answer; a tap on one puts it in place of the "/".
    draft.fill("")
    draft.press_sequentially(" /")
    expect(options).to_have_count(len(answers))
    draft.press_sequentially("warm")
    expect(options).to_have_count(1)
    options.first.tap()
    expect(draft).to_have_value(" For a cosy living room, choose a warm white bulb of about 2700 K.")
    expect(draft).to_be_focused()

    # Escape closes the list and keeps the letters typed.
    draft.fill("")
    draft.press_sequentially("/del")
    expect(options).to_have_count(1)
    draft.press("Escape")
    expect(suggestions).to_be_hidden()
    expect(draft).to_have_value("/del")


def test_a_closed_chat_shows_the_visitors_rating_and_comment_until_dismissed(browser, demo_server, arrive, errors,
                                                                             screenshot_dir):
    expert = expert_online_on_chats(browser, demo_server, errors)
    visitor = arrive("Delivery", "Is the Atlas lamp in stock?")
    chat = accept(expert, visitor)
    accepted_in_banner(expert, chat)
    expert.get_by_test_id("chat-input").fill("Yes, it leaves the warehouse today.")
    expert.get_by_test_id("chat-send").click()
    expect(expert.get_by_test_id("chat-messages").locator("[data-seq]")).to_have_count(2)

    expert.get_by_test_id("close-chat").click()
    expert.get_by_test_id("confirm-close").click()
    ended = expert.get_by_test_id("chat-ended")
    expect(ended).to_contain_text("You closed this chat.")
    expect(ended).to_contain_text("The visitor has not rated this chat yet.")
    expect(expert.get_by_test_id("chat-input")).to_be_disabled()

    comment = "Quick and clear, thanks!\nThe lamp came the next day."
    visitor.rates(4, comment)
    expect(expert.get_by_test_id("visitor-rating")).to_contain_text("Visitor rating: 4/5")
    expect(expert.get_by_test_id("visitor-comment")).to_have_text(comment)
    shot(expert, screenshot_dir, "closed-rated")

    # The closed chat stays in the list, marked, after the page is loaded again; until it is dismissed.
    expert.reload()
    item = expert.get_by_test_id("chat-item").filter(has_text=chat["visitor_label"])
    expect(item).to_contain_text("Closed")
    expect(item).to_contain_text("Visitor rating: 4/5")
    item.click()
    expect(expert.get_by_test_id("visitor-comment")).to_contain_text("Quick and clear, thanks!")
    expert.get_by_test_id("dismiss-chat").click()
    expect(item).to_have_count(0)
    expert.reload()
    expect(expert.get_by_test_id("chat-item").filter(has_text=chat["visitor_label"])).to_have_count(0)


def test_a_chat_whose_visitor_left_says_so_and_closes_in_one_tap(browser, demo_server, arrive, errors, screenshot_dir):
    expert = expert_online_on_chats(browser, demo_server, errors)
    visitor = arrive("Choosing a lamp", "Which lamp for a desk?")
    # The server marks a chat when its visitor's page has not checked in for a minute, and tells the page; here the
    # chat's summary says so as the page gets it: in the banner's event and in every inbox the page fetches.
    left_at = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=75)).isoformat()

    def inbox_says_left(route) -> None:
        response = route.fetch()
        inbox = response.json()
        for summary in inbox["chats"]:
            if summary["conversation_id"] == visitor.conversation_id:
                summary["visitor_left_at"] = left_at
        route.fulfill(response=response, json=inbox)

    expert.route("**/api/v1/expert/inbox", inbox_says_left)
    chat = accept(expert, visitor)
    item = expert.get_by_test_id("chat-item").filter(has_text=chat["visitor_label"])
    expect(item).to_be_visible()  # the chat event of the accept came
    expert.wait_for_load_state("networkidle")  # and the inbox it made the page fetch
    accepted_in_banner(expert, {**chat, "visitor_left_at": left_at})

    notice = expert.get_by_test_id("visitor-left")
    expect(notice).to_contain_text("The visitor left the page 1 min ago.")
    expect(item).to_contain_text("Left the page")
    shot(expert, screenshot_dir, "visitor-left")
    notice.get_by_role("button", name="Close the chat").click()
    expect(expert.get_by_test_id("chat-ended")).to_contain_text("You closed this chat.")
    expect(notice).to_be_hidden()


def test_a_chat_named_in_the_address_opens_at_once_and_the_address_is_cleaned(browser, demo_server, arrive, errors):
    expert = expert_online_on_chats(browser, demo_server, errors)
    visitor = arrive("Delivery", "Do you deliver to Belgium?")
    accept(expert, visitor)
    expert.goto(f"/expert/chats?chat={visitor.conversation_id}")  # where the banner leads from another page
    expect(expert.get_by_test_id("chat-messages")).to_contain_text("Do you deliver to Belgium?")
    expect(expert.locator("#conversation-title")).to_be_focused()
    expect(expert.get_by_test_id("chat-input")).to_be_in_viewport()
    assert expert.url.endswith("/expert/chats"), expert.url


def test_nothing_scrolls_sideways_on_a_360_px_phone(browser, demo_server, arrive, errors, screenshot_dir):
    expert = expert_online_on_chats(browser, demo_server, errors, SMALL_PHONE)
    visitor = arrive("Choosing a lamp", "Look: https://lumiere.example/" + "a-very-long-product-name-" * 6,
                     page_url="https://lumiere.example/collections/" + "table-lamps-" * 12)
    chat = accept(expert, visitor)
    expect(expert.get_by_test_id("chat-item").filter(has_text=chat["visitor_label"])).to_be_visible()
    assert_no_horizontal_overflow(expert, "the chat list")
    shot(expert, screenshot_dir, "360-list")
    accepted_in_banner(expert, chat)
    expect(expert.get_by_test_id("chat-messages").locator("[data-seq]")).to_have_count(1)
    assert_no_horizontal_overflow(expert, "an open chat")
    expect(expert.get_by_test_id("chat-input")).to_be_in_viewport()
    shot(expert, screenshot_dir, "360-chat")


def test_on_a_desktop_the_list_and_the_open_chat_sit_side_by_side(browser, demo_server, arrive, errors,
                                                                 screenshot_dir):
    expert = expert_online_on_chats(browser, demo_server, errors, DESKTOP)
    visitor = arrive("Delivery", "Can you deliver on Saturday?")
    accepted_in_banner(expert, accept(expert, visitor))
    expect(expert.get_by_test_id("chat-messages")).to_contain_text("Can you deliver on Saturday?")
    item = expert.get_by_test_id("chat-item").filter(has_text="Can you deliver on Saturday?")
    expect(item).to_have_attribute("aria-current", "true")
    listed, shown = item.bounding_box(), expert.get_by_test_id("chat-messages").bounding_box()
    assert listed["x"] + listed["width"] <= shown["x"], (listed, shown)
    expect(expert.get_by_test_id("back-to-chats")).to_be_hidden()
    expect(expert.get_by_test_id("chat-input")).to_be_in_viewport()
    assert not expert.evaluate("document.documentElement.classList.contains('chat-screen')")
    shot(expert, screenshot_dir, "desktop")
