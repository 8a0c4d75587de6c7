"""A rejected applicant on a 390x844 phone: a sign-up whose every mistake is named at once, a rejection by ops,
the correction and resubmission on the profile page, and a brand's quiz passed while the application waits."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.test_demo_logins import log_in
from tests.browser.test_expert_journey import RIGHT_ANSWERS, new_page

pytestmark = pytest.mark.browser

REASON = "Tell us which lamps you have restored, and since when."


def test_a_rejected_applicant_corrects_and_resubmits_on_a_phone(browser, demo_server):
    errors: list[str] = []
    email = f"lou-{uuid.uuid4().hex[:8]}@example.com"
    expert = new_page(browser, demo_server, PHONE, errors)

    # 1. A sign-up with mistakes: every one is named at once, the summary takes the focus, and what was typed
    #    stays (but the password).
    expert.goto("/signup")
    expert.get_by_label("Full name").fill("Lou Bernard")
    expert.get_by_label("E-mail").fill("lou-at-example")
    expert.get_by_label("Password", exact=True).fill("short")
    expert.get_by_label("Repeat the password").fill("short")
    expert.get_by_label("Mobile phone").fill("12")
    expert.get_by_label("Why do you want to answer for brands?").fill("Money.")
    expert.get_by_role("button", name="Create my expert account").click()
    summary = expert.locator("[data-error-summary]")
    expect(summary).to_be_visible()
    expect(expert.locator("#error-summary-title")).to_be_focused()
    for field in ("email", "password", "phone", "languages"):
        expect(summary.locator(f'a[href="#{field}"]')).to_be_visible()
    expect(expert.get_by_label("Full name")).to_have_value("Lou Bernard")
    expect(expert.get_by_label("Mobile phone")).to_have_attribute("aria-invalid", "true")
    expect(expert.get_by_label("Password", exact=True)).to_have_value("")
    summary.locator('a[href="#phone"]').click()
    expect(expert.get_by_label("Mobile phone")).to_be_focused()

    # Corrected, it goes through.
    expert.get_by_label("E-mail").fill(email)
    expert.get_by_label("Password", exact=True).fill("a-long-password-2026")
    expert.get_by_label("Repeat the password").fill("a-long-password-2026")
    expert.get_by_label("Mobile phone").fill("06 11 22 33 44")
    expert.get_by_label("French").check()
    expert.get_by_role("button", name="Create my expert account").click()
    expect(expert.get_by_test_id("expert-status")).to_have_text("Application under review")

    # 2. Ops turn the application down, saying why.
    ops = new_page(browser, demo_server, DESKTOP, errors)
    log_in(ops, demo_server.logins["ops"], demo_server.password)
    ops.goto("/ops/experts")
    ops.get_by_role("link", name="Lou Bernard").first.click()
    ops.get_by_label("Reason (the expert will read it)").fill(REASON)
    ops.get_by_role("button", name="Reject").click()
    expect(ops.get_by_text("Decision recorded")).to_be_visible()

    # 3. On her phone she reads why, corrects her application and resubmits it.
    expert.goto("/expert")
    expect(expert.get_by_test_id("status-reason")).to_have_text(REASON)
    expert.get_by_role("link", name="Correct and resubmit my application").click()
    expect(expert.get_by_test_id("rejection-reason")).to_have_text(REASON)
    expert.get_by_label("Why do you want to answer for brands?").fill(
        "I have restored art deco lamps since 2015 and sell them at flea markets.")
    expert.get_by_role("button", name="Save and resubmit my application").click()
    expect(expert.get_by_text("your application is back with our team")).to_be_visible()
    expect(expert.get_by_test_id("expert-status")).to_have_text("Application under review")
    expect(expert.get_by_test_id("resubmitted")).to_be_visible()

    # 4. While it waits, she applies to Maison Lumière and passes its quiz: the brand waits for vetting.
    expert.get_by_role("link", name="Apply to brands").click()
    expect(expert.get_by_test_id("under-review")).to_be_visible()
    expert.get_by_label("Maison Lumière").check()
    expert.get_by_role("button", name="Apply to the chosen brands").click()
    expert.get_by_role("link", name="Take the quiz").first.click()
    questions = expert.locator("fieldset.quiz__question")
    expect(questions).to_have_count(3)
    for index in range(questions.count()):
        for answer in RIGHT_ANSWERS:
            option = questions.nth(index).get_by_label(answer, exact=True)
            if option.count():
                option.check()
    expert.get_by_role("button", name="Submit my answers").click()
    expect(expert.get_by_test_id("quiz-result")).to_have_attribute("data-passed", "yes")
    expect(expert.get_by_test_id("waiting-for-vetting")).to_be_visible()
    expert.goto("/expert/brands")
    expect(expert.get_by_test_id("standing-maison-lumiere")).to_have_text("Waiting for vetting")

    # 5. Her resubmission is back in the vetting queue; ops approve it, and the brand's turn comes.
    ops.goto("/ops/experts")
    ops.get_by_role("link", name="Lou Bernard").first.click()
    expect(ops.get_by_text("I have restored art deco lamps")).to_be_visible()
    ops.get_by_role("button", name="Approve").click()
    expect(ops.get_by_text("Decision recorded")).to_be_visible()
    expert.goto("/expert")
    expect(expert.get_by_test_id("enrolment-maison-lumiere")).to_contain_text("Waiting for the brand")

    # The refused sign-up answers 422 on purpose; Chromium logs any such answer as a console error.
    assert [error for error in errors if "status of 422" not in error] == []
    assert expert.viewport_size == {"width": 390, "height": 844}
