"""Conversations full of a visitor's personal data, their files in a folder of the test's own."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from marketplace.brands.models import Brand
from marketplace.database import db
from marketplace.routing.attachments.storage import LocalStorage
from marketplace.routing.models import (
    Attachment,
    AttachmentKind,
    ChannelDelivery,
    Contact,
    Conversation,
    LeftMessage,
    Message,
    Sender,
    VisitorPushSubscription,
)
from tests.factories import ClosedChatFactory, MessageFactory

# What must never survive anonymisation, wherever it was written.
SECRETS = ("Ana Lopez", "ana@example.com", "+33612345678", "wamid.SECRET")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def files(app, tmp_path) -> LocalStorage:
    """The app's attachment storage for this test: a folder of its own."""
    storage = LocalStorage(tmp_path / "attachments")
    previous = app.extensions.get("attachment_storage")
    app.extensions["attachment_storage"] = storage
    yield storage
    if previous is None:
        app.extensions.pop("attachment_storage", None)
    else:
        app.extensions["attachment_storage"] = previous


@dataclass
class Personal:
    """A conversation holding every kind of the visitor's personal data, and where its file lies on disk."""

    conversation: Conversation
    file: Path

    @property
    def id(self) -> int:
        return self.conversation.id


def contact_of(brand: Brand, email: str = "ana@example.com", phone: str | None = "+33612345678") -> Contact:
    contact = Contact(brand_id=brand.id, email=email, email_normalised=email, phone=phone, display_name="Ana Lopez")
    db.session.add(contact)
    db.session.flush()
    return contact


def personal_chat(brand: Brand, files: LocalStorage, closed_at: dt.datetime, *, contact: Contact | None = None,
                  **fields) -> Personal:
    """A closed chat of `brand` closed at `closed_at` with text, a file, the visitor's address, phone, name, network,
    push subscription, left message and the platform's ids; flushed."""
    conversation = ClosedChatFactory(
        brand=brand, closed_at=closed_at, rating=4, rating_comment="Merci, signé Ana Lopez",
        visitor_email="ana@example.com", visitor_email_consent_at=closed_at, visitor_push_at=closed_at,
        visitor_network="v" * 32, expert_network="e" * 32, page_url="https://shop.example.com/?who=ana@example.com",
        channel_customer="33612345678", resumed_token_hash="r" * 64,
        contact_id=contact.id if contact is not None else None, **fields)
    MessageFactory(conversation=conversation, body="Bonjour, je suis Ana Lopez, +33612345678",
                   client_id="wa:wamid.SECRET")
    reply = MessageFactory(conversation=conversation, sender=Sender.EXPERT, body="Bonjour Ana Lopez !")
    MessageFactory(conversation=conversation, sender=Sender.BOT, body="Voici la réponse pour ana@example.com")
    carrier = MessageFactory(conversation=conversation, body="Ma facture, Ana Lopez")
    key = f"{conversation.id}/{secrets.token_urlsafe(18)}.pdf"
    files.put(key, PDF, "application/pdf")
    db.session.add_all([
        Attachment(conversation_id=conversation.id, message_id=carrier.id, kind=AttachmentKind.PDF,
                   content_type="application/pdf", filename="Ana Lopez passport.pdf", size=len(PDF),
                   storage_key=key),
        VisitorPushSubscription(conversation_id=conversation.id, endpoint="https://push.example/ana",
                                p256dh="k" * 40, auth="a" * 20),
        LeftMessage(brand_id=brand.id, conversation_id=conversation.id, email="ana@example.com",
                    body="Rappelez Ana Lopez au +33612345678"),
        ChannelDelivery(message_id=reply.id, conversation_id=conversation.id, platform_message_id="wamid.SECRET",
                        template_parameters=["Ana Lopez"], fee_cents=5, attempts=1),
    ])
    db.session.flush()
    return Personal(conversation, files.folder / key)


def written_text(conversation_id: int) -> str:
    """Everything stored about the conversation that a person wrote or that identifies them, as one text."""
    rows = []
    for model, column in ((Conversation, Conversation.id), (LeftMessage, LeftMessage.conversation_id),
                          (VisitorPushSubscription, VisitorPushSubscription.conversation_id),
                          (Attachment, Attachment.conversation_id), (ChannelDelivery, ChannelDelivery.conversation_id)):
        rows += [tuple(row) for row in db.session.execute(sa.select(model.__table__).where(column == conversation_id))]
    rows += [tuple(row) for row in db.session.execute(
        sa.select(Message.__table__).where(Message.conversation_id == conversation_id))]
    return repr(rows)
