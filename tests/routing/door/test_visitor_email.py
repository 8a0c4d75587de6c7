"""The visitor gives an address, with consent, where the chat continues if they leave (issue 18)."""

from __future__ import annotations

from marketplace.database import db
from marketplace.routing.models import Conversation
from tests.routing.conftest import visitor_token


def call(client, path, token, body):
    return client.post(path, json=body, headers={"X-Visitor-Token": token})


def start(client, brand, token):
    answer = call(client, f"/api/widget/{brand.widget_key}/conversations", token, {})
    assert answer.status_code == 201, answer.json
    return answer.json


def test_a_visitor_gives_an_address_with_consent_and_the_widget_is_told(client, brand):
    token = visitor_token()
    conversation = start(client, brand, token)
    assert conversation["email_given"] is False
    answer = call(client, f"/api/widget/{brand.widget_key}/conversations/{conversation['id']}/email", token,
                  {"email": "  Ana@Example.com ", "consent": True})
    assert answer.status_code == 200, answer.json
    assert answer.json["email_given"] is True
    stored = db.session.get(Conversation, conversation["id"], populate_existing=True)
    assert stored.visitor_email == "ana@example.com" and stored.visitor_email_consent_at is not None


def test_a_bad_address_or_no_consent_is_refused_naming_the_field(client, brand):
    token = visitor_token()
    conversation = start(client, brand, token)
    path = f"/api/widget/{brand.widget_key}/conversations/{conversation['id']}/email"
    for body, field in (({"email": "ana@", "consent": True}, "email"),
                        ({"email": "ana@example.com", "consent": False}, "consent"),
                        ({"email": "ana@example.com"}, "consent"),
                        ({"email": "a" * 250 + "@example.com", "consent": True}, "email")):
        answer = call(client, path, token, body)
        assert answer.status_code == 422, (body, answer.json)
        assert answer.mimetype == "application/problem+json"
        assert field in answer.json["errors"], (body, answer.json)
    stored = db.session.get(Conversation, conversation["id"], populate_existing=True)
    assert stored.visitor_email is None and stored.visitor_email_consent_at is None  # nothing half-written


def test_another_visitor_cannot_give_an_address_for_someone_elses_chat(client, brand):
    conversation = start(client, brand, visitor_token())
    answer = call(client, f"/api/widget/{brand.widget_key}/conversations/{conversation['id']}/email",
                  visitor_token(), {"email": "eve@example.com", "consent": True})
    assert answer.status_code == 404
    assert db.session.get(Conversation, conversation["id"]).visitor_email is None
