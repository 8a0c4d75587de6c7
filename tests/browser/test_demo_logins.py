"""The logins `marketplace serve --demo` prints work in a real browser, on a phone and on a desktop."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

LIVE_TIMEOUT_MS = 10_000


@dataclass(frozen=True)
class Home:
    path: str
    heading: str
    extra_selector: str | None = None


# The role labels the demo prints, and where each role must land after logging in.
HOMES = {
    "ops": Home("/ops/", "Network"),
    "finance": Home("/finance/", "Payouts"),
    "finance (second approver)": Home("/finance/", "Payouts"),
    "brand admin": Home("/brands/maison-lumiere", "Maison Lumière"),
    "brand viewer": Home("/brands/maison-lumiere", "Maison Lumière"),
    "expert": Home("/expert", "Hello Emma", "[data-testid=expert-status]"),
    "brand admin (Vélo Rapide)": Home("/brands/velo-rapide", "Vélo Rapide"),
    "expert (awaiting vetting)": Home("/expert", "Hello Lucas", "[data-testid=expert-status]"),
}
ROLES = list(HOMES)
LANDING_HEADING = "Answer the chats of brands you love, from your phone."


def path_is(path: str) -> re.Pattern[str]:
    """A URL pattern matching exactly this path on any host, with or without a query string."""
    return re.compile(r"^https?://[^/]+" + re.escape(path) + r"(\?.*)?$")


def current_path(page: Page) -> str:
    return urlsplit(page.url).path


def log_in(page: Page, email: str, password: str) -> None:
    """Fill the real login form by its labels and submit it, as a person would."""
    page.goto("/login")
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    page.get_by_label("E-mail", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in", exact=True).click()


def log_in_as(page: Page, demo_server, role: str) -> Home:
    assert role in demo_server.logins, (
        f"the demo printed no login for {role!r}; it printed {sorted(demo_server.logins)}\n{demo_server.output}"
    )
    log_in(page, demo_server.logins[role], demo_server.password)
    home = HOMES[role]
    expect(page, f"{role} should land on {home.path}").to_have_url(path_is(home.path))
    return home


def horizontal_overflow(page: Page) -> dict:
    """How wide the document is against the phone's width, and the elements sticking out.

    A mobile browser zooms out to fit content wider than the screen, which widens
    `window.innerWidth` to match; so the phone's own width (the context's viewport) is the limit too.
    """
    return page.evaluate(
        """(deviceWidth) => {
            const width = Math.min(window.innerWidth, deviceWidth);
            const culprits = [];
            for (const element of document.body.querySelectorAll('*')) {
                const box = element.getBoundingClientRect();
                if (box.width > 0 && box.right > width + 0.5) {
                    const id = element.id ? '#' + element.id : '';
                    const cls = typeof element.className === 'string' && element.className.trim()
                        ? '.' + element.className.trim().split(/\\s+/).join('.') : '';
                    const text = (element.textContent || '').trim().slice(0, 40);
                    const right = Math.round(box.right);
                    culprits.push(`${element.tagName.toLowerCase()}${id}${cls} right=${right} "${text}"`);
                }
            }
            return {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
                    width: width, culprits: culprits.slice(0, 10)};
        }""",
        page.viewport_size["width"],
    )


def assert_no_horizontal_overflow(page: Page, where: str) -> None:
    result = horizontal_overflow(page)
    assert result["scrollWidth"] <= result["width"], (
        f"{where} scrolls sideways on a {page.viewport_size['width']}px-wide phone: the document is "
        f"{result['scrollWidth']}px wide (window.innerWidth {result['innerWidth']}); "
        f"elements sticking out: {result['culprits']}"
    )


def test_demo_prints_the_expected_logins(demo_server):
    assert set(demo_server.logins) == set(HOMES), (
        f"the demo's printed roles changed; update HOMES in this file:\n{demo_server.output}"
    )
    assert demo_server.password, "the demo printed no password"


@pytest.mark.parametrize("role", ROLES)
def test_demo_login_lands_on_role_home_and_goes_live(page: Page, demo_server, role, page_errors):
    home = log_in_as(page, demo_server, role)

    expect(page.get_by_role("heading", level=1)).to_have_text(home.heading)
    if home.extra_selector:
        expect(page.locator(home.extra_selector)).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    # The page's socket connects: the live indicator says so.
    indicator = page.locator("#live-indicator")
    expect(indicator).to_be_visible()
    expect(indicator, f"the live indicator of {role} never connected").to_have_attribute(
        "data-state", "live", timeout=LIVE_TIMEOUT_MS
    )
    expect(indicator).to_have_class(re.compile(r"\blive--live\b"))
    # `/` sends a logged-in user to the same home page.
    page.goto("/")
    expect(page).to_have_url(path_is(home.path))
    assert not page_errors.messages, f"JavaScript errors on {role}'s home page: {page_errors.messages}"


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
@pytest.mark.parametrize("role", ROLES)
def test_role_home_fits_a_phone_screen(page: Page, demo_server, role, screenshot_dir):
    home = log_in_as(page, demo_server, role)
    expect(page.get_by_role("heading", level=1)).to_have_text(home.heading)
    # Measure once the indicator's label has its final text, since that changes its width.
    expect(page.locator("#live-indicator")).to_have_attribute("data-state", "live", timeout=LIVE_TIMEOUT_MS)

    screenshot = screenshot_dir / f"{re.sub(r'[^a-z0-9]+', '-', role)}.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert_no_horizontal_overflow(page, f"{role}'s home page {home.path} (screenshot: {screenshot})")


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
@pytest.mark.parametrize("path", ["/", "/login"])
def test_anonymous_pages_fit_a_phone_screen(page: Page, path):
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_no_horizontal_overflow(page, f"the anonymous page {path}")


def test_wrong_password_shows_error_and_stays_on_login(page: Page, demo_server):
    log_in(page, demo_server.logins["ops"], demo_server.password + "-wrong")

    expect(page.get_by_role("alert")).to_contain_text("Wrong e-mail or password.")
    assert current_path(page) == "/login", f"a wrong password left /login for {page.url}"
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    expect(page.locator("#live-indicator")).to_have_count(0)
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
    # Nothing was logged in behind the error: `/` is still the anonymous landing page.
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text(LANDING_HEADING)


def test_logout_returns_to_login_then_landing(page: Page, demo_server):
    home = log_in_as(page, demo_server, "expert")
    expect(page.get_by_role("heading", level=1)).to_have_text(home.heading)

    page.get_by_role("button", name="Log out").click()

    expect(page).to_have_url(path_is("/login"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
    page.goto("/")
    expect(page).to_have_url(path_is("/"))
    expect(page.get_by_role("heading", level=1)).to_have_text(LANDING_HEADING)
    expect(page.locator("#live-indicator")).to_have_count(0)
    expect(page.get_by_role("navigation").get_by_role("link", name="Log in")).to_be_visible()
    # The session really ended: the old home page now asks to log in again.
    page.goto(home.path)
    expect(page).to_have_url(re.compile(r"/login(\?.*)?$"))


def test_language_choice_is_remembered_anonymously(page: Page):
    page.goto("/login")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "en")

    page.get_by_role("button", name="Français").click()

    expect(html).to_have_attribute("lang", "fr")
    assert current_path(page) == "/login", f"choosing a language should come back to /login, not {page.url}"
    expect(page.get_by_role("button", name="Français")).to_have_attribute("aria-current", "true")
    page.reload()
    expect(html, "the French choice was forgotten after a reload").to_have_attribute("lang", "fr")
    page.goto("/")
    expect(html, "the French choice was forgotten on another page").to_have_attribute("lang", "fr")

    page.get_by_role("button", name="English").click()
    expect(html).to_have_attribute("lang", "en")
    page.reload()
    expect(html).to_have_attribute("lang", "en")


def test_language_choice_is_remembered_for_a_logged_in_user(page: Page, browser, viewport, demo_server):
    """A logged-in user's choice is stored on the account, so it follows them to a fresh browser."""
    role = "brand viewer"
    log_in_as(page, demo_server, role)
    html = page.locator("html")
    try:
        page.get_by_role("button", name="Français").click()
        expect(html).to_have_attribute("lang", "fr")
        assert current_path(page) == HOMES[role].path, f"choosing a language left the page for {page.url}"
        page.reload()
        expect(html, "the French choice was forgotten after a reload").to_have_attribute("lang", "fr")

        fresh = browser.new_context(base_url=demo_server.url, **viewport.context_options())
        try:
            other = fresh.new_page()
            log_in(other, demo_server.logins[role], demo_server.password)
            expect(other).to_have_url(path_is(HOMES[role].path))
            expect(other.locator("html"), "the account did not remember French").to_have_attribute("lang", "fr")
        finally:
            fresh.close()
    finally:
        # Put the account back to English so no other test sees French pages.
        page.get_by_role("button", name="English").click()
        expect(html).to_have_attribute("lang", "en")
