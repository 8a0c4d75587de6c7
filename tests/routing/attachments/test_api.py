"""Sending files from the widget and the inbox: the limit told and enforced, the type from the content, the scan,
and the message that carries the file to both sides; on a folder and on S3 alike."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from PIL import Image

from marketplace.database import db
from marketplace.routing.chat.messages import messages_after
from marketplace.routing.models import ATTACHMENT_TYPES, Attachment, Message
from tests.routing.attachments.conftest import (
    SCANNER_STREAM_MAX,
    TEST_SIGNATURE,
    jpeg_bytes,
    pdf_bytes,
    stored_keys,
)
from tests.routing.attachments.helpers import active_chat, expert_sends, logged_in, visitor_sends
from tests.routing.attachments.test_inspection import ORIENTATION, phone_photo

pytestmark = pytest.mark.usefixtures("attachment_storage")


def _attachments() -> list[Attachment]:
    return list(db.session.scalars(sa.select(Attachment)))


def test_the_widget_tells_the_limit_and_the_types_before_any_upload(client, session, brand):
    brand.attachment_max_bytes = 5 * 1024 * 1024
    session.commit()
    info = client.get(f"/api/widget/{brand.widget_key}").get_json()
    assert info["attachment_max_bytes"] == 5 * 1024 * 1024
    assert info["attachment_types"] == list(ATTACHMENT_TYPES)


def test_the_inbox_tells_each_chats_limit(app, session, brand):
    chat = active_chat(session, brand)
    client, _csrf = logged_in(app, chat.expert_user)
    inbox = client.get("/api/v1/expert/inbox").get_json()
    assert [c["attachment_max_bytes"] for c in inbox["chats"]] == [10_485_760]
    assert "application/pdf" in inbox["attachment_types"]


def test_a_visitors_phone_photo_arrives_upright_without_gps_in_a_message_to_both_sides(client, session, brand,
                                                                                      attachment_storage):
    chat = active_chat(session, brand)

    response = visitor_sends(client, chat, phone_photo(), name="IMG_0042.JPG", body="The lamp")

    assert response.status_code == 201, response.get_data(as_text=True)
    message = response.get_json()
    assert message["body"] == "The lamp" and message["sender"] == "visitor"
    attachment = message["attachment"]
    assert {k: attachment[k] for k in ("kind", "name", "content_type", "width", "height", "has_thumbnail")} == {
        "kind": "image", "name": "IMG_0042.jpg", "content_type": "image/jpeg", "width": 40, "height": 60,
        "has_thumbnail": True}
    row = db.session.get(Attachment, attachment["id"])
    kept = attachment_storage.get(row.storage_key)
    assert attachment["size"] == len(kept)
    image = Image.open(io.BytesIO(kept))
    assert image.size == (40, 60) and len(image.getexif()) == 0 and ORIENTATION not in image.getexif()
    assert b"PhoneMaker" not in kept
    # The expert's side reads the same message with its file.
    [stored] = messages_after(chat.conversation.id, 0)
    assert stored.attachment.id == attachment["id"]


def test_an_expert_sends_a_pdf_without_a_caption(app, session, brand, attachment_storage):
    chat = active_chat(session, brand)
    client, csrf = logged_in(app, chat.expert_user)

    response = expert_sends(client, csrf, chat, pdf_bytes(), name="notice.pdf", content_type="application/pdf")

    assert response.status_code == 201, response.get_data(as_text=True)
    message = response.get_json()
    assert message["sender"] == "expert" and message["body"] == ""
    assert message["attachment"]["kind"] == "pdf" and message["attachment"]["has_thumbnail"] is False
    assert len(stored_keys(attachment_storage)) == 1


def test_a_resend_with_the_same_client_id_keeps_one_message_and_one_file(client, session, brand, attachment_storage):
    chat = active_chat(session, brand)
    first = visitor_sends(client, chat, pdf_bytes(), name="a.pdf", client_id="same")
    again = visitor_sends(client, chat, pdf_bytes(), name="a.pdf", client_id="same")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["attachment"]["id"] == first.get_json()["attachment"]["id"]
    assert len(_attachments()) == 1
    assert len(stored_keys(attachment_storage)) == 1


def test_a_file_over_the_brands_limit_is_refused_naming_the_limit(client, session, brand, attachment_storage):
    brand.attachment_max_bytes = 1024 * 1024
    session.commit()
    chat = active_chat(session, brand)

    response = visitor_sends(client, chat, pdf_bytes(padding=1024 * 1024), name="big.pdf")

    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["errors"] == {"file": ["The file is larger than the 1 MB limit."]}
    assert _attachments() == [] and stored_keys(attachment_storage) == set()


def test_a_file_just_over_the_limit_inside_a_small_request_is_refused_too(client, session, brand):
    brand.attachment_max_bytes = 1024 * 1024
    session.commit()
    chat = active_chat(session, brand)
    response = visitor_sends(client, chat, pdf_bytes(padding=1024 * 1024 - 60), name="edge.pdf")
    assert response.status_code == 413
    assert "1 MB" in response.get_json()["errors"]["file"][0]


@pytest.mark.parametrize(("data", "name", "claimed"), [
    (b"MZ\x90\x00\x03" + b"\x00" * 500, "holiday.jpg", "image/jpeg"),
    (b"<html><script>alert(document.cookie)</script></html>", "pixel.png", "image/png"),
], ids=["exe-named-jpg", "html-claiming-png"])
def test_a_file_is_judged_by_its_content_not_its_name_or_claimed_type(client, session, brand, attachment_storage,
                                                                        data, name, claimed):
    chat = active_chat(session, brand)
    response = visitor_sends(client, chat, data, name=name, content_type=claimed)
    assert response.status_code == 415
    assert list(response.get_json()["errors"]) == ["file"]
    assert _attachments() == [] and stored_keys(attachment_storage) == set()


def test_a_send_without_a_file_names_the_file(client, session, brand):
    chat = active_chat(session, brand)
    response = client.post(f"{chat.widget}/attachments", data={"client_id": "c-1"},
                           headers={"X-Visitor-Token": chat.token}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["file"]


def test_another_visitor_cannot_send_into_the_conversation(client, session, brand, attachment_storage):
    chat = active_chat(session, brand)
    chat.token = "x" * 40
    response = visitor_sends(client, chat, pdf_bytes())
    assert response.status_code == 404
    assert stored_keys(attachment_storage) == set()


def test_an_expert_cannot_send_into_another_experts_chat(app, session, brand, attachment_storage):
    chat = active_chat(session, brand)
    other = active_chat(session, brand)
    client, csrf = logged_in(app, other.expert_user)
    response = expert_sends(client, csrf, chat, pdf_bytes())
    assert response.status_code == 404
    assert stored_keys(attachment_storage) == set()


def test_a_file_carrying_the_test_signature_is_refused_and_nothing_is_stored(client, session, brand, clamd,
                                                                             attachment_storage):
    chat = active_chat(session, brand)
    clean = visitor_sends(client, chat, pdf_bytes(), name="clean.pdf", client_id="c-clean")
    assert clean.status_code == 201  # the scanner is there and passes a clean file

    response = visitor_sends(client, chat, pdf_bytes(TEST_SIGNATURE), name="infected.pdf", client_id="c-bad")

    assert response.status_code == 422
    assert response.get_json()["errors"] == {"file": ["The virus scanner refused this file."]}
    assert len(_attachments()) == 1 and len(stored_keys(attachment_storage)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 1


def test_an_infected_photo_is_refused_too(client, session, brand, clamd):
    chat = active_chat(session, brand)
    photo = jpeg_bytes(Image.new("RGB", (16, 16)), comment=TEST_SIGNATURE)
    response = visitor_sends(client, chat, photo)
    assert response.status_code == 422 and _attachments() == []


def test_a_file_beyond_the_scanners_limits_is_refused_not_passed(client, session, brand, clamd, attachment_storage):
    chat = active_chat(session, brand)
    big = pdf_bytes(padding=SCANNER_STREAM_MAX + 1024)  # within the brand's 10 MB, beyond clamd's 2 MB

    response = visitor_sends(client, chat, big, name="big.pdf")

    assert response.status_code == 422
    assert response.get_json()["errors"] == {"file": ["This file is too large for the virus scanner; send a "
                                                      "smaller one."]}
    assert _attachments() == [] and stored_keys(attachment_storage) == set()


def test_a_scanner_that_does_not_answer_refuses_every_file(app, client, session, brand, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "CLAMD_SOCKET", str(tmp_path / "no-clamd.sock"))
    chat = active_chat(session, brand)
    response = visitor_sends(client, chat, pdf_bytes())
    assert response.status_code == 503
    assert list(response.get_json()["errors"]) == ["file"]
    assert _attachments() == []


def test_an_expert_sends_a_file_bigger_than_an_ordinary_request(app, session, brand, attachment_storage):
    """The CSRF check reads the form before the view: the request limit is raised for sends before it does."""
    chat = active_chat(session, brand)
    client, csrf = logged_in(app, chat.expert_user)
    three_megabytes = pdf_bytes(padding=3 * 1024 * 1024)
    assert len(three_megabytes) > app.config["MAX_CONTENT_LENGTH"]

    response = expert_sends(client, csrf, chat, three_megabytes, name="catalogue.pdf", content_type="application/pdf")

    assert response.status_code == 201, response.get_data(as_text=True)[:300]
    assert response.get_json()["attachment"]["size"] == len(three_megabytes)


def test_an_experts_file_over_the_brands_limit_is_refused_naming_the_limit(app, session, brand, attachment_storage):
    brand.attachment_max_bytes = 2 * 1024 * 1024
    session.commit()
    chat = active_chat(session, brand)
    client, csrf = logged_in(app, chat.expert_user)

    response = expert_sends(client, csrf, chat, pdf_bytes(padding=3 * 1024 * 1024), name="big.pdf")

    assert response.status_code == 413
    assert response.get_json()["errors"] == {"file": ["The file is larger than the 2 MB limit."]}
    assert stored_keys(attachment_storage) == set()


def test_a_json_body_is_not_a_file(client, session, brand):
    chat = active_chat(session, brand)
    response = client.post(f"{chat.widget}/attachments", json={"file": "x", "client_id": "c-1"},
                           headers={"X-Visitor-Token": chat.token})
    assert response.status_code == 415
    assert list(response.get_json()["errors"]) == ["file"]
