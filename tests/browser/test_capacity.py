"""The capacity planner tried as a new user would: tomorrow's plan as charts, and an invitation in a surge.

A fresh brand that routes only to experts on a shift, its admin, and one approved expert who is off shift
are created with the app's services in the demo server's own database, with eight weeks of past chats at
the same quarter hours every day, so tomorrow's forecast is known in advance. The admin reads tomorrow's
plan (figures, the forecast's explanation, the two charts Chart.js drew, the table). Then a surge of
visitors arrives; the demo server's own scheduler runs the scaling loop (once a minute) and invites the
expert, whose phone, never reloaded, shows the invitation; she accepts, is online, and takes the chats.

The loop is not run in a subprocess: its live event would reach no phone, as the demo server has no
SOCKETIO_MESSAGE_QUEUE. So the test waits for the server's own run, up to a minute.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import secrets
import subprocess
import sys
import threading
import uuid
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from babel.dates import format_date
from playwright.sync_api import Page, expect

from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.test_brand_console import (
    PASSWORD,
    TIMEZONE,
    demo_database_url,
    figure,
    seed,
    success,
)
from tests.browser.test_chat import (
    accept_the_offer,
    expert_says,
    visitor_says,
    visitor_starts_chat,
)
from tests.browser.test_demo_logins import log_in, path_is
from tests.browser.test_expert_journey import new_page
from tests.conftest import PROJECT_ROOT, TEST_SECRET

pytestmark = pytest.mark.browser

HISTORY_DAYS = 56  # eight weeks: what the same-weekday average reads
HANDLE_SECONDS = 300
SURGE = 12  # visitors arriving within a minute, on top of nobody online
SCHEDULER_TICK = 60  # seconds between two runs of the demo server's scaling loop (capacity/jobs.py)
ZONE = zoneinfo.ZoneInfo(TIMEZONE)


@dataclass(frozen=True)
class Busy:
    """A quarter hour of the brand's local day that had `chats` arrivals every day of its history."""

    hour: int
    minute: int
    chats: int


@dataclass(frozen=True)
class PlannedBrand:
    name: str
    slug: str
    admin_email: str
    expert_email: str
    origin: str  # the brand's own site, where its widget may be shown
    busy: tuple[Busy, ...]

    @property
    def daily_chats(self) -> int:
        return sum(quarter.chats for quarter in self.busy)


def busy_quarters(now: dt.datetime) -> tuple[Busy, ...]:
    """Quarter hours at least three hours from now (the scaling loop must not want anyone before the surge),
    clear of the small hours a daylight-saving change skips or repeats."""
    hour = now.astimezone(ZONE).hour
    far = [h for h in range(6, 23) if min((h - hour) % 24, (hour - h) % 24) >= 3]
    first, second = far[0], next(h for h in far if h >= far[0] + 2)
    return Busy(first, 0, 4), Busy(first, 15, 6), Busy(second, 30, 2)


def seed_history(database_url: str, ops_email: str, spec: dict) -> None:
    """Run in a subprocess on the demo server's database: the brand and its people, then its past chats."""
    from marketplace import create_app
    from marketplace.accounts import services as accounts
    from marketplace.brands import program
    from marketplace.brands import services as brands
    from marketplace.database import utcnow
    from marketplace.experts import services as experts
    from marketplace.routing import history

    seed(database_url, ops_email, {key: spec[key] for key in ("name", "slug", "admin_email", "expert_email")})
    app = create_app(environ={**os.environ, "DATABASE_URL": database_url})
    with app.app_context():
        admin = accounts.find_user_by_email(spec["admin_email"])
        brand = program.update_program(admin, brands.get_brand_by_slug(admin, spec["slug"]).id, {
            "allow_unbooked_online": False, "widget_origins": [spec["origin"]]})
        expert = experts.own_profile(accounts.find_user_by_email(spec["expert_email"]))
        today = utcnow().astimezone(ZONE).date()
        chats = []
        for back in range(1, HISTORY_DAYS + 1):
            day = today - dt.timedelta(days=back)
            for quarter in spec["busy"]:
                start = dt.datetime.combine(day, dt.time(quarter["hour"], quarter["minute"]), ZONE)
                chats += [history.PastChat(start.astimezone(dt.UTC) + dt.timedelta(seconds=30 + 60 * n), expert.id,
                                           wait_s=20, handle_s=HANDLE_SECONDS, rating=5)
                          for n in range(quarter["chats"])]
        history.record_past_chats(brand.id, chats)


@pytest.fixture
def planned_brand(request, demo_server, site) -> PlannedBrand:
    tag = uuid.uuid4().hex[:6]
    brand = PlannedBrand(name="Lumen Atelier", slug=f"lumen-{tag}", admin_email=f"ines-{tag}@lumen.example.com",
                         expert_email=f"noor-{tag}@example.com", origin=site.origin,
                         busy=busy_quarters(dt.datetime.now(dt.UTC)))
    spec = {**brand.__dict__, "busy": [quarter.__dict__ for quarter in brand.busy]}
    env = {**os.environ, "SECRET_KEY": TEST_SECRET, "MARKETPLACE_ENV": "development"}
    script = ("import json, sys; from tests.browser.test_capacity import seed_history; "
              "seed_history(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]))")
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-c", script, demo_database_url(request, demo_server), demo_server.logins["ops"],
         json.dumps(spec)], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return brand


def widget_key(page: Page) -> str:
    """The brand's public key, as its admin reads it off the widget page."""
    return re.search(r'data-key="([^"]+)"', page.get_by_test_id("widget-snippet").input_value()).group(1)


@contextlib.contextmanager
def crowd(base_url: str, key: str, count: int) -> Iterator[list[int]]:
    """`count` visitors start a chat through the widget's API, as the widget would, and keep their page open
    (a status call every 10 s, well inside the server's grace) until they leave at the end."""
    api = f"{base_url}/api/widget/{key}/conversations"
    http = requests.Session()
    visitors = []
    for _ in range(count):
        token = secrets.token_hex(20)
        answer = http.post(api, json={"page_url": "https://lumen.example.com/lamps", "locale": "en"},
                           headers={"X-Visitor-Token": token}, timeout=10)
        assert answer.status_code == 201, answer.text[:300]
        assert answer.json()["status"] == "waiting", answer.json()
        visitors.append((token, answer.json()["id"]))
    stop = threading.Event()

    def stay_on_the_page() -> None:
        with requests.Session() as polling:
            while not stop.wait(10):
                for token, conversation_id in visitors:
                    polling.get(f"{api}/{conversation_id}", headers={"X-Visitor-Token": token}, timeout=10)

    thread = threading.Thread(target=stay_on_the_page, daemon=True)
    thread.start()
    try:
        yield [conversation_id for _, conversation_id in visitors]
    finally:
        stop.set()
        thread.join(timeout=15)
        for token, conversation_id in visitors:
            http.post(f"{api}/{conversation_id}/leave", headers={"X-Visitor-Token": token}, timeout=10)
        http.close()


def tomorrows_quarters(tomorrow: dt.date) -> list[dt.datetime]:
    """The local start of each real quarter hour of tomorrow, as the plan's rows run."""
    start = dt.datetime.combine(tomorrow, dt.time(), ZONE).astimezone(dt.UTC)
    end = dt.datetime.combine(tomorrow + dt.timedelta(days=1), dt.time(), ZONE).astimezone(dt.UTC)
    return [(start + n * dt.timedelta(minutes=15)).astimezone(ZONE)
            for n in range(int((end - start) / dt.timedelta(minutes=15)))]


CHART_DATA = """canvas => {
  const chart = window.Chart && window.Chart.getChart(canvas);
  if (!chart) { return null; }
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) { painted += 1; } }
  return {labels: chart.data.labels.length, painted: painted,
          datasets: chart.data.datasets.map(set => ({label: set.label, data: set.data}))};
}"""


def admin_reads_tomorrows_plan(admin: Page, brand: PlannedBrand) -> None:
    """The Planning tab, then Tomorrow: the figures, how the forecast is made, both charts, and the table."""
    console = f"/brands/{brand.slug}"
    tomorrow = dt.datetime.now(ZONE).date() + dt.timedelta(days=1)
    quarters = tomorrows_quarters(tomorrow)
    busy_rows = {quarters.index(dt.datetime.combine(tomorrow, dt.time(q.hour, q.minute), ZONE)): q
                 for q in brand.busy}
    admin.get_by_role("navigation", name="Brand console").get_by_role("link", name="Planning").click()
    expect(admin).to_have_url(path_is(f"{console}/planning"))
    days = admin.get_by_role("navigation", name="Day")
    expect(days.get_by_role("link", name="Today")).to_have_attribute("aria-current", "page")
    days.get_by_role("link", name="Tomorrow").click()
    expect(admin).to_have_url(re.compile(re.escape(f"{console}/planning?day={tomorrow.isoformat()}") + "$"))
    expect(days.get_by_role("link", name="Tomorrow")).to_have_attribute("aria-current", "page")
    lang = admin.locator("html").get_attribute("lang")
    expected = figure(admin, f"Chats expected on {format_date(tomorrow, 'full', locale=lang)}")
    expect(expected).to_have_text(str(brand.daily_chats))
    expect(admin.get_by_text(f"{HANDLE_SECONDS} s", exact=True)).to_be_visible()
    expect(admin.get_by_test_id("forecast-method")).to_contain_text(
        f"{HISTORY_DAYS} days of history: the average of the same weekday over the last 8 weeks")
    peak = int(admin.get_by_test_id("peak-required").inner_text())
    assert peak >= 1

    # The two charts, as Chart.js drew them: the forecast line holds the seeded quarters and nothing else.
    charts = {}
    for name in ("arrivals", "experts"):
        canvas = admin.locator(f"canvas[data-chart={name}]")
        expect(canvas).to_be_visible()
        admin.wait_for_function(f"() => window.Chart && window.Chart.getChart("
                                f"document.querySelector('canvas[data-chart={name}]'))")
        charts[name] = canvas.evaluate(CHART_DATA)
        assert charts[name]["labels"] == len(quarters), charts[name]
        assert charts[name]["painted"] > 1000, f"the {name} chart is blank"
    forecast = next(s["data"] for s in charts["arrivals"]["datasets"] if s["label"] == "Forecast")
    assert forecast == [float(busy_rows[i].chats) if i in busy_rows else 0.0 for i in range(len(quarters))]
    needed = next(s["data"] for s in charts["experts"]["datasets"] if s["label"] == "Experts needed")
    assert max(needed) == peak and all(needed[i] == 0 for i in range(len(quarters)) if i not in busy_rows)
    arrived = next(s["data"] for s in charts["arrivals"]["datasets"] if s["label"] == "Arrived")
    assert arrived == [None] * len(quarters), "tomorrow has no arrivals yet"

    # The same day as a table, for readers without the charts.
    admin.get_by_text("Show the day as a table", exact=True).click()
    table = admin.get_by_test_id("plan-table")
    expect(table).to_be_visible()
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(len(quarters))
    for index, quarter in busy_rows.items():
        cells = rows.nth(index).locator("td")
        expect(cells.nth(0)).to_have_text(f"{quarter.chats:.1f}")
        expect(cells.nth(1)).to_have_text("—")
        expect(cells.nth(2)).to_have_text(str(needed[index]))
    expect(rows.first.locator("td").first).to_have_text("0.0")  # midnight: nobody ever came then


def test_a_brand_reads_tomorrows_plan_and_an_off_shift_expert_answers_a_surge_invitation(
        browser, demo_server, planned_brand, site):
    brand, errors = planned_brand, []
    console = f"/brands/{brand.slug}"

    # The expert, off shift and offline, has the app open on her phone's home page.
    expert = new_page(browser, demo_server, PHONE, errors)
    log_in(expert, brand.expert_email, PASSWORD)
    expect(expert).to_have_url(path_is("/expert"))
    expect(expert.get_by_test_id("presence-status")).to_have_text("Offline")
    expect(expert.get_by_test_id("invitations-panel")).to_have_count(0)
    expect(expert.locator("#live-indicator")).to_have_attribute("data-state", "live")
    expert.evaluate("window.__notReloaded = true")

    # The admin puts the widget on the brand's site.
    admin = new_page(browser, demo_server, DESKTOP, errors)
    log_in(admin, brand.admin_email, PASSWORD)
    expect(admin).to_have_url(path_is(console))
    admin.goto(f"{console}/widget")
    shop = site.publish(admin.get_by_test_id("widget-snippet").input_value())

    # A surge: one visitor on the brand's site, then eleven more through the widget's API within seconds.
    _visitor, frame = visitor_starts_chat(browser, demo_server, shop, errors)
    expect(frame.get_by_test_id("queue-status")).to_be_visible()
    with crowd(demo_server.url, widget_key(admin), SURGE - 1):

        # Meanwhile the admin reads tomorrow's plan, reaching it through the console's own links.
        admin_reads_tomorrows_plan(admin, brand)

        # The scaling loop's next run sees the surge: the expert's phone shows the invitation by itself.
        invitation = expert.locator("[data-notification-list] .notification--new").filter(has_text=brand.name)
        expect(invitation).to_be_visible(timeout=(SCHEDULER_TICK + 15) * 1000)
        assert expert.evaluate("window.__notReloaded === true"), "the phone reloaded instead of updating live"
        expect(invitation.locator("a.notification__title")).to_have_attribute("href", "/expert/invitations")

        # The planner's decision is on the brand's plan for today.
        admin.get_by_role("navigation", name="Day").get_by_role("link", name="Today").click()
        decision = admin.get_by_test_id("decisions").get_by_role("listitem").first
        expect(decision).to_contain_text("1 invited")
        expect(decision).to_contain_text(re.compile(r"the last 15 minutes' \d+ arrivals"))

        # She follows the notification, accepts, and is online on her chats page.
        invitation.locator("a.notification__title").click()
        expect(expert).to_have_url(path_is("/expert/invitations"))
        panel = expert.get_by_test_id("invitations-panel")
        expect(panel).to_contain_text(brand.name)
        panel.get_by_role("button", name="Accept and go online").click()
        expect(expert).to_have_url(path_is("/expert/chats"))
        success(expert, "You are online for 60 minutes: chats come to you now.")
        expect(expert.locator("#live-indicator")).to_have_attribute("data-state", "live")

        # Chats come to her, oldest first: the visitor on the brand's site, then the rest of the surge.
        offers = expert.get_by_test_id("offer")
        expect(offers.first).to_contain_text(site.origin.removeprefix("http://"))
        accept_the_offer(expert)
        expect(expert.get_by_test_id("chat-messages")).to_be_visible()
        expect(expert.get_by_test_id("chat-input")).to_be_enabled()
        expect(frame.get_by_test_id("queue-status")).to_contain_text("Noor")
        visitor_says(frame, "Which bulb for a reading lamp?")
        expect(expert.get_by_test_id("chat-messages")).to_contain_text("Which bulb for a reading lamp?")
        expert_says(expert, "A warm white LED of about 2700 K.")
        expect(frame.get_by_test_id("messages").locator("[data-sender=expert]")).to_contain_text("2700 K")

        # The next offer interrupts the open chat in the banner; accepting it opens that chat.
        expect(offers.first).to_contain_text("lumen.example.com/lamps")
        accept_the_offer(expert)
        expect(expert.get_by_test_id("chat-item")).to_have_count(2)
    assert errors == []
