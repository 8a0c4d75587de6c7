"""Webhook bodies from Meta, turned into plain dataclasses once their signature is verified.

WhatsApp posts `{"object": "whatsapp_business_account", "entry": [{"id", "changes": [{"field": "messages",
"value": {"metadata": {"phone_number_id"}, "contacts", "messages", "statuses"}}]}]}`; Messenger posts
`{"object": "page", "entry": [{"id", "time", "messaging": [{"sender": {"id"}, "recipient": {"id"}, "timestamp",
"message" | "postback" | "delivery" | "read"}]}]}`. One body may carry several entries, changes and events: each
becomes an `InboundMessage` or a `StatusUpdate`, in the body's order, tagged with the account (phone number id or
page id) it is for.

What is not a conversation's business is skipped, not refused: other webhook fields (template reviews, account
updates), Messenger echoes of the page's own messages, reactions, unknown statuses. A body that is not what Meta
sends (not JSON, a missing id, a timestamp that is no time) raises `MalformedWebhook` naming the faulty place
(`entry[0].changes[1].value.messages[0].id`), before anything is stored: the webhook answers 400, never a 500.

`account_ids` reads only the account ids, to pick the app secret that verifies the signature; nothing else in an
unverified body is looked at.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from marketplace.errors import DomainError

WHATSAPP = "whatsapp"
MESSENGER = "messenger"
CHANNELS = (WHATSAPP, MESSENGER)
_OBJECTS = {WHATSAPP: "whatsapp_business_account", MESSENGER: "page"}
WHATSAPP_MEDIA = ("image", "document", "audio", "video", "sticker")
STATUSES = ("sent", "delivered", "read", "failed")
_MESSENGER_MEDIA = {"image": "image", "audio": "audio", "video": "video", "file": "document"}


class MalformedWebhook(DomainError):
    """A webhook body that is not what Meta sends; `field` is where it goes wrong."""

    status = 400
    title = "Malformed webhook"


@dataclass(frozen=True)
class Media:
    """A file that came with a message: a WhatsApp media id (`WhatsAppClient.download_media`) or a Messenger URL."""

    media_id: str | None = None
    url: str | None = None
    mime_type: str | None = None
    sha256: str | None = None
    filename: str | None = None
    voice: bool = False  # a WhatsApp voice note


@dataclass(frozen=True)
class InboundMessage:
    """A customer's message. `kind`: text, image, document, audio, video, sticker, button (a quick reply or a
    postback), interactive (a reply to a list or reply buttons), or another platform type carried as named.

    `text` is the text, a media's caption or a button's label; `reply_id` the chosen button's payload or id;
    `context_id` the message it answers, when the customer quoted one.
    """

    channel: str
    account_id: str
    message_id: str
    sender: str
    timestamp: dt.datetime
    kind: str
    text: str | None = None
    media: Media | None = None
    reply_id: str | None = None
    context_id: str | None = None
    sender_name: str | None = None


@dataclass(frozen=True)
class StatusError:
    """Why a message failed, as Meta says it (`code` sorts it: `graph.classify(code)`)."""

    code: int | None
    title: str | None
    message: str | None = None
    details: str | None = None


@dataclass(frozen=True)
class StatusUpdate:
    """What became of a message the business sent: sent, delivered, read or failed.

    A Messenger receipt's watermark names no message (`message_id` None): every message sent to `recipient` up to
    `up_to` was delivered, or read.
    `category` and `billable` are WhatsApp's pricing of the message, when it says.
    """

    channel: str
    account_id: str
    message_id: str | None
    recipient: str
    status: str
    timestamp: dt.datetime
    errors: tuple[StatusError, ...] = ()
    up_to: dt.datetime | None = None
    category: str | None = None
    billable: bool | None = None


@dataclass(frozen=True)
class WebhookBatch:
    channel: str
    messages: tuple[InboundMessage, ...]
    statuses: tuple[StatusUpdate, ...]


class _Reader:
    """Walks a decoded body, naming the place of anything missing or of the wrong type."""

    def __init__(self, value: Any, where: str) -> None:
        self.value, self.where = value, where

    def at(self, key: str | int) -> _Reader:
        return _Reader(self._get(key), self.name(key))

    def name(self, key: str | int) -> str:
        """The place of `key` inside this value, as `entry[0].changes[0].value`."""
        if isinstance(key, int):
            return f"{self.where}[{key}]"
        return f"{self.where}.{key}" if self.where else key

    def has(self, key: str) -> bool:
        return isinstance(self.value, dict) and self.value.get(key) is not None

    def items(self, key: str, *, required: bool = False) -> list[_Reader]:
        value = self._get(key) if required else (self.value.get(key) if isinstance(self.value, dict) else None)
        if value is None:
            return []
        if not isinstance(value, list):
            raise MalformedWebhook(f"{self.name(key)} must be a list", self.name(key))
        return [_Reader(item, f"{self.name(key)}[{index}]") for index, item in enumerate(value)]

    def text(self, key: str, *, required: bool = True) -> str | None:
        value = self._get(key) if required else (self.value.get(key) if isinstance(self.value, dict) else None)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise MalformedWebhook(f"{self.name(key)} must be a text", self.name(key))
        value = str(value)
        if required and not value:
            raise MalformedWebhook(f"{self.name(key)} is empty", self.name(key))
        return value

    def time(self, key: str, *, milliseconds: bool = False) -> dt.datetime:
        raw = self.text(key)
        assert raw is not None
        try:
            number = int(raw)
            return dt.datetime.fromtimestamp(number / 1000 if milliseconds else number, dt.UTC)
        except (ValueError, OverflowError, OSError):
            raise MalformedWebhook(f"{self.name(key)} is not a Unix time: {raw[:32]!r}", self.name(key)) from None

    def _get(self, key: str | int) -> Any:
        container = self.value
        try:
            value = container[key]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            value = None
        if value is None:
            kind = "an object" if isinstance(key, str) else "a list"
            if not isinstance(container, dict | list):
                raise MalformedWebhook(f"{self.where} must be {kind}", self.where)
            raise MalformedWebhook(f"{self.name(key)} is missing", self.name(key))
        return value


def _decode(channel: str, raw_body: bytes | str) -> _Reader:
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {', '.join(CHANNELS)}")
    try:
        body = json.loads(raw_body)
    except (ValueError, TypeError):
        raise MalformedWebhook("the body is not JSON", "body") from None
    if not isinstance(body, dict):
        raise MalformedWebhook("the body must be a JSON object", "body")
    if body.get("object") != _OBJECTS[channel]:
        raise MalformedWebhook(f"object must be {_OBJECTS[channel]!r} for {channel}", "object")
    return _Reader(body, "")


def account_ids(channel: str, raw_body: bytes | str) -> tuple[str, ...]:
    """The phone number ids (WhatsApp) or page ids (Messenger) a body is for, in order, without repeats."""
    body = _decode(channel, raw_body)
    found: list[str] = []
    for entry in _entries(body):
        if channel == WHATSAPP:
            ids = [change.at("value").at("metadata").text("phone_number_id") for change in _changes(entry)]
        else:
            ids = [entry.text("id")]
        found.extend(i for i in ids if i and i not in found)
    return tuple(found)


def parse_whatsapp(raw_body: bytes | str) -> WebhookBatch:
    """The messages and statuses of a verified WhatsApp Cloud API webhook body."""
    body = _decode(WHATSAPP, raw_body)
    messages: list[InboundMessage] = []
    statuses: list[StatusUpdate] = []
    for entry in _entries(body):
        for change in _changes(entry):
            value = change.at("value")
            account = value.at("metadata").text("phone_number_id")
            assert account is not None
            names = {contact.text("wa_id"): _profile_name(contact) for contact in value.items("contacts")}
            messages.extend(_whatsapp_message(account, item, names) for item in value.items("messages"))
            statuses.extend(s for s in (_whatsapp_status(account, item) for item in value.items("statuses")) if s)
    return WebhookBatch(WHATSAPP, tuple(messages), tuple(statuses))


def parse_messenger(raw_body: bytes | str) -> WebhookBatch:
    """The messages and receipts of a verified Messenger webhook body (echoes and other events skipped)."""
    body = _decode(MESSENGER, raw_body)
    messages: list[InboundMessage] = []
    statuses: list[StatusUpdate] = []
    for entry in _entries(body):
        page = entry.text("id")
        assert page is not None
        for event in entry.items("messaging"):
            sender = event.at("sender").text("id")
            assert sender is not None
            at = event.time("timestamp", milliseconds=True)
            if event.has("message"):
                messages.extend(_messenger_message(page, sender, at, event.at("message")))
            elif event.has("postback"):
                postback = event.at("postback")
                message_id = postback.text("mid", required=False) or f"postback.{sender}.{event.text('timestamp')}"
                messages.append(InboundMessage(MESSENGER, page, message_id, sender, at, "button",
                                               text=postback.text("title", required=False),
                                               reply_id=postback.text("payload", required=False)))
            elif event.has("delivery"):
                delivery = event.at("delivery")
                up_to = delivery.time("watermark", milliseconds=True) if delivery.has("watermark") else at
                statuses.extend(StatusUpdate(MESSENGER, page, mid, sender, "delivered", at, up_to=up_to)
                                for mid in _mids(delivery))
                if delivery.has("watermark"):
                    # Every message sent before it was delivered, those `mids` names and the others (an older
                    # Messenger client names none).
                    statuses.append(StatusUpdate(MESSENGER, page, None, sender, "delivered", at, up_to=up_to))
            elif event.has("read"):
                statuses.append(StatusUpdate(MESSENGER, page, None, sender, "read", at,
                                             up_to=event.at("read").time("watermark", milliseconds=True)))
    return WebhookBatch(MESSENGER, tuple(messages), tuple(statuses))


def parse(channel: str, raw_body: bytes | str) -> WebhookBatch:
    return parse_whatsapp(raw_body) if channel == WHATSAPP else parse_messenger(raw_body)


def _entries(body: _Reader) -> list[_Reader]:
    entries = body.items("entry", required=True)
    for entry in entries:
        if not isinstance(entry.value, dict):
            raise MalformedWebhook(f"{entry.where} must be an object", entry.where)
    return entries


def _changes(entry: _Reader) -> list[_Reader]:
    """The changes about messages (other fields, such as template reviews, are not a conversation's)."""
    return [change for change in entry.items("changes") if change.text("field") == "messages"]


def _profile_name(contact: _Reader) -> str | None:
    return contact.at("profile").text("name", required=False) if contact.has("profile") else None


def _whatsapp_message(account: str, item: _Reader, names: dict[str | None, str | None]) -> InboundMessage:
    sender, kind = item.text("from"), item.text("type")
    assert sender is not None and kind is not None
    fields: dict[str, Any] = {}
    if kind == "text":
        fields["text"] = item.at("text").text("body")
    elif kind in WHATSAPP_MEDIA:
        media = item.at(kind)
        fields["media"] = Media(media_id=media.text("id"), mime_type=media.text("mime_type", required=False),
                                sha256=media.text("sha256", required=False),
                                filename=media.text("filename", required=False),
                                voice=media.value.get("voice") is True)
        fields["text"] = media.text("caption", required=False)
    elif kind == "button":
        button = item.at("button")
        fields["text"], fields["reply_id"] = button.text("text"), button.text("payload", required=False)
    elif kind == "interactive":
        interactive = item.at("interactive")
        reply_type = interactive.text("type")
        if reply_type in ("button_reply", "list_reply"):  # others (a flow's answer) carry no choice to show
            reply = interactive.at(reply_type)
            fields["text"], fields["reply_id"] = reply.text("title"), reply.text("id")
    context = item.at("context").text("id", required=False) if item.has("context") else None
    return InboundMessage(WHATSAPP, account, item.text("id") or "", sender, item.time("timestamp"), kind,
                          context_id=context, sender_name=names.get(sender), **fields)


def _whatsapp_status(account: str, item: _Reader) -> StatusUpdate | None:
    status = item.text("status")
    if status not in STATUSES:
        return None  # "deleted", "warning" and whatever Meta adds later: not a delivery status
    errors = tuple(StatusError(_code(error), error.text("title", required=False),
                               error.text("message", required=False),
                               error.at("error_data").text("details", required=False) if error.has("error_data")
                               else None)
                   for error in item.items("errors"))
    pricing = item.value.get("pricing") if isinstance(item.value.get("pricing"), dict) else {}
    billable = pricing.get("billable")
    return StatusUpdate(WHATSAPP, account, item.text("id"), item.text("recipient_id") or "", status,
                        item.time("timestamp"), errors, category=pricing.get("category") or None,
                        billable=billable if isinstance(billable, bool) else None)


def _code(error: _Reader) -> int | None:
    raw = error.text("code", required=False)
    try:
        return None if raw is None else int(raw)
    except ValueError:
        raise MalformedWebhook(f"{error.name('code')} is not a number", error.name("code")) from None


def _messenger_message(page: str, sender: str, at: dt.datetime, message: _Reader) -> list[InboundMessage]:
    mid = message.text("mid")
    assert mid is not None
    if message.value.get("is_echo"):
        return []  # the page's own message, sent from here or from Meta's inbox
    context = message.at("reply_to").text("mid", required=False) if message.has("reply_to") else None
    text = message.text("text", required=False)
    attachments = message.items("attachments")
    if not attachments:
        if message.has("quick_reply"):
            return [InboundMessage(MESSENGER, page, mid, sender, at, "button", text=text, context_id=context,
                                   reply_id=message.at("quick_reply").text("payload"))]
        return [InboundMessage(MESSENGER, page, mid, sender, at, "text", text=message.text("text"),
                               context_id=context)]
    found = []
    for index, attachment in enumerate(attachments):
        # One Messenger message may carry several files under one mid: each is a message of its own here, the
        # first with the mid itself, the others with a stable suffix, so a redelivery finds each again.
        message_id = mid if index == 0 else f"{mid}#{index}"
        kind = attachment.text("type")
        assert kind is not None
        media = None
        if kind in _MESSENGER_MEDIA:
            media = Media(url=attachment.at("payload").text("url"))
            kind = _MESSENGER_MEDIA[kind]
        found.append(InboundMessage(MESSENGER, page, message_id, sender, at, kind, media=media, context_id=context,
                                    text=text if index == 0 else None))
    return found


def _mids(delivery: _Reader) -> list[str]:
    mids = [mid for mid in delivery.items("mids") if isinstance(mid.value, str) and mid.value]
    if len(mids) != len(delivery.items("mids")):
        raise MalformedWebhook(f"{delivery.name('mids')} must hold message ids", delivery.name("mids"))
    return [mid.value for mid in mids]
