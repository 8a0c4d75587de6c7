"""A new expert's whole journey on a 390x844 phone, with the people who decide on the way:
sign up, get approved by ops, pass a brand's quiz, get approved by the brand, book a shift, go online."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ACTION_MS, DESKTOP, NAVIGATION_MS, PHONE
from tests.browser.test_demo_logins import log_in

pytestmark = pytest.mark.browser

# The right answers of the demo's Maison Lumière quiz (marketplace/demo.py); the page shuffles them.
RIGHT_ANSWERS = {"LED", "Protected against splashes", "2700 K"}


def new_page(browser: Browser, demo_server, viewport, errors: list[str]) -> Page:
    context = browser.new_context(base_url=demo_server.url, **viewport.context_options())
    context.set_default_timeout(ACTION_MS)
    context.set_default_navigation_timeout(NAVIGATION_MS)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    return page


def test_a_new_expert_goes_from_sign_up_to_online_on_a_phone(browser, demo_server):
    errors: list[str] = []
    email = f"nina-{uuid.uuid4().hex[:8]}@example.com"
    expert = new_page(browser, demo_server, PHONE, errors)

    # 1. Sign up with a full profile.
    expert.goto("/signup")
    expert.get_by_label("Full name").fill("Nina Leroy")
    expert.get_by_label("E-mail").fill(email)
    expert.get_by_label("Password", exact=True).fill("a-long-password-2026")
    expert.get_by_label("Repeat the password").fill("a-long-password-2026")
    expert.get_by_label("Country").select_option("FR")
    expert.get_by_label("Mobile phone").fill("06 11 22 33 44")
    expert.get_by_label("French").check()
    expert.get_by_label("Lighting").check()
    expert.get_by_label("Why do you want to answer for brands?").fill("I have restored lamps for ten years.")
    expert.get_by_role("button", name="Create my expert account").click()
    expect(expert.get_by_test_id("expert-status")).to_have_text("Application under review")

    # 2. Ops approve her from the vetting queue.
    ops = new_page(browser, demo_server, DESKTOP, errors)
    log_in(ops, demo_server.logins["ops"], demo_server.password)
    ops.goto("/ops/experts")
    ops.get_by_role("link", name="Nina Leroy").first.click()
    expect(ops.get_by_text("I have restored lamps for ten years.")).to_be_visible()
    ops.get_by_role("button", name="Approve").click()
    expect(ops.get_by_text("Decision recorded")).to_be_visible()

    # 3. She applies to Maison Lumière and passes its quiz.
    expert.goto("/expert/brands")
    expert.get_by_label("Maison Lumière").check()
    expert.get_by_role("button", name="Apply to the chosen brands").click()
    expert.get_by_role("link", name="Take the quiz").first.click()
    questions = expert.locator("fieldset.quiz__question")
    expect(questions).to_have_count(3)
    for index in range(questions.count()):
        question = questions.nth(index)
        for answer in RIGHT_ANSWERS:
            option = question.get_by_label(answer, exact=True)
            if option.count():
                option.check()
    expert.get_by_role("button", name="Submit my answers").click()
    expect(expert.get_by_test_id("quiz-result")).to_have_attribute("data-passed", "yes")

    # 4. The brand's admin approves her.
    brand = new_page(browser, demo_server, DESKTOP, errors)
    log_in(brand, demo_server.logins["brand admin"], demo_server.password)
    brand.goto("/brands/maison-lumiere/experts?status=quiz_passed")
    applicant = brand.locator("li", has_text="Nina")
    applicant.get_by_role("button", name="Approve").click()
    expect(brand.get_by_text("Approved.")).to_be_visible()

    # 5. She books a shift in the week view, then goes online.
    expert.goto("/expert")
    expect(expert.get_by_test_id("enrolment-maison-lumiere")).to_contain_text("Approved")
    expert.get_by_role("link", name="Shifts").first.click()
    book = expert.get_by_role("button", name=re.compile("^Book")).first
    if not book.count():  # late on a Sunday this week has no bookable shift left: the demo opened next week's
        expert.get_by_role("link", name=re.compile("Next week")).click()
    expect(book).to_be_visible()
    book.click()
    expect(expert.get_by_role("button", name=re.compile("^Cancel")).first).to_be_visible()
    expert.goto("/expert")
    expert.get_by_role("button", name="Go online", exact=True).click()
    expect(expert.get_by_test_id("presence-status")).to_have_text("Online")
    expect(expert.locator("#live-indicator")).to_have_attribute("data-state", "live")

    assert errors == []
