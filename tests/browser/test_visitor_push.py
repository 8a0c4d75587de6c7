"""A visitor turns notifications on from the widget in the brand's frame, leaves mid-chat, and the expert's reply
reaches their browser as a push that reopens the conversation (issue 18: Web Push for visitors).

Chromium here cannot subscribe for real: headless, an off-the-record context answers pushManager.subscribe with
"permission denied", and a persistent one waits forever for Google's push service, out of reach without internet.
So the browser's pushManager is replaced by a stand-in answering what a browser would (an endpoint at the fake push
service on loopback, and keys the test holds); everything else is real: the opt-in page opened from the frame, the
permission granted to our origin, the site's service worker registered, the subscription sent and stored, the demo
server pushing the reply to the push service, encrypted for those keys, and the resume link it carries.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import http_ece
import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import DESKTOP
from tests.browser.test_chat import (
    accept_the_offer,
    expert_online_on_chats,
    expert_says,
    serving_shop,
    visitor_says,
    visitor_starts_chat,
)
from tests.browser.test_expert_journey import new_page
from tests.conftest import free_port, running_demo
from tests.notifications.conftest import BrowserKeys, PushService, browser_keys, push_service  # noqa: F401

pytestmark = pytest.mark.browser

VISITOR_GRACE_SECONDS = 20  # the least the settings allow: the visitor's page is gone this long after it closes

# The browser's push subscription, as a stand-in: what pushManager.subscribe would answer, and the key it was given.
STAND_IN = """
(() => {
  const answer = %s;
  window.pushKeysGiven = [];
  if (!window.PushManager) { return; }
  let current = null;
  PushManager.prototype.getSubscription = function () { return Promise.resolve(current); };
  PushManager.prototype.subscribe = function (options) {
    const bytes = new Uint8Array(options.applicationServerKey);
    window.pushKeysGiven.push(btoa(String.fromCharCode.apply(null, bytes))
      .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, ""));
    current = { endpoint: answer.endpoint, toJSON: () => ({ endpoint: answer.endpoint, expirationTime: null,
                                                           keys: answer.keys }) };
    return Promise.resolve(current);
  };
})();
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[object]:
    folder = tmp_path_factory.mktemp("demo-push")
    port = free_port()
    settings = {"VISITOR_GRACE_SECONDS": str(VISITOR_GRACE_SECONDS), "PUBLIC_URL": f"http://127.0.0.1:{port}"}
    with running_demo(folder, settings, port) as running:
        yield running


@pytest.fixture(scope="module")
def shop(server, tmp_path_factory) -> Iterator[str]:
    with serving_shop(server, tmp_path_factory.mktemp("shop-push")) as address:
        yield address


def test_a_visitor_who_turned_notifications_on_gets_the_reply_as_a_push_that_reopens_the_chat(
        browser: Browser, server, shop: str, push_service: PushService, browser_keys: BrowserKeys):  # noqa: F811
    errors: list[str] = []
    expert = expert_online_on_chats(browser, server, errors)
    visitor, frame = visitor_starts_chat(browser, server, shop, errors)
    visitor_says(frame, "Does the Arco lamp come in brass?")
    accept_the_offer(expert)

    # The visitor asks to be notified: the frame cannot ask the browser, so our page opens at the top and asks.
    visitor.context.grant_permissions(["notifications"], origin=server.url)
    visitor.context.add_init_script(STAND_IN % json.dumps(
        {"endpoint": push_service.url("/visitor-browser"), "keys": {"p256dh": browser_keys.p256dh,
                                                                     "auth": browser_keys.auth}}))
    box = frame.get_by_test_id("push-box")
    expect(box).to_be_visible()
    public_key = box.get_attribute("data-push-key")
    with visitor.context.expect_page() as opened:
        frame.get_by_test_id("push-opt-in").click()
    opt_in = opened.value
    opt_in.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    assert "/notify?t=" in opt_in.url and "X-Visitor-Token" not in opt_in.url
    opt_in.wait_for_load_state()  # a tap before the page's script has loaded does nothing (a loaded CI run did that)
    opt_in.get_by_test_id("push-allow").click()
    expect(opt_in.get_by_test_id("push-done")).to_be_visible()
    assert opt_in.evaluate("Notification.permission") == "granted"
    assert opt_in.evaluate("window.pushKeysGiven") == [public_key]  # subscribed with the site's VAPID key
    assert opt_in.evaluate("navigator.serviceWorker.getRegistration('/').then((r) => r && r.scope)") == \
        server.url + "/"
    # The widget in the frame learns it from the conversation, pushed to it by the server.
    expect(frame.get_by_test_id("push-enabled")).to_be_visible()
    expect(frame.get_by_test_id("push-opt-in")).to_be_hidden()

    visitor.context.close()  # the visitor leaves mid-chat, with no address given: the browser is their way back
    chat = expert.get_by_test_id("chat-item").first
    expect(chat).to_contain_text("Away", timeout=(VISITOR_GRACE_SECONDS + 30) * 1000)
    expert_says(expert, "Yes: brass, chrome and matt black.")

    [received] = push_service.wait_for(1, timeout=30)
    assert received.path == "/visitor-browser"
    payload = json.loads(http_ece.decrypt(received.body, private_key=browser_keys.private_key,
                                          auth_secret=browser_keys.auth_secret, version="aes128gcm"))
    assert payload["body"] == "Yes: brass, chrome and matt black."
    assert "replied to you" in payload["title"]

    # What the service worker opens on a click: the conversation, whole, in a fresh browser; the visitor writes.
    elsewhere = new_page(browser, server, DESKTOP, errors)
    elsewhere.goto(payload["url"])
    history = elsewhere.get_by_test_id("messages")
    for said in ("Does the Arco lamp come in brass?", "brass, chrome and matt black"):
        expect(history).to_contain_text(said)
    elsewhere.get_by_test_id("message-input").fill("Brass, please.")
    elsewhere.get_by_test_id("send-message").click()
    expect(expert.get_by_test_id("chat-messages")).to_contain_text("Brass, please.")
    assert len(push_service.received) == 1  # the visitor is back: nothing more was pushed
    assert errors == []


def test_a_forged_opt_in_link_gets_a_friendly_page(browser: Browser, server):
    errors: list[str] = []
    page = new_page(browser, server, DESKTOP, errors)
    response = page.goto("/widget/pk_nope/notify?t=n1-abc-" + "a" * 26)
    assert response.status == 404
    expect(page.get_by_test_id("resume-invalid")).to_be_visible()
