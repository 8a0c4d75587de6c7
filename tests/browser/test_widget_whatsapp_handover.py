""""Continue on WhatsApp" in the widget: once the brand's WhatsApp number is known, the visitor's chat offers a wa.me
link whose prefilled message carries the chat's code; sent from WhatsApp, it makes the web visitor and the WhatsApp
customer one contact of the brand, which its Contacts tab shows with the phone and both chats.

On a demo of its own: the chats it leaves waiting would otherwise be offered to the experts of the shared demo's
later tests."""

from __future__ import annotations

import random
import re
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP
from tests.browser.test_chat import serving_shop, visitor_starts_chat
from tests.browser.test_demo_logins import log_in
from tests.browser.test_expert_journey import new_page
from tests.browser.test_whatsapp import customer_writes
from tests.conftest import running_demo

pytestmark = pytest.mark.browser
CHANNELS = "/brands/maison-lumiere/channels"


@pytest.fixture(scope="module")
def own_demo(tmp_path_factory):
    with running_demo(tmp_path_factory.mktemp("demo-handover")) as server:
        yield server


@pytest.fixture(scope="module")
def shop(own_demo, tmp_path_factory):
    with serving_shop(own_demo, tmp_path_factory.mktemp("shop")) as address:
        yield address


def test_the_widget_links_to_whatsapp_and_the_code_makes_one_contact(browser, own_demo, shop):
    demo_server = own_demo
    errors: list[str] = []
    admin = new_page(browser, demo_server, DESKTOP, errors)
    log_in(admin, demo_server.logins["brand admin"], demo_server.password)
    # A number of the brand whose display number the admin gives (the demo's own may not be known).
    admin.goto(CHANNELS)
    account_id = f"10654{random.randrange(10**9):09d}"  # noqa: S311 - a made-up id, new at each run
    admin.get_by_label("App", exact=True).select_option("whatsapp")
    admin.get_by_label("WhatsApp: phone number ID", exact=True).fill(account_id)
    admin.get_by_label("WhatsApp: the number itself (optional)").fill("+33 1 80 00 00 42")
    admin.get_by_label("Access token", exact=True).fill("EAAG-browser-test-token")
    admin.get_by_label("App secret", exact=True).fill(uuid.uuid4().hex)
    admin.get_by_label("Verify token", exact=True).fill(uuid.uuid4().hex)
    admin.get_by_role("button", name="Connect", exact=True).click()
    mine = admin.locator(f"[data-channel]:has(h3:text-is('WhatsApp · {account_id}'))")
    expect(mine.get_by_test_id("display-number")).to_have_text("+33180000042")
    known = [text.strip() for text in admin.get_by_test_id("display-number").all_inner_texts()
             if text.strip().startswith("+")]
    digits = known[0].removeprefix("+")  # the widget links to the brand's first number with a known display number

    try:
        _, frame = visitor_starts_chat(browser, demo_server, shop, errors)
        link = frame.get_by_test_id("continue-on-whatsapp")
        expect(link).to_be_visible()
        expect(link).to_have_attribute("href", re.compile(rf"^https://wa\.me/{digits}\?text=[^&]+$"))
        expect(link).to_have_attribute("target", "_blank")
        text = parse_qs(urlsplit(link.get_attribute("href")).query)["text"][0]
        code = re.search(r"My code: (\d+)-[A-Z2-7]{12}$", text)
        assert code, text

        # The visitor sends it from WhatsApp (the demo's phone page, to the brand's number).
        customer = f"3362{random.randrange(10**7):07d}"  # noqa: S311 - a made-up number, new at each run
        customer_writes(demo_server, customer, text)
        admin.goto(f"/brands/maison-lumiere/contacts?q={customer}")
        row = admin.get_by_test_id("contact-row")
        expect(row).to_have_count(1)
        expect(row.get_by_test_id("contact-phone")).to_have_text(f"+{customer}")
        row.get_by_test_id("contact-label").click()
        channels = admin.get_by_test_id("conversation-channel")
        expect(channels).to_have_count(2)
        assert sorted(channels.all_inner_texts()) == ["Web chat", "WhatsApp"]
        expect(admin.locator(f"[data-conversation-id='{code.group(1)}']")).to_have_count(1)
    finally:
        admin.goto(CHANNELS)
        admin.locator(f"[data-channel]:has(h3:text-is('WhatsApp · {account_id}'))").get_by_role(
            "link", name="Disconnect").click()
        admin.get_by_role("button", name="Yes, disconnect it").click()
        expect(admin.locator(f"h3:text-is('WhatsApp · {account_id}')")).to_have_count(0)
    assert errors == []
