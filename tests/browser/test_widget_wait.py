"""The widget tells a waiting visitor the truth: no made-up wait, and when no expert can take the chat, says so.

The server's answers are the real ones, with `no_expert_available` and `estimated_wait_seconds` set by the test
as the server would set them (the page's HTTP calls pass through Playwright; its socket library is left out, so
the widget asks over HTTP, as it does wherever the socket cannot load). Vélo Rapide has no approved expert, so
no real offer ever takes the chat away.
"""

from __future__ import annotations

import json
import re

import pytest
import requests
from playwright.sync_api import Route, expect

from tests.browser.conftest import PHONE
from tests.browser.test_expert_journey import new_page
from tests.conftest import csrf_token_from

pytestmark = pytest.mark.browser

CHANGE_SHOWN_MS = 10_000  # a change in the wait reaches the visitor within 10 s


def velo_rapide_widget_key(demo_server) -> str:
    http = requests.Session()
    token = csrf_token_from(http.get(f"{demo_server.url}/login", timeout=10).text)
    http.post(f"{demo_server.url}/login", timeout=10, data={
        "email": demo_server.logins["brand admin (Vélo Rapide)"], "password": demo_server.password,
        "csrf_token": token})
    page = http.get(f"{demo_server.url}/brands/velo-rapide/widget", timeout=10)
    assert page.status_code == 200, page.text[:300]
    return re.search(r"pk_[A-Za-z0-9_-]{20,}", page.text).group(0)


def test_a_visitor_nobody_can_take_is_told_so_and_may_wait_or_leave_a_message(browser, demo_server):
    errors: list[str] = []
    wait = {"no_expert_available": True, "estimated_wait_seconds": None}

    def as_the_server_says(route: Route) -> None:
        answer = route.fetch()
        conversation = answer.json()
        if answer.ok and "status" in conversation:
            conversation.update(wait)
        route.fulfill(response=answer, body=json.dumps(conversation))

    visitor = new_page(browser, demo_server, PHONE, errors)
    visitor.route("**/static/vendor/socket.io.min.js",  # served empty: the library did not load
                  lambda route: route.fulfill(status=200, content_type="text/javascript", body=""))
    visitor.route(re.compile(r".*/api/widget/[^/]+/conversations(/\d+)?$"), as_the_server_says)
    visitor.goto(f"/widget/{velo_rapide_widget_key(demo_server)}")
    visitor.get_by_test_id("start-chat").click()

    status = visitor.get_by_test_id("queue-status")
    notice = visitor.get_by_test_id("no-expert-notice")
    expect(status).to_have_text("No expert can take your chat right now.")
    expect(notice).to_be_in_viewport()
    expect(notice.get_by_role("button", name="Leave a message")).to_be_visible()
    expect(visitor.get_by_test_id("leave-message-instead")).to_be_hidden()  # the notice offers it already

    # Keep waiting: the chat stays queued, the notice goes until the wait changes.
    notice.get_by_role("button", name="Keep waiting").click()
    expect(notice).to_be_hidden()
    expect(status).to_contain_text("Still waiting")
    expect(visitor.get_by_test_id("leave-message-instead")).to_be_visible()
    expect(visitor.get_by_test_id("message-input")).to_be_focused()

    # An expert could take it now, with no estimate: the place only, never a made-up wait.
    wait["no_expert_available"] = False
    expect(status).to_have_text("You are number 1 in the queue.", timeout=CHANGE_SHOWN_MS)
    wait["estimated_wait_seconds"] = 150
    expect(status).to_have_text("You are number 1 in the queue. Estimated wait: about 3 min.",
                                timeout=CHANGE_SHOWN_MS)

    # Nobody again: the notice is back, and it leads to leaving a message.
    wait.update(no_expert_available=True, estimated_wait_seconds=None)
    expect(notice).to_be_visible(timeout=CHANGE_SHOWN_MS)
    expect(status).not_to_contain_text("min")
    notice.get_by_role("button", name="Leave a message").click()
    expect(visitor.get_by_test_id("leave-message-intro")).to_contain_text("will answer by e-mail")
    expect(visitor.get_by_test_id("leave-message-email")).to_be_visible()

    visitor.get_by_test_id("back-to-chat").click()
    visitor.get_by_test_id("end-chat").click()  # leave the demo's queue as it was
    expect(visitor.get_by_test_id("skip-left-message")).to_be_visible()
    assert errors == [], errors
