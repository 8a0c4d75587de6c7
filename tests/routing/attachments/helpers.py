"""A chat with both sides, and clients that send and fetch files as the visitor, the expert or anyone else."""

from __future__ import annotations

import io
from dataclasses import dataclass

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from marketplace.accounts.models import User
from marketplace.brands.models import Brand
from marketplace.database import db
from marketplace.experts.models import ExpertProfile
from marketplace.routing.models import Conversation, Offer, OfferStatus
from marketplace.routing.router import offers
from tests.conftest import log_in
from tests.routing.conftest import arrive, online_expert, visitor_token


@dataclass
class Chat:
    brand: Brand
    conversation: Conversation
    token: str
    expert: ExpertProfile
    expert_user: User

    @property
    def widget(self) -> str:
        return f"/api/widget/{self.brand.widget_key}/conversations/{self.conversation.id}"


def active_chat(session, brand: Brand) -> Chat:
    """A visitor's conversation with the brand that an expert accepted; committed."""
    expert = online_expert(brand)
    session.commit()
    token = visitor_token()
    conversation = arrive(brand, token)
    offer = db.session.scalar(db.select(Offer).where(Offer.conversation_id == conversation.id,
                                                     Offer.status == OfferStatus.PENDING))
    offers.accept_offer(expert.id, offer.id)
    return Chat(brand, conversation, token, expert, session.get(User, expert.user_id))


def logged_in(app: Flask, user: User) -> tuple[FlaskClient, str]:
    """A client of its own logged in as `user`, and its CSRF token."""
    client = app.test_client()
    return client, log_in(client, user.email)


def file_form(data: bytes, name: str = "photo.jpg", client_id: str = "c-1", body: str | None = None,
              content_type: str = "image/jpeg") -> dict:
    """A multipart body as a browser sends it (built in memory: the test client would spool a big one to a file
    that nobody closes when the server refuses it unread)."""
    fields = MultiDict({"client_id": client_id})
    fields.add("file", FileStorage(io.BytesIO(data), filename=name, content_type=content_type))
    if body is not None:
        fields["body"] = body
    boundary, encoded = encode_multipart(fields)
    return {"data": encoded, "content_type": f"multipart/form-data; boundary={boundary}"}


def visitor_sends(client: FlaskClient, chat: Chat, data: bytes, **form):
    return client.post(f"{chat.widget}/attachments", headers={"X-Visitor-Token": chat.token},
                       **file_form(data, **form))


def expert_sends(client: FlaskClient, csrf: str, chat: Chat, data: bytes, **form):
    return client.post(f"/api/v1/conversations/{chat.conversation.id}/attachments", headers={"X-CSRFToken": csrf},
                       **file_form(data, **form))


def visitor_links(client: FlaskClient, chat: Chat, attachment_id: int):
    return client.get(f"{chat.widget}/attachments/{attachment_id}/link", headers={"X-Visitor-Token": chat.token})
