"""POST /api/v1/inbound-mail: a mail provider's inbound route, behind a shared secret."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.database import db
from marketplace.routing.models import ConversationStatus, EndReason, Message, Sender
from marketplace.routing.router.admission import end_conversation
from tests.routing.continuation.mails import reply, reply_address_of

SECRET = "s3cret-of-the-inbound-route-0123456789"
PATH = "/api/v1/inbound-mail"


@pytest.fixture
def secret(app, monkeypatch) -> str:
    monkeypatch.setitem(app.config, "INBOUND_MAIL_SECRET", SECRET)
    return SECRET


def post_mail(client, raw: bytes, secret: str | None):
    headers = {"Content-Type": "message/rfc822"} | ({"X-Inbound-Secret": secret} if secret is not None else {})
    return client.post(PATH, data=raw, headers=headers)


def stored_replies(conversation_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Message).where(
        Message.conversation_id == conversation_id, Message.sender == Sender.VISITOR))


def test_a_reply_posted_with_the_secret_is_stored_once(client, away, secret):
    raw = reply(reply_address_of(away.id), message_id="<route-1@example.com>").as_bytes()
    first = post_mail(client, raw, secret)
    assert first.status_code == 200
    assert first.get_json() == {"conversation_id": away.id, "seq": first.get_json()["seq"], "created": True}
    again = post_mail(client, raw, secret)
    assert again.get_json()["created"] is False
    assert stored_replies(away.id) == 1


def test_a_wrong_or_missing_secret_is_refused_and_stores_nothing(client, away, secret):
    raw = reply(reply_address_of(away.id)).as_bytes()
    for wrong in (None, "", SECRET[:-1], SECRET + "x"):
        response = post_mail(client, raw, wrong)
        assert response.status_code == 401
        assert response.mimetype == "application/problem+json"
    assert stored_replies(away.id) == 0


def test_without_a_secret_set_the_route_takes_nothing(client, away):
    for given in ("anything", "", None):
        response = post_mail(client, reply(reply_address_of(away.id)).as_bytes(), given)
        assert response.status_code == 401
    assert stored_replies(away.id) == 0


def test_a_refused_mail_answers_422_without_saying_why(client, away, secret):
    response = post_mail(client, reply(reply_address_of(away.id), sender="eve@example.com").as_bytes(), secret)
    assert response.status_code == 422
    assert "sender" not in response.get_data(as_text=True).lower()
    assert stored_replies(away.id) == 0


def test_the_endpoint_is_in_the_openapi_document(client):
    document = client.get("/api/openapi.json").get_json()
    assert "post" in document["paths"]["/api/v1/inbound-mail"]


def test_a_mail_the_brand_cannot_take_now_answers_503_so_the_provider_sends_it_again(client, session, brand, away,
                                                                                      secret):
    address = reply_address_of(away.id)
    end_conversation(away.id, ConversationStatus.CLOSED, EndReason.EXPERT, expert_id=away.expert.id)
    brand.async_expert_limit, brand.max_concurrent = 0, 0
    session.commit()
    response = post_mail(client, reply(address).as_bytes(), secret)
    assert response.status_code == 503 and response.mimetype == "application/problem+json"
    assert stored_replies(away.id) == 0
