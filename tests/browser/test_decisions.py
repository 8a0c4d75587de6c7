"""An expert turned away for missed offers reads why on their phone, asks for a human review, an ops user answers
in the review queue, and the expert reads the answer: on a demo of its own where one missed offer turns an expert
away (PRESENCE_MISSED_OFFERS_AWAY=1) and the brand's offers expire after 6 seconds."""

from __future__ import annotations

import re
import secrets

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.test_chat import widget_key
from tests.browser.test_demo_logins import log_in
from tests.browser.test_expert_journey import new_page
from tests.conftest import csrf_token_from, running_demo

pytestmark = pytest.mark.browser

OFFER_SECONDS = 6


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_demo(tmp_path_factory.mktemp("demo-decisions"), {"PRESENCE_MISSED_OFFERS_AWAY": "1"}) as demo:
        yield demo


def brand_admin_sets_a_short_offer_timeout(server) -> None:
    http = requests.Session()
    token = csrf_token_from(http.get(f"{server.url}/login", timeout=10).text)
    http.post(f"{server.url}/login", timeout=10, data={
        "email": server.logins["brand admin"], "password": server.password, "csrf_token": token})
    csrf = csrf_token_from(http.get(f"{server.url}/login", timeout=10).text)
    brands = http.get(f"{server.url}/api/v1/brands", timeout=10).json()
    brand_id = next(brand["id"] for brand in brands if brand["slug"] == "maison-lumiere")
    changed = http.patch(f"{server.url}/api/v1/brands/{brand_id}/program", timeout=10,
                         json={"offer_timeout_seconds": OFFER_SECONDS}, headers={"X-CSRFToken": csrf})
    assert changed.status_code == 200, changed.text[:300]


def test_an_expert_turned_away_reads_why_asks_for_review_and_reads_the_answer(browser, server):
    errors: list[str] = []
    brand_admin_sets_a_short_offer_timeout(server)
    expert = new_page(browser, server, PHONE, errors)
    log_in(expert, server.logins["expert"], server.password)
    expert.goto("/expert")
    expect(expert.locator("#live-indicator")).to_have_attribute("data-state", "live")
    switch = expert.get_by_test_id("presence-switch")
    if switch.get_attribute("aria-checked") != "true":
        switch.click()
    expect(expert.get_by_test_id("status-bar")).to_have_attribute("data-presence", "available")

    # A visitor arrives; the expert lets the offer run out, and the system turns them away.
    key, token = widget_key(server), secrets.token_urlsafe(32)
    started = requests.post(f"{server.url}/api/widget/{key}/conversations", timeout=10, json={},
                            headers={"X-Visitor-Token": token})
    assert started.status_code == 201, started.text[:300]
    try:
        expect(expert.get_by_test_id("offer").first).to_be_visible()
        expect(expert.get_by_test_id("status-bar")).to_have_attribute("data-presence", "away",
                                                                       timeout=(OFFER_SECONDS + 20) * 1000)
        expect(expert.get_by_test_id("presence-label")).to_have_text("Paused after missed offers")

        # Why, on their phone, one tap from the status bar: the decision with its reason and the limit in force.
        expert.get_by_test_id("presence-why").click()
        expect(expert).to_have_url(re.compile(r"/expert/decisions$"))
        decision = expert.get_by_test_id("decision").first
        expect(decision).to_have_attribute("data-reason", "missed_offers")
        expect(decision.get_by_test_id("decision-reason")).to_contain_text("the limit is 1")
        decision.get_by_test_id("ask-review").click()
        expect(expert).to_have_url(re.compile(r"/expert/decisions/\d+/review$"))
        expert.get_by_label("Your comment (optional)").fill("My phone was in my bag; the chime did not ring.")
        expert.get_by_test_id("send-review").click()
        review = expert.get_by_test_id("decision").first.get_by_test_id("review")
        expect(review).to_have_attribute("data-status", "open")
        expect(review).to_contain_text("the chime did not ring")
        expect(review).to_contain_text("A person will answer by")

        # Ops answer it in the queue, in writing.
        ops = new_page(browser, server, DESKTOP, errors)
        log_in(ops, server.logins["ops"], server.password)
        ops.goto("/ops/")
        ops.get_by_role("link", name="Reviews").click()
        queued = ops.get_by_test_id("queued-review").filter(has_text="the chime did not ring")
        expect(queued).to_have_attribute("data-overdue", "no")
        queued.get_by_label("Your written answer (the expert will read it)").fill(
            "We checked: the offer did expire unanswered. Set a louder sound; this does not count against you.")
        queued.get_by_test_id("send-answer").click()
        expect(ops.locator(".flash--success")).to_contain_text("Your answer is sent")

        # The expert is told, and reads the answer on the decision.
        expert.goto("/expert/decisions")
        answered = expert.get_by_test_id("decision").first.get_by_test_id("review")
        expect(answered).to_have_attribute("data-status", "answered")
        expect(answered.get_by_test_id("review-answer")).to_have_text(
            "We checked: the offer did expire unanswered. Set a louder sound; this does not count against you.")
    finally:
        requests.post(f"{server.url}/api/widget/{key}/conversations/{started.json()['id']}/leave",
                      headers={"X-Visitor-Token": token}, timeout=10)
    assert errors == []
