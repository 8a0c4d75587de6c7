"""The widget's calls refuse mistyped input field by field (422, never 500) and store nothing when they do."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from marketplace.database import db
from marketplace.routing.door import waits
from marketplace.routing.models import Conversation, ConversationStatus, LeftMessage, Message, Offer
from marketplace.routing.router import offers
from tests.routing.conftest import online_expert, visitor_token

MISTYPED = [pytest.param([], id="list"), pytest.param({}, id="object"), pytest.param(7, id="number"),
            pytest.param(True, id="boolean")]
# One character more than each field holds (the page address: 501 characters).
TOO_LONG = {"topic": "t" * 81, "page_url": "https://shop.example.com/" + "p" * 476, "locale": "fr-FR-paris",
            "client_id": "c" * 65, "message_body": "m" * 2001, "comment": "c" * 1001,
            "email": "e" * 243 + "@example.com", "left_body": "b" * 4001}
BIGGEST_ID = 2**63 - 1


def call(client, method, path, token, **kwargs):
    return client.open(path, method=method, headers={"X-Visitor-Token": token}, **kwargs)


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def start(client, brand, token: str | None = None, **body):
    return call(client, "POST", f"/api/widget/{brand.widget_key}/conversations", token or visitor_token(), json=body)


def waiting_chat(client, brand) -> tuple[str, str]:
    """A visitor's waiting conversation: (their token, the conversation's path)."""
    token = visitor_token()
    started = start(client, brand, token)
    assert started.status_code == 201, started.json
    return token, f"/api/widget/{brand.widget_key}/conversations/{started.json['id']}"


def finished_chat(client, session, brand) -> tuple[str, str, int]:
    """A conversation an expert answered and the visitor closed, waiting for its rating."""
    expert = online_expert(brand)
    session.commit()
    token = visitor_token()
    started = start(client, brand, token)
    offer = db.session.scalar(sa.select(Offer).where(Offer.conversation_id == started.json["id"]))
    offers.accept_offer(expert.id, offer.id)
    path = f"/api/widget/{brand.widget_key}/conversations/{started.json['id']}"
    assert call(client, "POST", f"{path}/leave", token).json["may_rate"] is True
    return token, path, started.json["id"]


def refused(response, field: str) -> None:
    assert response.status_code == 422, (response.status_code, response.get_data(as_text=True)[:300])
    assert response.mimetype == "application/problem+json"
    assert field in response.json["errors"], response.json


# Starting a chat.

@pytest.mark.parametrize("field", ["topic", "page_url", "locale"])
@pytest.mark.parametrize("value", [*MISTYPED, pytest.param(None, id="too-long")])
def test_it_refuses_a_start_with_a_mistyped_field(client, brand, field, value):
    before = count(Conversation)
    refused(start(client, brand, **{field: TOO_LONG[field] if value is None else value}), field)
    assert count(Conversation) == before


@pytest.mark.parametrize("field", ["topic", "page_url", "locale"])
def test_it_starts_a_chat_with_a_field_left_null(client, session, brand, field):
    started = start(client, brand, **{field: None})
    assert started.status_code == 201, started.json
    assert getattr(db.session.get(Conversation, started.json["id"]), field) is None


def test_it_keeps_the_fields_at_their_longest(client, session, brand):
    page_url = TOO_LONG["page_url"][:500]
    started = start(client, brand, topic="t" * 80, page_url=page_url, locale="fr")
    assert started.status_code == 201, started.json
    stored = db.session.get(Conversation, started.json["id"])
    assert (stored.topic, stored.page_url, stored.locale) == ("t" * 80, page_url, "fr")


def test_it_ignores_fields_it_does_not_know(client, session, brand):
    started = start(client, brand, topic="Delivery", colour="blue")
    assert started.status_code == 201, started.json
    assert db.session.get(Conversation, started.json["id"]).topic == "Delivery"


def test_it_refuses_a_malformed_page_address_naming_it(client, brand):
    before = count(Conversation)
    refused(start(client, brand, page_url="http://[::1"), "page_url")
    assert count(Conversation) == before


def test_it_answers_a_start_with_the_whole_visitor_view(client, session, brand):
    started = start(client, brand, topic="Delivery")
    assert started.status_code == 201
    assert started.json == waits.visitor_view(db.session.get(Conversation, started.json["id"]))


@pytest.mark.parametrize(("data", "content_type", "status"), [
    ("topic=Delivery", "application/x-www-form-urlencoded", 415),
    ("{not json", "application/json", 400),
    ("[1, 2]", "application/json", 400),
])
def test_it_refuses_a_body_that_is_not_a_json_object(client, brand, data, content_type, status):
    before = count(Conversation)
    response = call(client, "POST", f"/api/widget/{brand.widget_key}/conversations", visitor_token(), data=data,
                    content_type=content_type)
    assert response.status_code == status
    assert "body" in response.json["errors"]
    assert count(Conversation) == before


# Writing.

@pytest.mark.parametrize("field", ["client_id", "body"])
@pytest.mark.parametrize("value", [*MISTYPED, pytest.param(None, id="null"), pytest.param("too-long", id="too-long")])
def test_it_refuses_a_message_with_a_mistyped_field(client, session, brand, field, value):
    token, path = waiting_chat(client, brand)
    message = {"client_id": "v-1", "body": "Hello"}
    message[field] = TOO_LONG["message_body" if field == "body" else field] if value == "too-long" else value
    before = count(Message)
    refused(call(client, "POST", f"{path}/messages", token, json=message), field)
    assert count(Message) == before
    assert db.session.scalar(sa.select(Conversation.last_seq).where(Conversation.id == int(path.rsplit("/", 1)[1]))) \
        == 0


@pytest.mark.parametrize("field", ["client_id", "body"])
def test_it_refuses_a_message_missing_a_field(client, session, brand, field):
    token, path = waiting_chat(client, brand)
    message = {"client_id": "v-1", "body": "Hello"}
    del message[field]
    refused(call(client, "POST", f"{path}/messages", token, json=message), field)
    assert count(Message) == 0


def test_it_stores_a_message_at_its_longest(client, session, brand):
    token, path = waiting_chat(client, brand)
    sent = call(client, "POST", f"{path}/messages", token, json={"client_id": "c" * 64, "body": "m" * 2000})
    assert sent.status_code == 201, sent.json
    assert (sent.json["client_id"], len(sent.json["body"]), sent.json["seq"]) == ("c" * 64, 2000, 1)


# Reading.

@pytest.mark.parametrize("after", ["²", "٣", "-1", "99999999999999999999", "9223372036854775808", "", " 1", "1_0",
                                   "1.0", "x"])
def test_it_refuses_a_sequence_number_that_is_not_one(client, session, brand, after):
    token, path = waiting_chat(client, brand)
    refused(call(client, "GET", f"{path}/messages", token, query_string={"after": after}), "after")


@pytest.mark.parametrize("after", ["0", str(BIGGEST_ID), None])
def test_it_reads_messages_after_any_sequence_number(client, session, brand, after):
    token, path = waiting_chat(client, brand)
    call(client, "POST", f"{path}/messages", token, json={"client_id": "v-1", "body": "Hello"})
    query = {"after": after} if after is not None else {}
    listed = call(client, "GET", f"{path}/messages", token, query_string=query)
    assert listed.status_code == 200
    assert [m["body"] for m in listed.json["messages"]] == ([] if after == str(BIGGEST_ID) else ["Hello"])


# Rating.

@pytest.mark.parametrize("value", [*MISTYPED, pytest.param("too-long", id="too-long")])
def test_it_refuses_a_rating_with_a_mistyped_comment(client, session, brand, value):
    token, path, conversation_id = finished_chat(client, session, brand)
    comment = TOO_LONG["comment"] if value == "too-long" else value
    refused(call(client, "POST", f"{path}/rating", token, json={"rating": 4, "comment": comment}), "comment")
    assert db.session.get(Conversation, conversation_id, populate_existing=True).rating is None


@pytest.mark.parametrize("rating", ["4", 4.5, 4.0, True, None, [], {}, 0, 6, 2**63])
def test_it_refuses_a_rating_that_is_not_one_to_five(client, session, brand, rating):
    token, path, conversation_id = finished_chat(client, session, brand)
    refused(call(client, "POST", f"{path}/rating", token, json={"rating": rating}), "rating")
    assert db.session.get(Conversation, conversation_id, populate_existing=True).rating is None


def test_it_stores_a_rating_with_a_null_comment(client, session, brand):
    token, path, conversation_id = finished_chat(client, session, brand)
    rated = call(client, "POST", f"{path}/rating", token, json={"rating": 5, "comment": None})
    assert rated.status_code == 200, rated.json
    stored = db.session.get(Conversation, conversation_id, populate_existing=True)
    assert (stored.rating, stored.rating_comment) == (5, None)


# Leaving a message.

@pytest.mark.parametrize("field", ["email", "body"])
@pytest.mark.parametrize("value", [*MISTYPED, pytest.param(None, id="null"), pytest.param("too-long", id="too-long")])
def test_it_refuses_a_left_message_with_a_mistyped_field(client, session, brand, field, value):
    token, path = waiting_chat(client, brand)
    left = {"email": "ana@example.com", "body": "Call me"}
    left[field] = TOO_LONG["left_body" if field == "body" else field] if value == "too-long" else value
    before = count(LeftMessage)
    refused(call(client, "POST", f"{path}/left-message", token, json=left), field)
    assert count(LeftMessage) == before
    conversation_id = int(path.rsplit("/", 1)[1])
    assert db.session.get(Conversation, conversation_id, populate_existing=True).status == ConversationStatus.WAITING


# Conversations that are not there.

CALLS = [("GET", "", None), ("GET", "/messages", None), ("POST", "/messages", {"client_id": "v-1", "body": "Hi"}),
         ("POST", "/leave", None), ("POST", "/rating", {"rating": 4}),
         ("POST", "/left-message", {"email": "ana@example.com", "body": "Call me"})]


@pytest.mark.parametrize(("method", "suffix", "body"), CALLS)
@pytest.mark.parametrize("conversation_id", ["unknown", BIGGEST_ID, 2**63, 10**30])
def test_it_answers_404_for_a_conversation_that_is_not_there(client, session, brand, method, suffix, body,
                                                             conversation_id):
    token, path = waiting_chat(client, brand)
    if conversation_id == "unknown":
        conversation_id = int(path.rsplit("/", 1)[1]) + 1000
    before = (count(Conversation), count(Message), count(LeftMessage))
    response = call(client, method, f"/api/widget/{brand.widget_key}/conversations/{conversation_id}{suffix}", token,
                    **({"json": body} if body is not None else {}))
    assert response.status_code == 404, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json"
    assert (count(Conversation), count(Message), count(LeftMessage)) == before


# The frame.

def page_url_of(html: str) -> str:
    return re.search(r'data-page-url="([^"]*)"', html).group(1)


@pytest.mark.parametrize(("page", "kept"), [
    ("https://shop.example.com/lamps?colour=red", "https://shop.example.com/lamps?colour=red"),
    ("  https://shop.example.com/  ", "https://shop.example.com/"),
    ("https://shop.example.com/" + "p" * 600, "https://shop.example.com/" + "p" * 475),  # 500 characters
    ("javascript:alert(1)", ""),
    ("http://[::1", ""),
    ("", ""),
])
def test_the_frame_keeps_only_a_web_page_address_that_fits(client, brand, page, kept):
    response = client.get(f"/widget/{brand.widget_key}", query_string={"page": page})
    assert response.status_code == 200
    assert page_url_of(response.get_data(as_text=True)) == kept.replace("&", "&amp;")
