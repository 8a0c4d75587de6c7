"""A visitor reachable by push goes asynchronous when they leave, and each reply written while they are away reaches
their browsers as one encrypted push carrying the expert's first name, the text and a working resume link."""

from __future__ import annotations

import json

import http_ece
import pytest
import sqlalchemy as sa

from marketplace.database import db, utcnow
from marketplace.extensions import socketio
from marketplace.notifications import push
from marketplace.routing.chat import messages
from marketplace.routing.continuation import tokens
from marketplace.routing.door import departures
from marketplace.routing.models import Conversation, ConversationStatus, Message, Sender, VisitorPushSubscription
from marketplace.routing.router.away import reachable
from marketplace.routing.visitor_push import delivery
from tests.routing.conftest import visitor_token
from tests.routing.router.test_asynchronous import gone, status_of
from tests.routing.visitor_push.conftest import answered_chat, subscribe


def expert_writes(chat, body: str, number: int = 1) -> Message:
    posted = messages.post_message(chat.id, Sender.EXPERT, f"reply-{chat.id}-{number}", body,
                                   expert_id=chat.expert.id)
    return posted.message


def decrypted(received, keys) -> dict:
    return json.loads(http_ece.decrypt(received.body, private_key=keys.private_key, auth_secret=keys.auth_secret,
                                       version="aes128gcm"))


@pytest.fixture
def away(app, session, brand, chat, push_service, browser_keys):
    """A visitor who turned notifications on (no address given) and left: asynchronous."""
    conversation = subscribe(brand, chat, push_service, browser_keys)
    assert reachable(conversation) and conversation.visitor_email is None
    departures.notice_gone_visitors(gone(app))
    assert status_of(chat.id) == ConversationStatus.ASYNCHRONOUS
    return chat


def test_a_visitor_reachable_only_by_push_goes_asynchronous_and_one_with_no_way_back_does_not(app, session, brand,
                                                                                             push_service,
                                                                                             browser_keys):
    with_push = answered_chat(session, brand)
    subscribe(brand, with_push, push_service, browser_keys)
    without = answered_chat(session, brand)
    departures.notice_gone_visitors(gone(app))
    assert status_of(with_push.id) == ConversationStatus.ASYNCHRONOUS
    left = db.session.get(Conversation, without.id, populate_existing=True)
    assert left.status == ConversationStatus.ACTIVE and left.visitor_left_at is not None  # as before: marked left


def test_a_reply_while_away_is_one_encrypted_push_with_the_text_and_a_resume_link_that_works(
        client, brand, away, push_service, browser_keys):
    message = expert_writes(away, "Le fusible est sous la trappe, à l'arrière de la lampe.")

    assert delivery.deliver(message.id) == 1

    [received] = push_service.received
    assert received.path == "/visitor-browser"
    assert received.headers["content-encoding"] == "aes128gcm"
    assert received.headers["ttl"] == str(delivery.TTL_SECONDS)
    assert b"fusible" not in received.body  # encrypted for the browser alone
    payload = decrypted(received, browser_keys)
    assert payload["title"] == "Camille of Lumière replied to you"  # the first name only
    assert payload["body"] == "Le fusible est sous la trappe, à l'arrière de la lampe."
    assert payload["kind"] == "visitor_reply" and payload["id"] == f"visitor-message-{message.id}"
    assert payload["url"].startswith(f"/widget/{brand.widget_key}/resume/p")

    page = client.get(payload["url"])  # what the service worker opens on a click
    assert page.status_code == 200 and "data-resume-token" in page.get_data(as_text=True)
    token = payload["url"].rsplit("/", 1)[1]
    browser = visitor_token()  # the top-level page has storage of its own: another visitor token
    bound = client.post(f"/api/widget/{brand.widget_key}/resume", json={"token": token},
                        headers={"X-Visitor-Token": browser})
    assert bound.status_code == 200 and bound.get_json()["id"] == away.id
    history = client.get(f"/api/widget/{brand.widget_key}/conversations/{away.id}/messages?after=0",
                         headers={"X-Visitor-Token": browser}).get_json()
    assert [m["body"] for m in history["messages"]][-1].startswith("Le fusible")
    row = db.session.scalar(sa.select(VisitorPushSubscription))
    assert row.last_success_at is not None and row.failure_count == 0


def test_a_push_resume_link_proves_no_address_and_holds_for_no_other_conversation(client, session, brand, away):
    other = answered_chat(session, brand)
    other_hash = db.session.get(Conversation, other.id).visitor_token_hash
    # Signed for another conversation's visitor: the numbers say `away`, the signature does not hold.
    token = tokens.push_resume_token(away.id, other_hash, utcnow())
    assert client.get(f"/widget/{brand.widget_key}/resume/{token}").status_code == 404
    assert db.session.get(Conversation, away.id, populate_existing=True).contact_id is None


def test_a_long_reply_is_shortened_and_the_title_is_in_the_visitors_language(session, brand, away, push_service,
                                                                              browser_keys):
    db.session.get(Conversation, away.id).locale = "fr-FR"
    session.commit()
    message = expert_writes(away, "Bonjour. " + "x" * 500)
    delivery.deliver(message.id)
    payload = decrypted(push_service.received[0], browser_keys)
    assert payload["title"] == "Camille de Lumière vous a répondu"
    assert len(payload["body"]) == delivery.BODY_LENGTH and payload["body"].endswith("…")


def test_a_visitor_on_the_page_gets_no_push(app, session, monkeypatch, brand, chat, push_service, browser_keys):
    monkeypatch.setitem(app.config, "WEB_PUSH_DELIVERY", "background")
    started = []
    monkeypatch.setattr(socketio, "start_background_task", lambda *args: started.append(args))
    subscribe(brand, chat, push_service, browser_keys)
    message = expert_writes(chat, "Vous êtes toujours là ?")  # the visitor is on the page: the chat is active
    assert started == []
    assert delivery.deliver(message.id) == 0
    assert push_service.received == []


def test_a_reply_while_away_is_handed_to_one_background_task_after_the_commit(app, session, monkeypatch, away):
    monkeypatch.setitem(app.config, "WEB_PUSH_DELIVERY", "background")
    started = []
    monkeypatch.setattr(socketio, "start_background_task", lambda *args: started.append(args))
    message = expert_writes(away, "Voici la réponse.")
    assert started == [(push.in_background, app, delivery.deliver, message.id)]


def test_with_delivery_off_nothing_is_started(app, session, monkeypatch, away):
    started = []
    monkeypatch.setattr(socketio, "start_background_task", lambda *args: started.append(args))
    expert_writes(away, "Voici la réponse.")
    assert app.config["WEB_PUSH_DELIVERY"] == "off" and started == []


def test_a_visitor_back_on_the_page_before_the_push_goes_gets_none(session, brand, away, push_service):
    message = expert_writes(away, "Voici la réponse.")
    messages.post_message(away.id, Sender.VISITOR, "v-back", "Je suis revenu")  # back: live again
    assert status_of(away.id) != ConversationStatus.ASYNCHRONOUS
    assert delivery.deliver(message.id) == 0
    assert push_service.received == []


@pytest.mark.parametrize("status", [404, 410])
def test_a_browser_the_push_service_forgot_is_deleted_and_with_the_last_the_way_back(session, brand, away,
                                                                                    push_service, browser_keys,
                                                                                    status):
    push_service.statuses["/visitor-browser"] = status
    message = expert_writes(away, "Voici la réponse.")
    assert delivery.deliver(message.id) == 0
    session.expire_all()
    assert db.session.scalars(sa.select(VisitorPushSubscription)).all() == []
    conversation = db.session.get(Conversation, away.id)
    assert conversation.visitor_push_at is None and not reachable(conversation)


def test_a_failing_push_service_keeps_the_browser_and_counts_the_failure(session, brand, away, push_service,
                                                                         browser_keys):
    subscribe(brand, away, push_service, browser_keys, "/second-browser")
    push_service.statuses["/visitor-browser"] = 503
    message = expert_writes(away, "Voici la réponse.")
    assert delivery.deliver(message.id) == 1
    session.expire_all()
    rows = {row.endpoint: row for row in db.session.scalars(sa.select(VisitorPushSubscription))}
    assert rows[push_service.url("/visitor-browser")].failure_count == 1
    assert rows[push_service.url("/second-browser")].last_success_at is not None
    assert db.session.get(Conversation, away.id).visitor_push_at is not None
