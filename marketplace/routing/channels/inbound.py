"""A messaging app's webhook: verified, then each customer's message becomes a conversation's, routed like a chat.

Nothing in a body is trusted before its signature is: only the account ids are read from it (`payloads.
account_ids`), to find the connected accounts whose app secret must verify `X-Hub-Signature-256` over the raw
bytes. A body that names an account nobody connected, or is unsigned, or badly signed, is refused (`Refused`:
403) and changes nothing (rule 15). Then it is parsed (a malformed one: 400) and taken in order:

- each customer's messages, sorted by the platform's timestamps (a batch may come out of order): the customer's
  open conversation with the brand through that account, else a new one let in at the door like a web visitor
  (`door.services.come_in`: the same caps, queue, router and offers), then the message stored as the visitor's
  (`chat/messages.post_message`) with a client id derived from the platform's message id, so a delivery Meta
  retries is stored once (rule 15); only then is a new conversation offered to an expert (the router offers none
  that holds no message yet), and one that ended in between sends the message to the door again. A customer who
  writes is present (`visitor_seen_at`), and Meta's window for a free reply opens again from their message's
  time. A message refused at the door, file included, is kept with the refused conversation (rule 13). Images
  and documents are fetched from Graph and stored through the attachments pipeline (type from the content,
  scanned, stripped, the brand's size limit); what cannot be shown there (a voice note, a video, a location, a
  file the pipeline refuses) arrives as a line saying so;
- each status (sent, delivered, read, failed) moves the outbound record it names (`statuses.apply_status`).

A customer is known to the conversation tables by a key made of the account and their platform id (never a
browser token), so they have one open conversation per account, and nothing links them across brands (rule 14). A
WhatsApp customer is also the brand's contact by the number WhatsApp verified (contacts/), joined to a web visitor
by the widget's handover code.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext

from marketplace.brands.models import Brand
from marketplace.database import db, end_read, unit_of_work, utcnow
from marketplace.errors import Conflict, DomainError, Unavailable
from marketplace.experts import services as experts
from marketplace.routing import events
from marketplace.routing.attachments import services as attachments
from marketplace.routing.channels import connections, payloads, statuses, windows
from marketplace.routing.channels.graph import GraphError, MessengerClient, WhatsAppClient
from marketplace.routing.channels.signatures import verify_signature
from marketplace.routing.chat.messages import BODY_LENGTH, Posted, post_message
from marketplace.routing.contacts import handover
from marketplace.routing.contacts import services as contacts
from marketplace.routing.door import services as door
from marketplace.routing.models import Channel, Conversation, Message, Sender

log = logging.getLogger("marketplace.routing.channels")
_FILES = ("image", "document")  # what the attachments pipeline may take (photos and PDF, decided by the content)
# How often a message goes to the door when its conversation ended before it was stored (once more nearly always does).
DOOR_ATTEMPTS = 3


class Refused(DomainError):
    """A webhook that is not verified as Meta's for a connected account: nothing of it is taken."""

    status = 403
    title = "Forbidden"


@dataclass(frozen=True)
class Taken:
    messages: int  # stored now (a redelivered one is not counted)
    statuses: int  # records moved


def customer_key(channel_id: int, customer: str) -> str:
    """The stored key of a customer of one account (what a browser's token hash is for the widget's visitor)."""
    return door.hash_token(f"channel:{channel_id}:{customer}")


def client_id_for(kind: Channel, platform_message_id: str) -> str:
    """A message's client id from the platform's id (a wamid runs to 100+ characters): the same id, the same
    client id, so a redelivery is the same message."""
    return f"{kind.value[:2]}-" + hashlib.sha256(platform_message_id.encode()).hexdigest()[:48]


def receive(kind: Channel, raw_body: bytes, signature: str | None) -> Taken:
    """Verify a webhook's body, then take its messages and statuses (see the module's docstring)."""
    try:
        account_ids = payloads.account_ids(kind.value, raw_body)
    except payloads.MalformedWebhook:
        raise Refused("The body names no account.") from None  # unverified: its faults are nobody's to hear of
    accounts = connections.for_accounts(kind, account_ids)
    if not account_ids or len(accounts) != len(account_ids):
        raise Refused("The body names an account that is not connected.")
    if not all(verify_signature(account.app_secret, raw_body, signature) for account in accounts.values()):
        raise Refused("The signature does not verify.")
    batch = payloads.parse(kind.value, raw_body)
    stored = 0
    for message in sorted(batch.messages, key=lambda m: m.timestamp):
        stored += _take(accounts[message.account_id], message)
    moved = 0
    for status in batch.statuses:
        with unit_of_work():
            moved += statuses.apply_status(accounts[status.account_id].channel_id, status)
    return Taken(stored, moved)


def _take(account: connections.Credentials, message: payloads.InboundMessage) -> bool:
    """Store one customer's message in their conversation; False when it was stored before (a redelivery).

    A conversation let in for it is offered once the message is stored (`door.come_in`), the brand routed then
    (`door.first_message_stored`: also when an earlier delivery let it in but failed before storing the message,
    Meta's second one routes it; a crash before routing leaves it to the router's sweep). A conversation that ended
    between the door and the message (its expert closed it that instant) takes nothing more: the message goes to
    the door again, and so to the customer's new conversation, never lost (rule 13).
    """
    client_id = client_id_for(account.kind, message.message_id)
    key = customer_key(account.channel_id, message.sender)
    if _stored_before(account.brand_id, key, client_id):
        return False
    attempt = 1
    while True:
        conversation, let_in = door.come_in(account.brand_id, key, channel=account.kind,
                                            channel_id=account.channel_id, channel_customer=message.sender)
        conversation_id = conversation.id
        try:
            posted = _store(account, conversation, key, message, client_id)
            break
        except Conflict:
            if attempt == DOOR_ATTEMPTS:
                raise
            attempt += 1
            log.info("conversation %s ended before message %s was stored in it: to the door again", conversation_id,
                     message.message_id)
    door.first_message_stored(account.brand_id, conversation_id, let_in, posted)
    return posted.created


def _store(account: connections.Credentials, conversation: Conversation, key: str, message: payloads.InboundMessage,
           client_id: str) -> Posted:
    """Make the customer the brand's contact, note that they wrote, then store their message (and its file)."""
    conversation_id = conversation.id
    if account.kind == Channel.WHATSAPP and (conversation.contact_id is None or handover.find_code(message.text)):
        # WhatsApp verified the sender's number: they are the brand's contact by it (once linked, a message costs
        # nothing more here unless it carries the web widget's handover code).
        contacts.whatsapp_customer_wrote(account.brand_id, conversation_id, key, message.sender, message.sender_name,
                                         message.text)
    _customer_wrote(conversation_id, account, message)
    if message.media is not None and message.kind in _FILES:
        posted = _take_file(account, conversation, message, client_id)
        if posted is not None:
            return posted
    return post_message(conversation_id, Sender.VISITOR, client_id, _text_of(message), kept_if_refused=True)


def _stored_before(brand_id: int, key: str, client_id: str) -> bool:
    """Whether the message is stored already, in any of this customer's conversations (checked first: a
    redelivery neither starts a conversation nor fetches a file again; the unique client id holds the race)."""
    found = db.session.scalar(
        sa.select(Message.id).join(Conversation, Conversation.id == Message.conversation_id)
        .where(Conversation.brand_id == brand_id, Conversation.visitor_token_hash == key,
               Message.sender == Sender.VISITOR, Message.client_id == client_id).limit(1))
    end_read()
    return found is not None


def _customer_wrote(conversation_id: int, account: connections.Credentials, message: payloads.InboundMessage) -> None:
    """The customer is present now (seen, back if they had been shown as gone), and Meta's window runs again from
    their message's time, never back in time (a late redelivery of an older message moves nothing): one statement
    on the conversation, the comparison made on its row as the update locks it."""
    closes_at = windows.whatsapp_window_closes_at(message.timestamp) if account.kind == Channel.WHATSAPP \
        else message.timestamp + windows.HUMAN_AGENT_WINDOW
    table = Conversation.__table__.c
    newer = sa.or_(table.customer_wrote_at.is_(None), table.customer_wrote_at < message.timestamp)
    with unit_of_work():
        now = utcnow()
        before = db.session.execute(sa.select(table.window_closes_at, table.visitor_left_at)
                                    .where(table.id == conversation_id)).one()
        db.session.execute(
            sa.update(Conversation).where(Conversation.id == conversation_id)
            .values(customer_wrote_at=sa.case((newer, message.timestamp), else_=table.customer_wrote_at),
                    window_closes_at=sa.case((newer, closes_at), else_=table.window_closes_at),
                    visitor_seen_at=now, visitor_left_at=None)
            .execution_options(synchronize_session=False))
        connections.note_inbound(account.channel_id, now)
        # The expert's chat changes when the window had closed (their composer offered templates only: it shows the
        # free-text box again) or when they were shown the customer had gone; rarely, not on every message.
        reopened = before.window_closes_at is not None and before.window_closes_at <= now < closes_at
        if reopened or before.visitor_left_at is not None:
            _tell_expert(conversation_id)


def _tell_expert(conversation_id: int) -> None:
    conversation = db.session.get(Conversation, conversation_id, populate_existing=True)
    if conversation.expert_id is not None:
        events.chat_changed(conversation, db.session.get(Brand, conversation.brand_id),
                            experts.get_profile(conversation.expert_id).user_id)


def _take_file(account: connections.Credentials, conversation: Conversation, message: payloads.InboundMessage,
               client_id: str) -> Posted | None:
    """Fetch an image or a document and store it through the attachments pipeline; None when it cannot be taken
    there (its message then says so). A pause of Graph or of the virus scanner is not a refusal: the webhook
    answers 503 and Meta delivers it again. Nor is a conversation that ended meanwhile (Conflict: the caller's)."""
    limit = attachments.attachment_limit(account.brand_id)
    client = connections.client_for(account)
    media = message.media
    assert media is not None
    try:
        if isinstance(client, WhatsAppClient):
            downloaded = client.download_media(media.media_id or "", max_bytes=limit)
        else:
            assert isinstance(client, MessengerClient)
            downloaded = client.download_attachment(media.url or "", max_bytes=limit)
        posted = attachments.send_attachment(attachments.Sent(conversation.id, account.brand_id), Sender.VISITOR,
                                             attachments.Upload(media.filename, downloaded.content),
                                             client_id=client_id, caption=(message.text or "")[:BODY_LENGTH],
                                             kept_if_refused=True)
    except GraphError as error:
        if error.retryable:
            raise Unavailable(gettext("Meta's file could not be fetched now."), "media") from error
        log.warning("file %s of %s not fetched: %s", message.message_id, account.kind.value, error)
        return None
    except (Unavailable, Conflict):
        raise
    except DomainError as error:
        log.info("file %s of %s not taken: %s", message.message_id, account.kind.value, error)
        return None
    return posted


def _text_of(message: payloads.InboundMessage) -> str:
    """The message's text for the expert: the customer's words, or a line saying what came that cannot be shown."""
    if message.kind in ("text", "button", "interactive") and message.text and message.text.strip():
        return message.text[:BODY_LENGTH]
    caption = f"\n{message.text}" if message.text else ""
    if message.kind == "audio":
        line = gettext("A voice message arrived; it cannot be played here.") if message.media and message.media.voice \
            else gettext("An audio file arrived; it cannot be played here.")
    elif message.kind in ("image", "document", "sticker", "video"):
        line = gettext("A file arrived that cannot be shown here (%(kind)s).", kind=message.kind)
    else:
        line = gettext("A message arrived that cannot be shown here (%(kind)s).", kind=message.kind)
    return (line + caption)[:BODY_LENGTH]
