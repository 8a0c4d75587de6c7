"""The conversation pages render for the people they are for, and the widget form saves or names the field."""

from __future__ import annotations

import re

from marketplace.accounts.models import User
from marketplace.brands import services as brands
from marketplace.brands.models import BrandRole
from marketplace.database import db
from marketplace.routing.left_messages import services as left_messages
from marketplace.routing.models import LeftMessage
from tests.conftest import log_in
from tests.factories import BrandFactory
from tests.routing.conftest import admin_of, arrive, online_expert


def form_token(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def test_the_expert_inbox_shows_the_pending_offer(client, session, brand):
    expert = online_expert(brand)
    session.commit()
    conversation = arrive(brand, topic=None)
    log_in(client, session.get(User, expert.user_id).email)
    page = client.get("/expert/chats")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="inbox-data"' in html and f'"conversation_id": {conversation.id}' in html


def test_the_brand_live_view_and_inbox_render_for_a_viewer(client, session, brand):
    arrive(brand)
    token = "b" * 40
    left_from = arrive(brand, token)
    left_messages.leave_message(brand.widget_key, token, left_from.id, "ana@example.com", "Call me back")
    log_in(client, admin_of(session, brand, BrandRole.VIEWER).email)
    live = client.get(f"/brands/{brand.slug}/live")
    assert live.status_code == 200 and 'id="live-data"' in live.get_data(as_text=True)
    inbox = client.get(f"/brands/{brand.slug}/inbox").get_data(as_text=True)
    assert "ana@example.com" in inbox and "Call me back" in inbox
    assert db.session.scalar(db.select(LeftMessage.read_at).where(LeftMessage.email == "ana@example.com"))
    widget = client.get(f"/brands/{brand.slug}/widget")
    assert widget.status_code == 200 and brand.widget_key in widget.get_data(as_text=True)


def test_an_admin_saves_the_widget_settings(client, session, brand):
    log_in(client, admin_of(session, brand).email)
    page = client.get(f"/brands/{brand.slug}/widget").get_data(as_text=True)
    assert '="None"' not in page  # no attribute written as the text None
    data = {"csrf_token": form_token(page), "widget_origins": "https://www.lumiere.example\nhttp://127.0.0.1:*",
            "canned_answers": "Hello\nBonjour !\n\nBye\nMerci !", "attachment_megabytes": "4"}
    assert re.search(r'<input[^>]*name="attachment_megabytes"[^>]*value="10"', page)  # 10 MB unless the brand says
    saved = client.post(f"/brands/{brand.slug}/widget", data=data)
    assert saved.status_code == 302
    db.session.refresh(brand)
    assert brand.widget_origins == ["https://www.lumiere.example", "http://127.0.0.1:*"]
    assert brand.attachment_max_bytes == 4 * 1024 * 1024
    assert [a.title for a in brands.canned_answers({brand.id})[brand.id]] == ["Hello", "Bye"]
    bad = client.post(f"/brands/{brand.slug}/widget", data={**data, "widget_origins": "not an origin"})
    assert bad.status_code == 422
    assert "not an origin" in bad.get_data(as_text=True)
    too_big = client.post(f"/brands/{brand.slug}/widget", data={**data, "attachment_megabytes": "26"})
    assert too_big.status_code == 422
    assert 'id="attachment_megabytes-error"' in too_big.get_data(as_text=True)
    db.session.refresh(brand)
    assert brand.attachment_max_bytes == 4 * 1024 * 1024


def test_another_brands_member_cannot_see_the_pages(client, session, brand):
    other = BrandFactory()
    session.commit()
    log_in(client, admin_of(session, other).email)
    for path in ("live", "inbox", "widget", "widget/try"):
        assert client.get(f"/brands/{brand.slug}/{path}").status_code == 404, path
