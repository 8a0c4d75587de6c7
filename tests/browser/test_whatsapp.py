"""WhatsApp in the demo: a customer's signed message becomes a chat an expert answers on their phone, the answer
reaches Meta (the demo's fake Graph server) and its delivery shows; a brand admin connects a number on the channel
page and sees its webhook address, never a secret.

The customer writes from the demo's phone page (`/dev/whatsapp`), which posts a signed webhook as Meta does and
lists what the fake Graph recorded as sent to that number.
"""

from __future__ import annotations

import json
import random
import re
import time
import uuid

import pytest
import requests
from playwright.sync_api import Page, expect

from marketplace import demo_whatsapp
from marketplace.routing.channels.signatures import SIGNATURE_HEADER, sign
from tests.browser.conftest import DESKTOP
from tests.browser.test_chat import accept_the_offer, expert_online_on_chats, expert_says
from tests.browser.test_demo_logins import log_in
from tests.browser.test_expert_journey import new_page
from tests.fake_graph import bodies
from tests.fake_graph.state import WhatsAppNumber

pytestmark = pytest.mark.browser


def customer_writes(demo_server, customer: str, text: str) -> None:
    """Write to the demo brand's number from the customer's phone page (a signed webhook to the app)."""
    phone = requests.Session()
    page = phone.get(f"{demo_server.url}/dev/whatsapp", timeout=10)
    assert page.status_code == 200, "the demo has no WhatsApp phone page:\n" + demo_server.output[-2000:]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    answer = phone.post(f"{demo_server.url}/dev/whatsapp",
                        data={"csrf_token": token, "customer": customer, "text": text}, timeout=10)
    assert answer.status_code == 200 and text in answer.text, answer.text[:500]
    assert "did not take the message" not in answer.text


def test_a_whatsapp_customer_is_answered_from_the_experts_phone_and_sees_the_answer(browser, demo_server):
    errors: list[str] = []
    customer = f"3361{random.randrange(10**7):07d}"  # noqa: S311 - a made-up number, new at each run
    question = f"Do you deliver lamps to Lyon? ({uuid.uuid4().hex[:6]})"
    expert = expert_online_on_chats(browser, demo_server, errors)
    assert "WhatsApp:" in demo_server.output and "/dev/whatsapp" in demo_server.output  # told at start-up

    customer_writes(demo_server, customer, question)
    accept_the_offer(expert, "WhatsApp")
    messages = expert.get_by_test_id("chat-messages")
    expect(messages).to_contain_text(question)
    expect(expert.get_by_test_id("chat-channel")).to_contain_text("WhatsApp")
    answer = f"Yes, in 3 to 5 working days. ({uuid.uuid4().hex[:6]})"
    expert_says(expert, answer)

    # Meta's statuses (sent, delivered, read) come back by webhook and show on the expert's message; once they
    # have, the answer went out (the phone page shows what was sent by the time it loads, it never refreshes).
    mine = messages.locator("[data-sender=expert]").filter(has_text=answer)
    expect(mine.locator(".message__state")).to_have_text("Read", timeout=15_000)

    # The fake Graph recorded it for this customer, as text.
    phone = new_page(browser, demo_server, DESKTOP, errors)
    phone.goto(f"/dev/whatsapp/{customer}")
    sent = phone.get_by_test_id("sent").filter(has_text=answer)
    expect(sent).to_have_count(1)
    assert (sent.get_attribute("data-to"), sent.get_attribute("data-kind")) == (customer, "text")
    expect(sent.get_by_test_id("sent-text")).to_have_text(answer)

    # Closed, so the tests after this one find Emma with her places free.
    expert.get_by_test_id("close-chat").click()
    expert.get_by_test_id("confirm-close").click()
    expect(expert.get_by_test_id("chat-input")).to_be_disabled()
    assert errors == []


def signed_delivery(demo_server, path: str, app_secret: str, body: dict) -> None:
    """Post a webhook to the demo as Meta would, signed with the account's app secret."""
    raw = json.dumps(body).encode()
    answer = requests.post(f"{demo_server.url}{path}", data=raw, timeout=10, headers={
        "Content-Type": "application/json", SIGNATURE_HEADER: sign(app_secret, raw)})
    assert answer.status_code == 200, answer.text


def close_the_chat(expert: Page) -> None:
    """Closed, so the tests after this one find Emma with her places free."""
    expert.get_by_test_id("close-chat").click()
    expert.get_by_test_id("confirm-close").click()
    expect(expert.get_by_test_id("chat-input")).to_be_disabled()


def test_past_the_24_hour_window_the_expert_sends_an_approved_template_from_the_phone(browser, demo_server):
    """A customer whose message is 25 hours old (Meta delivers late, or nobody answered in time): the composer says
    the window has closed and offers the number's approved templates in place of the free-text box; the one the
    expert fills in goes out through Graph as a template."""
    errors: list[str] = []
    customer = f"3362{random.randrange(10**7):07d}"  # noqa: S311 - a made-up number, new at each run
    question = f"Is the Arc lamp back in stock? ({uuid.uuid4().hex[:6]})"
    expert = expert_online_on_chats(browser, demo_server, errors)
    number = WhatsAppNumber(phone_number_id=demo_whatsapp.PHONE_NUMBER_ID, waba_id="102290129340398",
                            display_phone_number=demo_whatsapp.DISPLAY_NUMBER, **demo_whatsapp.SECRETS)
    wrote = int(time.time()) - 25 * 3600
    message = bodies.whatsapp_message(customer, f"wamid.late-{uuid.uuid4().hex}", wrote, "text", {"body": question})
    signed_delivery(demo_server, "/webhooks/whatsapp", demo_whatsapp.SECRETS["app_secret"],
                    bodies.whatsapp_inbound(number, message, "Camille"))

    accept_the_offer(expert, "WhatsApp")
    expect(expert.get_by_test_id("chat-messages")).to_contain_text(question)
    expect(expert.get_by_test_id("chat-window")).to_have_text(
        "The 24-hour window has closed: only an approved template can go out now.")
    expect(expert.get_by_test_id("chat-input")).to_be_hidden()
    picker = expert.get_by_test_id("template-picker")
    picker.get_by_test_id("template-select").select_option(label="follow_up (en_US)")
    expect(picker.get_by_test_id("template-preview")).to_have_text(
        "Hello, this is Maison Lumière following up on your question: {{1}}")
    picker.get_by_test_id("template-send").click()
    expect(picker.get_by_test_id("template-error")).to_have_text("Fill in every parameter.")
    news = f"it is back on Monday ({uuid.uuid4().hex[:6]})"
    picker.get_by_test_id("template-parameter").fill(news)
    picker.get_by_test_id("template-send").click()
    sent_text = f"Hello, this is Maison Lumière following up on your question: {news}"
    mine = expert.get_by_test_id("chat-messages").locator("[data-sender=expert]").filter(has_text=sent_text)
    expect(mine.locator(".message__state")).to_have_text("Read", timeout=15_000)  # it went out, and came back read

    phone = new_page(browser, demo_server, DESKTOP, errors)
    phone.goto(f"/dev/whatsapp/{customer}")
    sent = phone.get_by_test_id("sent")
    expect(sent).to_have_count(1)
    assert (sent.get_attribute("data-to"), sent.get_attribute("data-kind")) == (customer, "template")
    expect(sent.get_by_test_id("sent-text")).to_have_text("[follow_up]")
    close_the_chat(expert)
    assert errors == []


def test_a_brand_admin_connects_a_number_and_sees_its_webhook_address_but_no_secret(browser, demo_server):
    errors: list[str] = []
    admin: Page = new_page(browser, demo_server, DESKTOP, errors)
    log_in(admin, demo_server.logins["brand admin"], demo_server.password)
    admin.goto("/brands/maison-lumiere/channels")
    expect(admin.get_by_role("link", name="Messaging apps")).to_have_attribute("aria-current", "page")
    phone_number_id = f"1065{random.randrange(10**11):011d}"  # noqa: S311 - unique in the shared demo
    secrets = {"Access token": f"EAAG{uuid.uuid4().hex}", "App secret": uuid.uuid4().hex,
               "Verify token": f"verify-{uuid.uuid4().hex[:12]}"}
    form = admin.get_by_test_id("connect-form")
    form.get_by_label("App", exact=True).select_option("whatsapp")
    form.get_by_label("WhatsApp: phone number ID", exact=True).fill(phone_number_id)
    for label, value in secrets.items():
        form.get_by_label(label, exact=True).fill(value)
    form.get_by_role("button", name="Connect").click()

    expect(admin.locator(".flash--success")).to_contain_text(f"WhatsApp account {phone_number_id} is connected")
    item = admin.locator(f"[data-kind=whatsapp]:has(h3:text('{phone_number_id}'))")
    expect(item.get_by_test_id("webhook-url")).to_have_text(f"{demo_server.url}/webhooks/whatsapp")
    expect(item.get_by_test_id("verify-token")).to_have_text(f"set, ends in …{secrets['Verify token'][-4:]}")
    page_text = admin.content()
    assert not any(value in page_text for value in secrets.values())
    assert errors == []
