"""A new brand's first admin sets up the chat program in a real browser and watches a chat reach the dashboard.

The brand, its admin and one approved expert are created with the app's services in the demo server's own
database, as the command line would; everything else is done through the pages: the program (hours,
service level), a rate typed the French way, the caps, the quiz, the widget's allowed site and its snippet.
The snippet then goes on a page of another origin (another port on loopback), a visitor starts a chat there,
and the admin's dashboard, never reloaded, counts it waiting and then under way.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import uuid
import zoneinfo
from dataclasses import dataclass

import pytest
from babel.dates import format_date
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.test_chat import accept_the_offer, visitor_starts_chat
from tests.browser.test_demo_logins import log_in, path_is
from tests.browser.test_expert_journey import new_page
from tests.conftest import PROJECT_ROOT, TEST_SECRET

pytestmark = pytest.mark.browser

PASSWORD = "console-password-2026"  # noqa: S105 - a throwaway account on the test's own database
TIMEZONE = "Europe/Paris"  # create_brand's default, which the seed keeps
QUIZ = """Which bulb lasts longest?
* LED
- Halogen
- Incandescent

What does IP44 mean for a lamp?
* Protected against splashes
- Dimmable"""


@dataclass(frozen=True)
class NewBrand:
    name: str
    slug: str
    admin_email: str
    expert_email: str


def seed(database_url: str, ops_email: str, brand: dict) -> None:
    """Run in a subprocess on the demo server's database: a fresh brand, its first admin, an approved expert."""
    from marketplace import create_app
    from marketplace.accounts import services as accounts
    from marketplace.accounts.models import Role
    from marketplace.brands import services as brands
    from marketplace.brands.models import BrandRole
    from marketplace.experts import enrolments, vetting
    from marketplace.experts import services as experts

    app = create_app(environ={**os.environ, "DATABASE_URL": database_url})
    with app.app_context():
        created = brands.create_brand(None, brand["name"], slug=brand["slug"], timezone=TIMEZONE)
        admin = accounts.create_user(brand["admin_email"], PASSWORD, "Ada Admin", Role.BRAND, actor=None)
        brands.add_member(None, created.id, admin.id, BrandRole.ADMIN)
        expert = experts.sign_up_expert(brand["expert_email"], PASSWORD, "Noor Haddad", "Noor", profile={
            "country": "FR", "phone": "+33 6 22 33 44 55", "languages": ["fr", "en"], "skills": ["lighting"],
            "bio": "Lighting designer.", "motivation": "I light shops and homes for a living."})
        vetting.decide(accounts.find_user_by_email(ops_email), experts.own_profile(expert).id, "approve")
        enrolment = enrolments.apply_to_brands(expert, [created.id])[0]  # no quiz yet: straight to the brand
        enrolments.decide_enrolment(admin, created.id, enrolment.id, "approve")


def demo_database_url(request, demo_server) -> str:
    """The SQLite file `demo_server` (tests/conftest.py) serves, found next to the log naming its address."""
    base = request.config._tmp_path_factory.getbasetemp()  # noqa: SLF001 - pytest's own tmp_path_factory
    for log in base.glob("demo*/server.log"):
        if demo_server.url in log.read_text(errors="replace"):
            return f"sqlite:///{log.parent / 'demo.db'}"
    raise AssertionError(f"no demo server log under {base} names {demo_server.url}")


@pytest.fixture
def new_brand(request, demo_server) -> NewBrand:
    tag = uuid.uuid4().hex[:6]
    brand = NewBrand(name="Atelier Nord", slug=f"atelier-nord-{tag}", admin_email=f"ada-{tag}@atelier.example.com",
                     expert_email=f"noor-{tag}@example.com")
    env = {**os.environ, "SECRET_KEY": TEST_SECRET, "MARKETPLACE_ENV": "development"}
    script = ("import json, sys; from tests.browser.test_brand_console import seed; "
              "seed(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]))")
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-c", script, demo_database_url(request, demo_server), demo_server.logins["ops"],
         json.dumps(brand.__dict__)], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return brand


def success(page: Page, text: str) -> None:
    expect(page.get_by_text(text, exact=True)).to_be_visible()


def figure(page: Page, label: str) -> Locator:
    """The number shown above a dashboard figure's label."""
    return page.locator(".figure").filter(has=page.get_by_text(label, exact=True)).locator(".figure__value")


def expert_goes_online(browser: Browser, demo_server, email: str, errors: list[str]) -> Page:
    expert = new_page(browser, demo_server, PHONE, errors)
    log_in(expert, email, PASSWORD)
    expert.goto("/expert")
    expert.get_by_role("button", name="Go online", exact=True).click()
    expect(expert.get_by_test_id("presence-status")).to_have_text("Online")
    expert.goto("/expert/chats")
    expect(expert.locator("#live-indicator")).to_have_attribute("data-state", "live")
    return expert


def test_a_new_brand_admin_sets_up_the_program_and_sees_the_first_chat_live(browser, demo_server, new_brand, site):
    errors: list[str] = []
    console = f"/brands/{new_brand.slug}"
    admin = new_page(browser, demo_server, DESKTOP, errors)
    admin.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=demo_server.url)
    log_in(admin, new_brand.admin_email, PASSWORD)
    expect(admin).to_have_url(path_is(console))
    lang = admin.locator("html").get_attribute("lang")

    # The program: open every day around the clock (typed per day), a stricter service level, two topics.
    admin.goto(f"{console}/program")
    expect(admin.get_by_role("heading", level=1)).to_have_text("Program · Atelier Nord")
    admin.get_by_label("Topics visitors choose from (one per line, optional)").fill("Choosing a lamp\nDelivery")
    admin.get_by_label("Open around the clock").uncheck()
    days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    for day in days:
        admin.get_by_label(day, exact=True).fill("00:00-24:00")
    admin.get_by_label("Closed on the public holidays of").select_option(label="No public holidays")
    admin.get_by_label("Share of chats answered within the target (%)").fill("90")
    admin.get_by_label("Target for the first reply (seconds)").fill("30")
    admin.get_by_role("button", name="Save the program").click()
    success(admin, "The program is saved; it applies to the next chat.")
    expect(admin.get_by_label("Open around the clock")).not_to_be_checked()
    for day in days:  # midnight to midnight, however the page writes the end of the day
        expect(admin.get_by_label(day, exact=True)).to_have_value(re.compile(r"^00:00-(24:00|00:00)$"))
    expect(admin.get_by_label("Share of chats answered within the target (%)")).to_have_value("90")
    expect(admin.get_by_label("Target for the first reply (seconds)")).to_have_value("30")

    # The rate card: a new price from tomorrow, typed with a decimal comma.
    tomorrow = dt.datetime.now(zoneinfo.ZoneInfo(TIMEZONE)).date() + dt.timedelta(days=1)
    admin.goto(f"{console}/rates")
    admin.get_by_label("In effect from").fill(tomorrow.isoformat())
    admin.get_by_label("Price per answered chat").fill("2,50")
    admin.get_by_role("button", name="Schedule the rate").click()
    success(admin, f"The new rate is scheduled from {format_date(tomorrow, 'full', locale=lang)}.")
    scheduled = admin.get_by_test_id("rate-history").get_by_role("listitem").filter(has_text="€2.50")
    expect(scheduled).to_have_count(1)
    expect(scheduled).to_contain_text(f"From {format_date(tomorrow, 'long', locale=lang)}")
    expect(scheduled).to_contain_text("scheduled")

    # The caps: at most five chats at once and a monthly budget.
    admin.goto(f"{console}/caps")
    admin.get_by_label("Most chats at once").fill("5")
    admin.get_by_label("Monthly budget").fill("500")
    admin.get_by_role("button", name="Save the caps").click()
    success(admin, "The caps are saved: they apply to the next chat.")
    usage = admin.get_by_test_id("cap-usage")
    expect(usage.get_by_role("listitem").filter(has_text="Chats at once")).to_contain_text("0 of 5")
    expect(usage.get_by_role("listitem").filter(has_text="Spent this month")).to_contain_text("of €500.00")
    expect(admin.get_by_label("Most chats at once")).to_have_value("5")

    # The quiz experts will take.
    admin.goto(f"{console}/quiz")
    admin.get_by_label("Questions").fill(QUIZ)
    admin.get_by_role("button", name="Save the quiz").click()
    success(admin, "The quiz is saved. Attempts begun on the old questions must start again.")
    expect(admin.get_by_text("2 question(s), version 1.")).to_be_visible()
    expect(admin.get_by_label("Questions")).to_have_value(QUIZ)

    # The widget: allow the brand's site, then copy the snippet with the page's own button.
    admin.goto(f"{console}/widget")
    admin.get_by_label("Sites that may show the chat (one origin per line)").fill(site.origin)
    admin.get_by_role("button", name="Save", exact=True).click()
    success(admin, "The chat settings are saved.")
    expect(admin.get_by_label("Sites that may show the chat (one origin per line)")).to_have_value(site.origin)
    # The clipboard takes text from the focused page only (the admin's tab is in front: other pages of the test
    # opened since may hold the focus).
    admin.bring_to_front()
    admin.get_by_role("button", name="Copy", exact=True).click()
    expect(admin.get_by_role("status").filter(has_text="Copied.")).to_be_visible()
    snippet = admin.evaluate("navigator.clipboard.readText()")
    assert snippet == admin.get_by_test_id("widget-snippet").input_value()
    assert f'src="{demo_server.url}/widget.js"' in snippet and "data-key=" in snippet, snippet
    shop = site.publish(snippet)

    # The brand's approved expert is online on her phone; the admin opens the dashboard once.
    expert = expert_goes_online(browser, demo_server, new_brand.expert_email, errors)
    admin.goto(f"{console}/dashboard")
    expect(admin.get_by_role("heading", level=1)).to_have_text("Dashboard · Atelier Nord")
    expect(admin.locator("#live-indicator")).to_have_attribute("data-state", "live")
    expect(figure(admin, "Visitors waiting")).to_have_text("0")
    expect(figure(admin, "Chats under way")).to_have_text("0")
    expect(figure(admin, "Experts online")).to_have_text("1")
    expect(figure(admin, "Chats let in")).to_have_text("0")
    expect(admin.get_by_test_id("service-level")).to_contain_text("first reply within 30 s")
    expect(admin.get_by_test_id("service-level")).to_contain_text("target 90%")
    caps = admin.get_by_test_id("dashboard-caps").get_by_role("listitem")
    expect(caps.filter(has_text="Chats at once")).to_contain_text("0 of 5")
    admin.evaluate("window.__notReloaded = true")

    # A visitor on the brand's site starts a chat: the dashboard counts it waiting, by itself.
    visitor, frame = visitor_starts_chat(browser, demo_server, shop, errors)
    expect(frame.get_by_test_id("queue-status")).to_be_visible()
    expect(figure(admin, "Visitors waiting")).to_have_text("1")
    expect(figure(admin, "Chats let in")).to_have_text("1")
    expect(figure(admin, "Chats under way")).to_have_text("0")

    # The expert accepts: the chat is under way, and nobody waits any more.
    accept_the_offer(expert)
    expect(expert.get_by_test_id("chat-input")).to_be_enabled()
    expect(frame.get_by_test_id("queue-status")).to_contain_text("Noor")
    expect(figure(admin, "Chats under way")).to_have_text("1")
    expect(figure(admin, "Visitors waiting")).to_have_text("0")
    expect(caps.filter(has_text="Chats at once")).to_contain_text("1 of 5")
    assert admin.evaluate("window.__notReloaded === true"), "the dashboard reloaded instead of updating in place"
    assert errors == []
