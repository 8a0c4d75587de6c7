"""Beside a chat they hold, the expert sees the visitor's earlier conversations with the brand, and only then."""

from __future__ import annotations

from marketplace.accounts.models import User
from marketplace.database import utcnow
from marketplace.routing.contacts import services as contacts
from marketplace.routing.models import ConversationStatus
from tests.conftest import log_in
from tests.routing.conftest import online_expert, visitor_token
from tests.routing.contacts.conftest import chat_with_address


def test_a_visitor_who_proved_nothing_has_no_history(client, session, brand):
    expert = online_expert(brand)
    live = chat_with_address(brand, visitor_token(), "ana@example.com", status=ConversationStatus.ACTIVE,
                             expert=expert)
    session.commit()
    log_in(client, session.get(User, expert.user_id).email)
    assert client.get(f"/api/v1/conversations/{live.id}/history").json == {"known": False, "conversations": []}


def test_the_history_is_refused_once_the_expert_no_longer_holds_the_chat(app, client, session, brand):
    expert, other = online_expert(brand), online_expert(brand)
    token = visitor_token()
    old = chat_with_address(brand, token, "ana@example.com", messages=["Bonjour"])
    live = chat_with_address(brand, token, "ana@example.com", status=ConversationStatus.ACTIVE, expert=expert)
    session.commit()
    contacts.address_proved(live.id, "ana@example.com")
    stranger = app.test_client()
    log_in(stranger, session.get(User, other.user_id).email)
    assert stranger.get(f"/api/v1/conversations/{live.id}/history").status_code == 404  # never theirs
    log_in(client, session.get(User, expert.user_id).email)
    assert [c["id"] for c in client.get(f"/api/v1/conversations/{live.id}/history").json["conversations"]] == [old.id]
    live.status, live.closed_at = ConversationStatus.CLOSED, utcnow()  # the factory's chat holds no counter
    session.commit()
    closed = client.get(f"/api/v1/conversations/{live.id}/history")
    assert closed.status_code == 403 and closed.mimetype == "application/problem+json"
    assert client.get(f"/api/v1/conversations/{live.id}/history/{old.id}").status_code == 403


def test_the_inbox_page_carries_the_history_panel(client, session, brand):
    expert = online_expert(brand)
    session.commit()
    log_in(client, session.get(User, expert.user_id).email)
    page = client.get("/expert/chats").get_data(as_text=True)
    assert 'data-testid="contact-history"' in page and "js/contact_history.js" in page
