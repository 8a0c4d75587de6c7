"""The brand answers a visitor's left message by e-mail, once, from the inbox page or the API."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import AuditEvent, User
from marketplace.brands.models import BrandRole
from marketplace.errors import Conflict, Forbidden, InvalidInput
from marketplace.routing.console import transcripts
from marketplace.routing.left_messages import services as left_messages
from marketplace.routing.models import ConversationStatus, EndReason, LeftMessage
from marketplace.routing.router import admission
from tests.conftest import log_in
from tests.routing.conftest import admin_of, arrive, visitor_token


@pytest.fixture
def admin(session, brand) -> User:
    return admin_of(session, brand)


@pytest.fixture
def left(session, brand) -> LeftMessage:
    """What a French-speaking visitor left once nobody answered their chat in time."""
    token = visitor_token()
    conversation = arrive(brand, token, locale="fr-FR")
    admission.end_conversation(conversation.id, ConversationStatus.MISSED, EndReason.MAX_WAIT)
    left = left_messages.leave_message(brand.widget_key, token, conversation.id, "ana@example.com", "Rappelez-moi")
    return session.get(LeftMessage, left.id)


def replies_audited(session) -> int:
    return session.scalar(sa.select(sa.func.count()).where(AuditEvent.kind == "left_message_replied"))


def test_a_reply_sends_one_mail_to_the_visitor_and_is_kept(session, brand, admin, left, outbox):
    state = left_messages.reply_to_left_message(admin, brand.id, left.id, "  Bonjour Ana, voici la réponse.  ")
    assert len(outbox.messages) == 1
    assert outbox.messages[0]["To"] == "ana@example.com"
    assert "Lumière" in outbox.messages[0]["Subject"]
    assert "Bonjour Ana, voici la réponse." in outbox.messages[0].get_content()
    assert "Rappelez-moi" in outbox.messages[0].get_content()
    session.refresh(left)
    assert left.reply == "Bonjour Ana, voici la réponse."
    assert left.replied_by_id == admin.id and left.replied_at is not None
    assert state.replied_by_name == admin.full_name
    assert replies_audited(session) == 1


def test_a_second_reply_is_refused_and_sends_nothing(session, brand, admin, left, outbox):
    left_messages.reply_to_left_message(admin, brand.id, left.id, "Première réponse")
    with pytest.raises(Conflict):
        left_messages.reply_to_left_message(admin_of(session, brand), brand.id, left.id, "Seconde réponse")
    session.refresh(left)
    assert left.reply == "Première réponse"
    assert len(outbox.messages) == 1 and replies_audited(session) == 1


def test_an_empty_reply_is_refused_naming_the_body(session, brand, admin, left, outbox):
    with pytest.raises(InvalidInput) as refused:
        left_messages.reply_to_left_message(admin, brand.id, left.id, "   ")
    assert refused.value.field == "body"
    session.refresh(left)
    assert left.reply is None and outbox.messages == []


def test_a_viewer_cannot_reply_to_a_left_message(client, session, brand, left, outbox):
    viewer = admin_of(session, brand, BrandRole.VIEWER)
    with pytest.raises(Forbidden):
        left_messages.reply_to_left_message(viewer, brand.id, left.id, "Réponse")
    csrf = log_in(client, viewer.email)
    inbox = client.get(f"/brands/{brand.slug}/inbox").get_data(as_text=True)
    assert "Rappelez-moi" in inbox and 'data-testid="left-message-reply-form"' not in inbox
    page = client.post(f"/brands/{brand.slug}/inbox/{left.id}/reply", data={"body": "Réponse", "csrf_token": csrf})
    api = client.post(f"/api/v1/brands/{brand.id}/left-messages/{left.id}/reply", json={"body": "Réponse"},
                      headers={"X-CSRFToken": csrf})
    assert (page.status_code, api.status_code) == (403, 403)
    session.refresh(left)
    assert left.reply is None and left.replied_at is None
    assert outbox.messages == [] and replies_audited(session) == 0


def test_an_admin_replies_from_the_inbox_page_and_sees_the_reply(client, session, brand, admin, left, outbox):
    csrf = log_in(client, admin.email)
    inbox = client.get(f"/brands/{brand.slug}/inbox").get_data(as_text=True)
    assert f'action="/brands/{brand.slug}/inbox/{left.id}/reply"' in inbox
    response = client.post(f"/brands/{brand.slug}/inbox/{left.id}/reply",
                           data={"body": "Nous vous rappelons demain.", "csrf_token": csrf})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/brands/{brand.slug}/inbox")
    assert [m["To"] for m in outbox.messages] == ["ana@example.com"]
    after = client.get(f"/brands/{brand.slug}/inbox").get_data(as_text=True)
    assert "Nous vous rappelons demain." in after and admin.full_name in after
    assert 'data-testid="left-message-reply-form"' not in after
    again = client.post(f"/brands/{brand.slug}/inbox/{left.id}/reply",
                        data={"body": "Encore", "csrf_token": csrf}, follow_redirects=True)
    assert "This message already has a reply." in again.get_data(as_text=True) and len(outbox.messages) == 1


def test_the_api_reply_answers_with_the_kept_reply(client, session, brand, admin, left, outbox):
    csrf = log_in(client, admin.email)
    empty = client.post(f"/api/v1/brands/{brand.id}/left-messages/{left.id}/reply", json={"body": " "},
                        headers={"X-CSRFToken": csrf})
    assert empty.status_code == 422 and list(empty.json["errors"]) == ["body"]
    response = client.post(f"/api/v1/brands/{brand.id}/left-messages/{left.id}/reply", json={"body": "C'est noté."},
                           headers={"X-CSRFToken": csrf})
    assert response.status_code == 200
    assert response.json["reply"] == "C'est noté." and response.json["replied_by_name"] == admin.full_name
    again = client.post(f"/api/v1/brands/{brand.id}/left-messages/{left.id}/reply", json={"body": "Encore"},
                        headers={"X-CSRFToken": csrf})
    assert again.status_code == 409 and len(outbox.messages) == 1


def test_the_transcript_shows_the_left_message_with_its_reply(session, brand, admin, left, outbox):
    left_messages.reply_to_left_message(admin, brand.id, left.id, "C'est noté.")
    shown = transcripts.transcript(admin, brand.id, left.conversation_id).left_message
    assert (shown.id, shown.body, shown.reply) == (left.id, "Rappelez-moi", "C'est noté.")
    assert shown.replied_by_name == admin.full_name
