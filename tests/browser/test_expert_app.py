"""The expert app holds for a whole shift, tried on a 390x844 phone against a demo with short grace periods.

The server runs with PRESENCE_GRACE_SECONDS=10 and VISITOR_GRACE_SECONDS=20 so that waiting past them takes
seconds, not minutes; each test waits past the timeout it is about.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import PHONE
from tests.browser.test_chat import serving_shop, visitor_says, visitor_starts_chat
from tests.browser.test_demo_logins import log_in
from tests.browser.test_expert_journey import new_page
from tests.conftest import csrf_token_from, running_demo

pytestmark = pytest.mark.browser

PRESENCE_GRACE_SECONDS = 10
VISITOR_GRACE_SECONDS = 20


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    settings = {"PRESENCE_GRACE_SECONDS": str(PRESENCE_GRACE_SECONDS),
                "VISITOR_GRACE_SECONDS": str(VISITOR_GRACE_SECONDS)}
    with running_demo(tmp_path_factory.mktemp("demo-short"), settings) as demo:
        yield demo


@pytest.fixture(scope="module")
def shop(server, tmp_path_factory) -> Iterator[str]:
    with serving_shop(server, tmp_path_factory.mktemp("shop-short")) as address:
        yield address


def expert_online(browser: Browser, server, errors: list[str]) -> Page:
    """The demo expert on a phone, switched on from the status bar of their home page."""
    expert = new_page(browser, server, PHONE, errors)
    log_in(expert, server.logins["expert"], server.password)
    expert.goto("/expert")
    expect(expert.locator("#live-indicator")).to_have_attribute("data-state", "live")
    switch = expert.get_by_test_id("presence-switch")
    if switch.get_attribute("aria-checked") != "true":
        switch.click()
    expect(switch).to_have_attribute("aria-checked", "true")
    expect(expert.get_by_test_id("status-bar")).to_have_attribute("data-presence", "available")
    return expert


def expert_in_a_chat(browser: Browser, server, shop: str, errors: list[str]):
    """The expert online on the Chats page, having accepted a visitor's chat from the banner."""
    expert = expert_online(browser, server, errors)
    expert.goto("/expert/chats")
    visitor, frame = visitor_starts_chat(browser, server, shop, errors)
    expert.get_by_test_id("offer").first.get_by_test_id("accept-offer").click()
    return expert, visitor, frame


def server_presence(server, expert: Page) -> str:
    """The expert's presence as the server holds it (the API, with the page's own session)."""
    cookies = {cookie["name"]: cookie["value"] for cookie in expert.context.cookies()}
    answer = requests.get(f"{server.url}/api/v1/experts/me/presence", cookies=cookies, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["status"]


def in_viewport(page: Page, locator) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    return (box is not None and box["y"] >= 0 and box["x"] >= 0 and box["y"] + box["height"] <= size["height"]
            and box["x"] + box["width"] <= size["width"])


def stay(page: Page, seconds: float) -> None:
    """Leave the page open and untouched for a while, as an expert waiting for chats does."""
    page.wait_for_timeout(seconds * 1000)


def test_an_expert_waiting_on_any_page_stays_available_and_receives_an_offer_there(browser, server, shop):
    errors: list[str] = []
    expert = expert_online(browser, server, errors)

    expert.goto("/expert/chats")
    stay(expert, 2 * PRESENCE_GRACE_SECONDS + 5)
    assert server_presence(server, expert) == "available"
    expect(expert.get_by_test_id("status-bar")).to_have_attribute("data-presence", "available")

    expert.goto("/expert/shifts")
    stay(expert, 2 * PRESENCE_GRACE_SECONDS + 5)
    assert server_presence(server, expert) == "available"

    visitor, frame = visitor_starts_chat(browser, server, shop, errors)
    offer = expert.get_by_test_id("offer").first
    expect(offer).to_be_visible()
    assert in_viewport(expert, offer)
    expect(offer.get_by_test_id("offer-countdown")).to_contain_text(re.compile(r"\d+ s"))
    offer.get_by_test_id("accept-offer").click()
    expect(expert).to_have_url(re.compile(r"/expert/chats"))
    visitor_says(frame, "Is the brass lamp dimmable?")
    expect(expert.get_by_test_id("chat-messages")).to_contain_text("Is the brass lamp dimmable?")
    expert.get_by_test_id("chat-input").fill("Yes, with any trailing-edge dimmer.")
    expert.get_by_test_id("chat-send").click()
    expect(frame.get_by_test_id("messages")).to_contain_text("trailing-edge dimmer")
    _close_every_chat(expert)
    assert errors == []


def test_the_switch_pauses_new_chats_and_a_heartbeat_does_not_undo_it(browser, server):
    errors: list[str] = []
    expert = expert_online(browser, server, errors)
    expert.goto("/expert/earnings")
    switch = expert.get_by_test_id("presence-switch")
    switch.click()
    expect(switch).to_have_attribute("aria-checked", "false")
    expect(expert.get_by_test_id("presence-label")).to_have_text("Paused: no new chats")
    stay(expert, PRESENCE_GRACE_SECONDS / 3 + 2)  # a heartbeat or two go by
    assert server_presence(server, expert) == "away"
    expert.goto("/expert/shifts")  # another page shows the same state
    expect(expert.get_by_test_id("presence-switch")).to_have_attribute("aria-checked", "false")
    expert.get_by_test_id("presence-switch").click()
    expect(expert.get_by_test_id("presence-label")).to_have_text("Taking chats")
    assert server_presence(server, expert) == "available"
    # The connection indicator speaks of the connection, never of the expert's availability.
    expect(expert.locator("#live-indicator")).to_have_text("Connected")
    assert errors == []


def test_an_offer_arriving_in_an_open_chat_is_in_view_with_its_pay_and_accepted_there(browser, server, shop):
    errors: list[str] = []
    expert, first_visitor, first = expert_in_a_chat(browser, server, shop, errors)
    for number in range(30):  # a long chat: the composer is far below the first message
        visitor_says(first, f"Question {number} about the lamp shade, the bulb and its warm light.")
    expect(expert.get_by_test_id("chat-messages").locator("[data-seq]")).to_have_count(30)
    composer = expert.get_by_test_id("chat-input")
    composer.scroll_into_view_if_needed()
    composer.fill("Let me check")

    second_visitor, second = visitor_starts_chat(browser, server, shop, errors)
    offer = expert.get_by_test_id("offer").first
    expect(offer).to_be_visible()
    assert in_viewport(expert, offer)
    expect(offer.get_by_test_id("offer-countdown")).to_contain_text(re.compile(r"\d+ s left"))
    expect(offer.get_by_test_id("offer-pay")).to_contain_text(re.compile(r"You earn €\s?\d+[.,]\d\d"))
    assert re.match(r"\(1\) New chat offer", expert.title())
    offer.get_by_test_id("accept-offer").click()
    expect(expert.get_by_test_id("offer")).to_have_count(0)
    expect(expert.locator("[data-testid=chat-item]:not(.chat-item--closed)")).to_have_count(2)
    visitor_says(second, "Do you ship to Belgium?")
    expect(expert.get_by_test_id("chat-messages")).to_contain_text("Do you ship to Belgium?")
    assert not expert.title().startswith("(")
    _close_every_chat(expert)
    assert errors == []


def test_after_the_only_expert_declines_the_visitor_is_told_at_once_and_may_leave_a_message(browser, server, shop):
    errors: list[str] = []
    expert = expert_online(browser, server, errors)
    expert.goto("/expert/chats")
    visitor, frame = visitor_starts_chat(browser, server, shop, errors)
    offer = expert.get_by_test_id("offer").first
    expect(offer).to_be_visible()
    offer.get_by_test_id("decline-offer").click()
    declined_at = time.monotonic()

    notice = frame.get_by_test_id("no-expert-notice")
    expect(notice).to_be_visible(timeout=10_000)
    assert time.monotonic() - declined_at < 10
    expect(frame.get_by_test_id("queue-status")).not_to_contain_text(re.compile(r"min|queue", re.IGNORECASE))
    frame.get_by_test_id("no-expert-leave-message").click()
    frame.get_by_test_id("leave-message-email").fill("claire@example.com")
    frame.get_by_test_id("leave-message-body").fill("Do you have the brass lamp in stock?")
    frame.get_by_role("button", name=re.compile("send", re.IGNORECASE)).first.click()
    expect(frame.get_by_text(re.compile("your message was sent", re.IGNORECASE))).to_be_visible()
    assert errors == []


def test_the_expert_sees_the_visitor_leave_and_later_their_rating_and_comment(browser, server, shop):
    errors: list[str] = []
    expert, visitor, frame = expert_in_a_chat(browser, server, shop, errors)
    visitor_says(frame, "Which shade suits a bedside lamp?")
    expect(expert.get_by_test_id("chat-messages")).to_contain_text("bedside lamp")
    expert.get_by_test_id("chat-input").fill("A linen shade of 25 cm.")
    expert.get_by_test_id("chat-send").click()
    expect(frame.get_by_test_id("messages")).to_contain_text("linen shade")

    visitor.close()  # the visitor closes the shop's tab mid-chat
    left = expert.get_by_test_id("visitor-left")
    expect(left).to_be_hidden()
    expect(left).to_be_visible(timeout=(VISITOR_GRACE_SECONDS + 10) * 1000)
    expert.get_by_test_id("close-left-chat").click()
    expect(expert.get_by_test_id("chat-input")).to_be_disabled()

    back = visitor.context.new_page()  # the next day, the same browser: the chat is there to rate
    back.goto(shop)
    back.locator("[data-marketplace-launcher]").click()
    again = back.frame_locator("#marketplace-chat-frame")
    again.get_by_test_id("rating-4").check()
    again.get_by_test_id("rating-comment").fill("Helpful, but I wanted a brass one")
    again.get_by_test_id("submit-rating").click()
    expect(again.get_by_test_id("rating-thanks")).to_be_visible()
    expect(expert.get_by_test_id("visitor-rating")).to_contain_text("4")
    expect(expert.get_by_test_id("visitor-comment")).to_contain_text("Helpful, but I wanted a brass one")
    assert errors == []


@contextlib.contextmanager
def offer_timeout(server, seconds: int) -> Iterator[None]:
    """Maison Lumière's offers last `seconds` for the block, set by its admin through the API as they would."""
    http = requests.Session()
    token = csrf_token_from(http.get(f"{server.url}/login", timeout=10).text)
    http.post(f"{server.url}/login", timeout=10, data={
        "email": server.logins["brand admin"], "password": server.password, "csrf_token": token})
    token = csrf_token_from(http.get(f"{server.url}/brands/maison-lumiere", timeout=10).text)
    brand_id = next(brand["id"] for brand in http.get(f"{server.url}/api/v1/brands", timeout=10).json()
                    if brand["slug"] == "maison-lumiere")
    program = f"{server.url}/api/v1/brands/{brand_id}/program"
    before = http.get(program, timeout=10).json()["offer_timeout_seconds"]

    def set_to(value: int) -> None:
        answer = http.patch(program, json={"offer_timeout_seconds": value}, headers={"X-CSRFToken": token}, timeout=10)
        assert answer.status_code == 200, answer.text

    set_to(seconds)
    try:
        yield
    finally:
        set_to(before)


def test_offers_left_to_expire_leave_the_banner_and_three_in_a_row_pause_the_expert(browser, server, shop):
    errors: list[str] = []
    expert = expert_online(browser, server, errors)  # she waits on her home page, its status card in view
    expert.evaluate("window.__notReloaded = true")
    bar = expert.get_by_test_id("status-bar")
    # Offers last 8 s here (5 s is the least a brand may set): on a busy machine the banner may take a few seconds
    # to show one, and it must show it before it runs out.
    with offer_timeout(server, 8):
        for number in range(3):  # PRESENCE_MISSED_OFFERS_AWAY is 3
            visitor, frame = visitor_starts_chat(browser, server, shop, errors)
            offer = expert.get_by_test_id("offer")
            expect(offer).to_have_count(1, timeout=7_500)
            assert expert.title().startswith("(1) ")
            expect(offer).to_have_count(0, timeout=13_000)  # past its 8 s, and the sweep's 2 s
            assert not expert.title().startswith("(")
            expect(frame.get_by_test_id("no-expert-notice")).to_be_visible(timeout=10_000)
            if number < 2:
                expect(bar).to_have_attribute("data-presence", "available")
            visitor.context.close()
    expect(bar).to_have_attribute("data-presence", "away")
    expect(expert.get_by_test_id("presence-label")).to_have_text("Paused after missed offers")
    expect(expert.get_by_test_id("presence-switch")).to_have_attribute("aria-checked", "false")
    assert server_presence(server, expert) == "away"
    # The home page's card, redrawn in place when the pause came: why, and the way back.
    card = expert.locator("#presence-card")
    expect(card.get_by_test_id("presence-status")).to_have_text("Away")
    expect(card.get_by_text("You missed several chats in a row, so we paused new ones.")).to_be_visible()
    assert card.get_by_role("button").all_inner_texts() == ["I'm back", "Go offline"]
    expert.get_by_test_id("presence-switch").click()  # back: new chats come again
    expect(bar).to_have_attribute("data-presence", "available")
    expect(card.get_by_test_id("presence-status")).to_have_text("Online")
    expect(card.get_by_text("You missed several chats in a row, so we paused new ones.")).to_be_hidden()
    assert expert.evaluate("window.__notReloaded === true"), "the home page reloaded instead of redrawing its card"
    assert errors == []


def _close_every_chat(expert: Page) -> None:
    """Leave the expert with no open chat, so the next test starts with free seats."""
    base = expert.url.split("/expert")[0]
    http = requests.Session()
    http.cookies.update({cookie["name"]: cookie["value"] for cookie in expert.context.cookies()})
    token = csrf_token_from(http.get(f"{base}/expert", timeout=10).text)
    for chat in http.get(f"{base}/api/v1/expert/inbox", timeout=10).json()["chats"]:
        answer = http.post(f"{base}/api/v1/conversations/{chat['conversation_id']}/close",
                           headers={"X-CSRFToken": token}, timeout=10)
        assert answer.status_code in (200, 409), answer.text
