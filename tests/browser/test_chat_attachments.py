"""A visitor attaches a phone photo in the widget; the expert sees its thumbnail and opens the full image, upright
and without its GPS position. The limit is shown before a file is chosen, and a file over it never leaves."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.test_chat import accept_the_offer, expert_online_on_chats, serving_shop, visitor_starts_chat
from tests.routing.attachments.test_inspection import phone_photo

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def shop(demo_server, tmp_path_factory) -> Iterator[str]:
    with serving_shop(demo_server, tmp_path_factory.mktemp("shop")) as address:
        yield address


def test_a_visitors_photo_reaches_the_expert_as_a_thumbnail_that_opens_upright(browser, demo_server, shop):
    errors: list[str] = []
    expert = expert_online_on_chats(browser, demo_server, errors)
    visitor, frame = visitor_starts_chat(browser, demo_server, shop, errors)
    accept_the_offer(expert)
    expect(frame.get_by_test_id("attach-hint")).to_have_text("A photo (JPEG, PNG, WebP, HEIC) or a PDF, up to 10 MB.")

    too_big = b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024)
    frame.get_by_test_id("attach-input").set_input_files(
        files=[{"name": "scan.pdf", "mimeType": "application/pdf", "buffer": too_big}])
    expect(frame.get_by_test_id("attach-error")).to_have_text("This file is larger than 10 MB: choose a smaller one.")

    frame.get_by_test_id("message-input").fill("The lamp, as it arrived")
    frame.get_by_test_id("attach-input").set_input_files(
        files=[{"name": "IMG_0042.JPG", "mimeType": "image/jpeg", "buffer": phone_photo()}])

    mine = frame.get_by_test_id("messages").locator("[data-seq]")
    expect(mine).to_have_count(1)
    expect(frame.get_by_test_id("attach-error")).to_have_text("")
    expect(mine.first.locator(".message__body")).to_have_text("The lamp, as it arrived")
    expect(mine.first.locator("img.attachment__thumbnail")).to_have_attribute("alt", "IMG_0042.jpg")

    thumbnail = expert.get_by_test_id("chat-messages").locator("[data-seq] img.attachment__thumbnail")
    expect(thumbnail).to_have_attribute("src", re.compile(r"/attachments/\d+/thumbnail\?t="))
    expert.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())
    assert thumbnail.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [40, 60]  # upright

    with expert.expect_popup() as opened:
        expert.get_by_test_id("attachment-image").click()
    full = opened.value
    full.wait_for_load_state()
    assert "/file?t=" in full.url
    response = full.request.get(full.url)
    photo = Image.open(io.BytesIO(response.body()))
    assert photo.size == (40, 60) and len(photo.getexif()) == 0
    full.close()
    frame.get_by_test_id("end-chat").click()  # the demo server is shared: no chat is left waiting for an answer
    expect(expert.get_by_test_id("chat-ended")).to_contain_text("The visitor ended this chat.")
    assert errors == []
