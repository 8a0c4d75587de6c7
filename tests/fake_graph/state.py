"""What the fake Graph holds: the accounts, media, templates, customers' windows and everything sent."""

from __future__ import annotations

import hashlib
import itertools
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

WINDOW_SECONDS = 24 * 3600
HUMAN_AGENT_SECONDS = 7 * 24 * 3600
MEDIA_URL_SECONDS = 300  # Meta's media download addresses work for five minutes


@dataclass
class WhatsAppNumber:
    """A WhatsApp Business phone number and the app it is connected through (token, app secret, webhook)."""

    phone_number_id: str
    access_token: str
    app_secret: str
    verify_token: str
    display_phone_number: str
    waba_id: str
    webhook_url: str | None = None
    channel: str = "whatsapp"
    verified_name: str = "Test Business"

    @property
    def account_id(self) -> str:
        return self.phone_number_id


@dataclass
class MessengerPage:
    """A Facebook Page and the app it is connected through."""

    page_id: str
    access_token: str
    app_secret: str
    verify_token: str
    webhook_url: str | None = None
    channel: str = "messenger"

    @property
    def account_id(self) -> str:
        return self.page_id


Account = WhatsAppNumber | MessengerPage


@dataclass(frozen=True)
class StoredMedia:
    media_id: str
    account_id: str  # the number (or page) whose token may read it
    content: bytes
    mime_type: str
    filename: str | None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass(frozen=True)
class Template:
    """An approved template: `parameters` is how many body parameters ({{1}}...) it takes."""

    name: str
    language: str
    category: str = "utility"
    parameters: int = 0
    header_parameters: int = 0


@dataclass(frozen=True)
class SentRecord:
    """A message the fake accepted: `body` is the request's JSON as sent; `at` the fake's clock (Unix time)."""

    channel: str
    account_id: str
    message_id: str
    to: str
    kind: str  # text, image, document, audio, video, sticker, template (WhatsApp); text, image, file... (Messenger)
    body: dict[str, Any]
    at: float
    tag: str | None = None  # Messenger's tag (HUMAN_AGENT) when one was given

    @property
    def text(self) -> str | None:
        """The text sent (WhatsApp `text.body` or an interactive message's `body.text`, Messenger `message.text`)."""
        if self.channel == "whatsapp":
            if self.kind == "interactive":
                return ((self.body.get("interactive") or {}).get("body") or {}).get("text")
            return (self.body.get("text") or {}).get("body")
        return (self.body.get("message") or {}).get("text")

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """The reply buttons (WhatsApp) or quick replies (Messenger) under it, as `(id or payload, title)`."""
        if self.channel == "whatsapp":
            action = (self.body.get("interactive") or {}).get("action") or {}
            return [(button["reply"]["id"], button["reply"]["title"]) for button in action.get("buttons") or ()]
        replies = (self.body.get("message") or {}).get("quick_replies") or ()
        return [(reply["payload"], reply["title"]) for reply in replies]


@dataclass
class State:
    """Everything behind the fake's lock."""

    clock: Callable[[], float]
    offset: float = 0.0
    numbers: dict[str, WhatsAppNumber] = field(default_factory=dict)
    pages: dict[str, MessengerPage] = field(default_factory=dict)
    media: dict[str, StoredMedia] = field(default_factory=dict)
    templates: dict[tuple[str, str, str], Template] = field(default_factory=dict)
    last_inbound: dict[tuple[str, str], float] = field(default_factory=dict)
    sent: list[SentRecord] = field(default_factory=list)
    failed_deliveries: list[int] = field(default_factory=list)  # codes of the next sends that fail by webhook
    window_refusal: str = "answer"  # how a free-form WhatsApp message outside the window fails: "answer" or "status"
    base_url: str = ""
    url_key: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def now(self) -> float:
        return self.clock() + self.offset

    def next_id(self) -> int:
        return next(self._ids)

    def account(self, account_id: str) -> Account | None:
        return self.numbers.get(account_id) or self.pages.get(account_id)

    def store_media(self, account_id: str, content: bytes, mime_type: str, filename: str | None) -> StoredMedia:
        media = StoredMedia(str(10**15 + self.next_id()), account_id, content, mime_type, filename)
        self.media[media.media_id] = media
        return media

    def url_hash(self, media_id: str, expires: int) -> str:
        return hashlib.blake2s(f"{media_id}:{expires}".encode(), key=self.url_key, digest_size=12).hexdigest()

    def seconds_since_inbound(self, account_id: str, customer: str) -> float | None:
        last = self.last_inbound.get((account_id, customer))
        return None if last is None else self.now() - last

    def note_inbound(self, account_id: str, customer: str, at: float) -> None:
        key = (account_id, customer)
        self.last_inbound[key] = max(at, self.last_inbound.get(key, at))

    def record(self, record: SentRecord) -> SentRecord:
        self.sent.append(record)
        return record

    def find_sent(self, message_id: str) -> SentRecord:
        for record in self.sent:
            if record.message_id == message_id:
                return record
        raise KeyError(f"the fake Graph sent no message {message_id!r}")
