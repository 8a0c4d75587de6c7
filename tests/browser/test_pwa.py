"""On a phone, the expert app is installable: its manifest loads and its service worker controls the whole site."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_demo_logins import log_in_as

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("viewport", ["phone"], indirect=True)]


def test_the_expert_app_has_a_manifest_and_a_service_worker_for_the_whole_site(page: Page, demo_server, page_errors):
    log_in_as(page, demo_server, "expert")

    manifest = page.evaluate("""async () => {
        const link = document.querySelector('link[rel="manifest"]');
        const response = await fetch(link.href, {credentials: 'include'});
        return {type: response.headers.get('content-type'), body: await response.json()};
    }""")
    assert manifest["type"].startswith("application/manifest+json")
    assert (manifest["body"]["start_url"], manifest["body"]["scope"], manifest["body"]["display"]) == (
        "/expert", "/", "standalone")
    assert {icon["sizes"] for icon in manifest["body"]["icons"]} >= {"192x192", "512x512"}

    worker = page.evaluate("""async () => {
        const registration = await navigator.serviceWorker.ready;
        return {scope: registration.scope, state: registration.active && registration.active.state,
                script: registration.active && registration.active.scriptURL};
    }""")
    assert worker["scope"] == demo_server.url + "/"
    assert worker["script"] == demo_server.url + "/service-worker.js"
    assert worker["state"] in ("activating", "activated")
    assert not page_errors.messages, f"JavaScript errors: {page_errors.messages}"


def test_the_push_opt_in_is_offered_on_the_expert_home(page: Page, demo_server, page_errors):
    log_in_as(page, demo_server, "expert")
    button = page.locator("[data-push-opt-in]")
    expect(button).to_be_visible()
    expect(button).to_have_text("Get notifications on this device")
    expect(page.locator("[data-push-status]")).to_contain_text("even when the app is closed")
    assert page.evaluate("typeof window.marketplacePush.enable") == "function"
    assert not page_errors.messages, f"JavaScript errors: {page_errors.messages}"


def test_without_network_a_page_falls_back_to_the_offline_page(page: Page, demo_server, context, page_errors):
    log_in_as(page, demo_server, "expert")
    page.evaluate("navigator.serviceWorker.ready")
    # The worker controls the page once it has claimed it; reload so this page is surely under it.
    page.reload()
    assert page.evaluate("navigator.serviceWorker.controller !== null")

    context.set_offline(True)
    try:
        # Chromium's offline emulation reaches a service worker only once Playwright has attached to it: a worker the
        # browser stopped while idle and starts again for this navigation may fetch before that
        # (microsoft/playwright#2311), and the real page comes back (seen once in CI). The next navigation is
        # offline: go again, as a person would, and judge that one.
        for _ in range(3):
            page_errors.messages.clear()
            page.goto("/expert")
            if page.get_by_role("heading", level=1).inner_text() == "You are offline":
                break
        expect(page.get_by_role("heading", level=1)).to_have_text("You are offline")
        # Its styles and script came from the worker's cache too.
        assert page.evaluate("getComputedStyle(document.querySelector('.card')).borderRadius") == "12px"
        assert page.evaluate("typeof window.marketplacePush") == "object"
        assert page.url == demo_server.url + "/expert"  # the offline page stands in at the address that failed
        assert not page_errors.messages, f"JavaScript errors: {page_errors.messages}"
    finally:
        context.set_offline(False)
