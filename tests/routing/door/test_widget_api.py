"""The visitor's calls from the widget frame, and the frame's embedding policy."""

from __future__ import annotations

import re

from marketplace.database import db
from marketplace.routing.models import Conversation, ConversationStatus, LeftMessage, Offer
from marketplace.routing.router import offers
from tests.routing.conftest import online_expert, visitor_token


def call(client, method, path, token, **kwargs):
    return client.open(path, method=method, headers={"X-Visitor-Token": token}, **kwargs)


def test_the_frame_may_only_be_embedded_by_the_brands_origins(client, brand):
    response = client.get(f"/widget/{brand.widget_key}")
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://shop.example.com;" in policy
    assert "X-Frame-Options" not in response.headers
    assert client.get("/").headers.get("X-Frame-Options") == "DENY"


def test_the_frame_hands_its_script_the_status_groups_of_the_lifecycle(client, brand):
    """widget.js keeps no status list of its own: the queue's statuses and those of a chat that is over come from
    the frame, and with those an expert holds (the visitor there or away) they are every status a conversation may
    have."""
    page = client.get(f"/widget/{brand.widget_key}").get_data(as_text=True)
    queued = re.search(r'data-statuses-queued="([^"]*)"', page).group(1).split()
    assigned = re.search(r'data-statuses-assigned="([^"]*)"', page).group(1).split()
    over = re.search(r'data-statuses-over="([^"]*)"', page).group(1).split()
    with_bot = re.search(r'data-statuses-bot="([^"]*)"', page).group(1).split()
    assert queued == ["waiting", "offered"]
    assert assigned == ["active", "asynchronous"]
    assert with_bot == ["bot"]
    assert sorted(over) == ["abandoned", "capped", "closed", "missed", "resolved"]
    assert sorted([*queued, *assigned, *with_bot, *over]) == sorted(status.value for status in ConversationStatus)
    assert page.index("js/clock.js") < page.index("js/chat_log.js") < page.index("js/widget.js")


def test_an_unknown_key_is_not_found(client):
    assert client.get("/widget/pk_nope").status_code == 404
    response = client.post("/api/widget/pk_nope/conversations", json={}, headers={"X-Visitor-Token": "a" * 40})
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_the_loader_script_is_served_for_other_sites(client):
    response = client.get("/widget.js")
    response.close()  # a file response: close it, or its file stays open
    assert response.status_code == 200
    assert "javascript" in response.mimetype
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"


def test_a_visitor_starts_writes_and_reads_back(client, session, brand):
    token = visitor_token()
    started = call(client, "POST", f"/api/widget/{brand.widget_key}/conversations", token,
                   json={"page_url": "https://shop.example.com/lamps", "topic": "Delivery"})
    assert started.status_code == 201, started.json
    conversation = started.json
    assert conversation["status"] == "waiting" and conversation["position"] == 1
    assert conversation["estimated_wait_seconds"] is None  # nobody online
    base = f"/api/widget/{brand.widget_key}/conversations/{conversation['id']}"
    sent = call(client, "POST", f"{base}/messages", token, json={"client_id": "v-1", "body": "Hello"})
    assert sent.status_code == 201 and sent.json["seq"] == 1
    resent = call(client, "POST", f"{base}/messages", token, json={"client_id": "v-1", "body": "Hello"})
    assert resent.status_code == 200 and resent.json["seq"] == 1
    listed = call(client, "GET", f"{base}/messages?after=0", token)
    assert [m["body"] for m in listed.json["messages"]] == ["Hello"]


def test_another_token_cannot_see_the_conversation(client, brand):
    token = visitor_token()
    started = call(client, "POST", f"/api/widget/{brand.widget_key}/conversations", token, json={})
    path = f"/api/widget/{brand.widget_key}/conversations/{started.json['id']}"
    assert call(client, "GET", path, visitor_token()).status_code == 404
    assert call(client, "GET", path, token).status_code == 200


def test_bad_input_names_the_field(client, brand):
    response = call(client, "POST", f"/api/widget/{brand.widget_key}/conversations", "short", json={})
    assert response.status_code == 422 and "visitor_token" in response.json["errors"]
    token = visitor_token()
    response = call(client, "POST", f"/api/widget/{brand.widget_key}/conversations", token,
                    json={"page_url": "javascript:alert(1)"})
    assert response.status_code == 422 and "page_url" in response.json["errors"]


def test_a_topic_must_be_one_the_brand_offers(client, session, brand):
    brand.topics = ["Delivery", "Returns"]
    session.commit()
    response = call(client, "POST", f"/api/widget/{brand.widget_key}/conversations", visitor_token(),
                    json={"topic": "Something else"})
    assert response.status_code == 422 and "topic" in response.json["errors"]


def test_leaving_a_message_instead_of_waiting_reaches_the_brands_inbox(client, session, brand):
    token = visitor_token()
    started = call(client, "POST", f"/api/widget/{brand.widget_key}/conversations", token, json={})
    base = f"/api/widget/{brand.widget_key}/conversations/{started.json['id']}"
    bad = call(client, "POST", f"{base}/left-message", token, json={"email": "nope", "body": "Call me"})
    assert bad.status_code == 422 and "email" in bad.json["errors"]
    left = call(client, "POST", f"{base}/left-message", token, json={"email": "ana@example.com", "body": "Call me"})
    assert left.status_code == 201
    stored = db.session.get(LeftMessage, left.json["id"])
    assert (stored.brand_id, stored.email, stored.body) == (brand.id, "ana@example.com", "Call me")
    assert db.session.get(Conversation, started.json["id"]).status == ConversationStatus.ABANDONED
    again = call(client, "POST", f"{base}/left-message", token, json={"email": "ana@example.com", "body": "x"})
    assert again.status_code == 409


def test_a_closed_chat_is_rated_once(client, session, brand):
    expert = online_expert(brand)
    session.commit()
    token = visitor_token()
    started = call(client, "POST", f"/api/widget/{brand.widget_key}/conversations", token, json={})
    assert started.json["status"] == "offered"
    offer = db.session.scalar(db.select(Offer).where(Offer.conversation_id == started.json["id"]))
    offers.accept_offer(expert.id, offer.id)
    base = f"/api/widget/{brand.widget_key}/conversations/{started.json['id']}"
    early = call(client, "POST", f"{base}/rating", token, json={"rating": 5})
    assert early.status_code == 409
    closed = call(client, "POST", f"{base}/leave", token)
    assert closed.json["status"] == "closed" and closed.json["may_rate"] is True
    bad = call(client, "POST", f"{base}/rating", token, json={"rating": 6})
    assert bad.status_code == 422 and "rating" in bad.json["errors"]
    rated = call(client, "POST", f"{base}/rating", token, json={"rating": 4, "comment": "Helpful"})
    assert rated.status_code == 200 and rated.json["rating"] == 4 and rated.json["may_rate"] is False
    assert call(client, "POST", f"{base}/rating", token, json={"rating": 1}).status_code == 409
