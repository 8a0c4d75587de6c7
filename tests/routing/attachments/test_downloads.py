"""Downloads through short-lived signed links: to the conversation's visitor, its expert and the brand's people
only, 404 to everyone else and to anyone without a valid link; on a folder and on S3 alike."""

from __future__ import annotations

import datetime as dt
import io
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image

from marketplace.accounts.models import Role, User
from marketplace.brands.models import BrandRole
from marketplace.database import utcnow
from marketplace.routing.attachments import links
from tests.factories import BrandFactory, UserFactory
from tests.routing.attachments.conftest import jpeg_bytes, pdf_bytes
from tests.routing.attachments.helpers import active_chat, logged_in, visitor_links, visitor_sends
from tests.routing.conftest import admin_of

pytestmark = pytest.mark.usefixtures("attachment_storage")
PDF = pdf_bytes(b"the manual")


@pytest.fixture
def sent_pdf(client, session, brand):
    chat = active_chat(session, brand)
    response = visitor_sends(client, chat, PDF, name="manual.pdf", content_type="application/pdf")
    assert response.status_code == 201, response.get_data(as_text=True)
    return chat, response.get_json()["attachment"]["id"]


def _person_link(app, user: User, attachment_id: int):
    person, _csrf = logged_in(app, user)
    return person, person.get(f"/api/v1/attachments/{attachment_id}/link")


def _assert_pdf(response) -> None:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.data == PDF
    assert response.mimetype == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"] == 'attachment; filename=manual.pdf'
    assert "no-store" in response.headers["Cache-Control"]


def test_the_visitor_downloads_with_the_link_their_token_gets(client, sent_pdf):
    chat, attachment_id = sent_pdf
    answer = visitor_links(client, chat, attachment_id)
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["thumbnail_url"] is None
    assert dt.datetime.fromisoformat(body["expires_at"]) <= utcnow() + dt.timedelta(seconds=301)
    _assert_pdf(client.get(body["url"]))  # no header: an <a href> or <img src> sends none


def test_the_expert_downloads_it(app, sent_pdf):
    chat, attachment_id = sent_pdf
    expert, answer = _person_link(app, chat.expert_user, attachment_id)
    assert answer.status_code == 200
    _assert_pdf(expert.get(answer.get_json()["url"]))


@pytest.mark.parametrize("role", [BrandRole.ADMIN, BrandRole.VIEWER])
def test_the_brands_members_download_it(app, session, sent_pdf, role):
    chat, attachment_id = sent_pdf
    member, answer = _person_link(app, admin_of(session, chat.brand, role), attachment_id)
    assert answer.status_code == 200
    _assert_pdf(member.get(answer.get_json()["url"]))


def test_ops_download_it(app, session, sent_pdf):
    _chat, attachment_id = sent_pdf
    ops = UserFactory(role=Role.OPS)
    session.commit()
    person, answer = _person_link(app, ops, attachment_id)
    assert answer.status_code == 200
    _assert_pdf(person.get(answer.get_json()["url"]))


def test_another_brands_member_gets_no_link_and_no_file(app, session, sent_pdf):
    chat, attachment_id = sent_pdf
    other_brand = BrandFactory()
    session.commit()
    outsider, answer = _person_link(app, admin_of(session, other_brand), attachment_id)
    assert answer.status_code == 404
    # Not with the expert's link either: a link given to a person works for that person only.
    _expert, expert_answer = _person_link(app, chat.expert_user, attachment_id)
    assert outsider.get(expert_answer.get_json()["url"]).status_code == 404


def test_another_expert_gets_no_link(app, session, brand, sent_pdf):
    _chat, attachment_id = sent_pdf
    other = active_chat(session, brand)
    _client, answer = _person_link(app, other.expert_user, attachment_id)
    assert answer.status_code == 404


def test_another_visitor_gets_no_link(client, sent_pdf):
    chat, attachment_id = sent_pdf
    chat.token = "y" * 40
    assert visitor_links(client, chat, attachment_id).status_code == 404


def test_a_visitor_of_another_conversation_gets_no_link_to_this_file(client, session, brand, sent_pdf):
    _chat, attachment_id = sent_pdf
    other = active_chat(session, brand)
    assert visitor_links(client, other, attachment_id).status_code == 404


def test_a_person_link_does_not_work_logged_out(app, client, sent_pdf):
    chat, attachment_id = sent_pdf
    _expert, answer = _person_link(app, chat.expert_user, attachment_id)
    assert client.get(answer.get_json()["url"]).status_code == 404


def _url_and_token(client, chat, attachment_id) -> tuple[str, str]:
    url = visitor_links(client, chat, attachment_id).get_json()["url"]
    parts = urlsplit(url)
    return parts.path, parse_qs(parts.query)["t"][0]


def test_no_link_an_expired_link_or_a_tampered_link_find_nothing(app, client, sent_pdf):
    chat, attachment_id = sent_pdf
    path, token = _url_and_token(client, chat, attachment_id)
    assert client.get(f"{path}?t={token}").status_code == 200

    expired = links.sign(attachment_id, "file", None, utcnow() - dt.timedelta(seconds=1))
    tampered = token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")
    forged = links.sign(attachment_id, "file", None, utcnow() + dt.timedelta(minutes=5)).replace(".", "x.", 1)
    for answer in (client.get(path), client.get(f"{path}?t="), client.get(f"{path}?t={expired}"),
                   client.get(f"{path}?t={tampered}"), client.get(f"{path}?t={forged}"),
                   client.get(f"/attachments/{attachment_id + 1}/file?t={token}"),
                   client.get(f"/attachments/{attachment_id}/thumbnail?t={token}")):
        assert answer.status_code == 404


def test_a_link_signed_with_another_key_finds_nothing(app, client, sent_pdf, monkeypatch):
    chat, attachment_id = sent_pdf
    monkeypatch.setitem(app.config, "SECRET_KEY", "another-secret-key-of-enough-length-000")
    path, token = _url_and_token(client, chat, attachment_id)
    monkeypatch.undo()
    assert client.get(f"{path}?t={token}").status_code == 404


def test_a_photo_has_a_thumbnail_link_and_is_shown_inline(client, session, brand):
    chat = active_chat(session, brand)
    sent = visitor_sends(client, chat, jpeg_bytes(Image.new("RGB", (900, 600), (10, 200, 10))), name="lamp.jpg")
    body = visitor_links(client, chat, sent.get_json()["attachment"]["id"]).get_json()

    photo, thumbnail = client.get(body["url"]), client.get(body["thumbnail_url"])

    assert (photo.status_code, photo.mimetype) == (200, "image/jpeg")
    assert photo.headers["Content-Disposition"] == "inline; filename=lamp.jpg"
    assert (thumbnail.status_code, thumbnail.mimetype) == (200, "image/jpeg")
    assert Image.open(io.BytesIO(thumbnail.data)).size == (320, 213)


def test_the_brands_transcript_shows_the_files_and_each_click_gets_a_fresh_link(app, session, brand):
    chat = active_chat(session, brand)
    visitor = app.test_client()
    visitor_sends(visitor, chat, PDF, name="manual.pdf", content_type="application/pdf", client_id="c-pdf")
    photo = visitor_sends(visitor, chat, jpeg_bytes(Image.new("RGB", (50, 30))), name="lamp.jpg", client_id="c-jpg")
    photo_id = photo.get_json()["attachment"]["id"]
    member, _answer = _person_link(app, admin_of(session, brand, BrandRole.VIEWER), photo_id)

    api = member.get(f"/api/v1/brands/{brand.id}/conversations/{chat.conversation.id}").get_json()
    assert [(m["seq"], m["attachment"]["name"]) for m in api["messages"]] == [(1, "manual.pdf"), (2, "lamp.jpg")]
    page = member.get(f"/brands/{brand.slug}/conversations/{chat.conversation.id}").get_data(as_text=True)
    assert page.count('data-testid="transcript-attachment"') == 2
    assert "Download manual.pdf" in page and 'alt="lamp.jpg"' in page

    base = f"/brands/{brand.slug}/conversations/{chat.conversation.id}/attachments"
    pdf_id = api["messages"][0]["attachment"]["id"]
    _assert_pdf(member.get(f"{base}/{pdf_id}/file", follow_redirects=True))
    thumbnail = member.get(f"{base}/{photo_id}/thumbnail", follow_redirects=True)
    assert (thumbnail.status_code, thumbnail.mimetype) == (200, "image/jpeg")
    assert member.get(f"{base}/{pdf_id}/thumbnail").status_code == 404  # a PDF has none


def test_another_brands_transcript_route_finds_nothing(app, session, brand, sent_pdf):
    _chat, attachment_id = sent_pdf
    other = BrandFactory()
    session.commit()
    outsider, _csrf = logged_in(app, admin_of(session, other))
    answer = outsider.get(f"/brands/{other.slug}/conversations/1/attachments/{attachment_id}/file")
    assert answer.status_code == 404
