"""The demo expert's pages on a small phone (360 x 740), as Emma uses them through a whole shift.

Every expert page fits the screen's width in English and in French (the longer words); the demand page draws
its week heat map under the site's Content Security Policy; the shifts week starts today.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import ACTION_MS, NAVIGATION_MS, Viewport
from tests.browser.test_demo_logins import assert_no_horizontal_overflow, log_in_as

pytestmark = pytest.mark.browser

SMALL_PHONE = Viewport("small phone", 360, 740, is_mobile=True)
PLATFORM_ZONE = zoneinfo.ZoneInfo("Europe/Paris")  # BABEL_DEFAULT_TIMEZONE: the expert's days
LANGUAGES = {"en": "English", "fr": "Français"}
DEMO_BRAND = "maison-lumiere"  # the brand that approved Emma, with eight weeks of history
EXPERT_PAGES = ["/expert", "/expert/chats", "/expert/shifts", "/expert/demand", "/expert/earnings",
                "/expert/statements", "/expert/brands", "/expert/profile", "/expert/invitations", "/expert/ratings",
                "/expert/decisions", "/expert/decisions/how"]
# Records every CSP violation the page meets, from before its first script runs.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI || "inline"} line ${event.lineNumber}`);
});
"""


@dataclass
class Phone:
    context: BrowserContext
    page: Page
    errors: list[str]  # console errors and uncaught exceptions

    def speak(self, language: str) -> None:
        """Switch the pages to `language` with the footer's buttons, as Emma would (her account keeps it)."""
        # The button posts a form that redirects back: wait for that page, or the next `goto` may cut its
        # navigation short (the page may already be in that language, so its lang proves nothing).
        with self.page.expect_navigation(wait_until="load"):
            self.page.get_by_role("contentinfo").get_by_role("button", name=LANGUAGES[language]).click()
        expect(self.page.locator("html")).to_have_attribute("lang", language)

    def open(self, path: str) -> None:
        self.page.goto(path)
        expect(self.page.get_by_role("heading", level=1)).to_be_visible()

    def csp_violations(self) -> list[str]:
        return self.page.evaluate("window.__cspViolations")


@pytest.fixture
def emma(browser: Browser, demo_server) -> Iterator[Phone]:
    """The demo expert, logged in on a 360px-wide phone."""
    context = browser.new_context(base_url=demo_server.url, **SMALL_PHONE.context_options())
    context.set_default_timeout(ACTION_MS)
    context.set_default_navigation_timeout(NAVIGATION_MS)
    context.add_init_script(CSP_LISTENER)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    page.on("console", lambda message: errors.append(f"console: {message.text}")
            if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico") else None)
    try:
        log_in_as(page, demo_server, "expert")
        phone = Phone(context, page, errors)
        yield phone
        if page.locator("html").get_attribute("lang") != "en":  # give the account back its English for other tests
            page.goto("/expert")
            phone.speak("en")
    finally:
        context.close()


def platform_today() -> dt.date:
    return dt.datetime.now(PLATFORM_ZONE).date()


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("path", EXPERT_PAGES)
def test_each_expert_page_fits_a_360px_phone_without_sideways_scrolling(emma, path, language, screenshot_dir):
    emma.speak(language)
    emma.open(path)
    expect(emma.page.locator("html")).to_have_attribute("lang", language)
    width = emma.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    shot = screenshot_dir / f"360-{language}-{path.strip('/').replace('/', '-')}.png"
    emma.page.screenshot(path=str(shot), full_page=True)
    assert width[0] <= width[1], f"{path} in {language} is {width[0]}px wide for {width[1]}px (screenshot: {shot})"
    assert_no_horizontal_overflow(emma.page, f"{path} in {language} (screenshot: {shot})")


def test_the_demand_page_draws_a_week_heat_map_under_the_csp(emma, screenshot_dir):
    emma.open("/expert/demand")
    heat_map = emma.page.get_by_test_id(f"demand-{DEMO_BRAND}").get_by_test_id("heatmap")
    expect(heat_map).to_be_visible()
    expect(emma.page.get_by_test_id("heat-legend")).to_be_visible()

    # Seven day columns from today, today's marked for screen readers too.
    days = heat_map.locator("thead th[data-day]")
    expect(days).to_have_count(7)
    today = platform_today()
    assert days.evaluate_all("cells => cells.map(cell => cell.dataset.day)") == [
        (today + dt.timedelta(days=n)).isoformat() for n in range(7)]
    expect(days.first).to_have_attribute("aria-current", "date")
    expect(days.first.locator(".visually-hidden")).to_contain_text("Today")

    # Every hour still to come carries a level, and each level is painted in its own shade by the stylesheet.
    cells = heat_map.locator("tbody td.heat")
    assert cells.count() % 7 == 0 and cells.count() >= 7
    drawn = heat_map.locator("td[data-level]").evaluate_all(
        "cells => cells.map(cell => [Number(cell.dataset.level), Number(cell.dataset.wanted),"
        " getComputedStyle(cell).backgroundColor])")
    assert drawn, "no hour of the week carries a level"
    assert all(0 <= level <= 5 for level, _, _ in drawn)
    assert any(wanted > 0 for _, wanted, _ in drawn), "the demo brand is short of experts at no hour"
    shades = {level: colour for level, _, colour in drawn}
    assert "rgba(0, 0, 0, 0)" not in shades.values(), f"unpainted hours: {shades}"
    assert len(set(shades.values())) == len(shades), f"two levels share a shade: {shades}"
    rows = heat_map.locator("tbody tr")
    expect(rows.first.locator("th[scope=row]")).not_to_be_empty()

    emma.page.screenshot(path=str(screenshot_dir / "360-demand-heat-map.png"), full_page=True)
    assert emma.csp_violations() == []
    assert emma.errors == []


def test_the_shifts_week_starts_today(emma):
    emma.open("/expert/shifts")
    days = emma.page.get_by_test_id("shift-day")
    expect(days).to_have_count(7)
    today = platform_today()
    expect(days.first).to_have_attribute("data-day", today.isoformat())
    heading = days.first.get_by_role("heading", level=2)
    expect(heading).to_have_attribute("aria-current", "date")
    expect(heading).to_contain_text("Today")
    expect(days.last).to_have_attribute("data-day", (today + dt.timedelta(days=6)).isoformat())

    emma.page.get_by_role("link", name="Next week").click()
    expect(days.first).to_have_attribute("data-day", (today + dt.timedelta(days=7)).isoformat())
    emma.page.get_by_role("link", name="Back to this week").click()
    expect(days.first).to_have_attribute("data-day", today.isoformat())
    assert emma.errors == []


def shown_presence_buttons(page: Page) -> list[str]:
    return page.locator("#presence-card").get_by_role("button").all_inner_texts()


def press(page: Page, button: str) -> None:
    """Press one of the home page's presence buttons (a form's post) and wait for the page it loads: the socket may
    redraw the old page first, and a step taken on it then would be lost with it."""
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name=button, exact=True).click()


def test_the_home_pages_status_card_follows_her_presence_in_place(emma, browser: Browser, demo_server):
    """Emma keeps the home page open; her presence moves from her other device and from the page's own switch.

    The card redraws itself where it is: a reload would swallow the tap she is about to make.
    """
    other_device = browser.new_context(base_url=demo_server.url, **SMALL_PHONE.context_options())
    other_device.set_default_timeout(ACTION_MS)
    other_device.set_default_navigation_timeout(NAVIGATION_MS)
    try:
        other = other_device.new_page()
        log_in_as(other, demo_server, "expert")
        if other.get_by_role("button", name="Go offline", exact=True).count():
            press(other, "Go offline")
        expect(other.get_by_test_id("presence-status")).to_have_text("Offline")

        emma.open("/expert")
        page, card_status = emma.page, emma.page.get_by_test_id("presence-status")
        expect(card_status).to_have_text("Offline")
        expect(page.locator("#live-indicator")).to_have_attribute("data-state", "live")
        page.evaluate("window.__notReloaded = true")

        # From the other device: online, and her open page says so with the button that takes her off.
        press(other, "Go online")
        expect(other.get_by_test_id("presence-status")).to_have_text("Online")
        expect(card_status).to_have_text("Online")
        expect(page.locator("#presence-card")).to_have_class(re.compile(r"\bpresence--available\b"))
        assert shown_presence_buttons(page) == ["Go offline"]

        # The page's own switch pauses new chats: away, with the way back, and no lost phone to explain.
        page.get_by_test_id("presence-switch").click()
        expect(card_status).to_have_text("Away")
        expect(page.get_by_test_id("presence-label")).to_have_text("Paused: no new chats")
        assert shown_presence_buttons(page) == ["I'm back", "Go offline"]
        expect(page.locator("#presence-card .hint:visible")).to_have_count(0)
        assert page.evaluate("window.__notReloaded === true"), "the home page reloaded instead of redrawing its card"

        # The card's buttons work as they are now drawn (the form's post loads the page anew, as it should).
        press(page, "Go offline")
        expect(card_status).to_have_text("Offline")
        assert shown_presence_buttons(page) == ["Go online"]
        expect(page.locator("#live-indicator")).to_have_attribute("data-state", "live")
        page.evaluate("window.__notReloaded = true")

        # Back on from the other device, then off: the open page follows both moves.
        press(other, "Go online")
        expect(card_status).to_have_text("Online")
        assert shown_presence_buttons(page) == ["Go offline"]
        press(other, "Go offline")
        expect(card_status).to_have_text("Offline")
        assert shown_presence_buttons(page) == ["Go online"]
        assert page.evaluate("window.__notReloaded === true"), "the home page reloaded instead of redrawing its card"
        assert emma.errors == []
    finally:
        other_device.close()
