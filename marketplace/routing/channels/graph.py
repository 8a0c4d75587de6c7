"""Meta's Graph API for the messaging channels: the WhatsApp Cloud API and the Messenger Send API.

A client is made per channel account (a WhatsApp phone number, a Facebook Page) with that account's access token
and the base address from the settings (`WHATSAPP_GRAPH_BASE`, `MESSENGER_GRAPH_BASE`: the version is part of it,
e.g. `https://graph.facebook.com/v26.0`), so tests and the demo talk to the fake server under `tests/fake_graph/`.

Every call is bounded (`timeout`: connecting, and the whole of a media download) and every refusal is a
`GraphError` of the class its code belongs to, with Graph's `code` and `details`, and `retryable`:

- `WindowClosed`: outside the customer service window (WhatsApp 131047, Messenger #10/2018278): only a
  template (WhatsApp) or a tagged reply within 7 days (Messenger `HUMAN_AGENT`) goes out; resending will not help;
- `Undeliverable`: the customer cannot be reached (131026, Messenger 551...); not retryable;
- `RateLimited`: a throughput or rate limit (130429, 131056, 4, 80007, 613...); retry later;
- `AuthFailed`: a token expired, revoked or without permission (190, 10, 0, 200-299...); not until it is fixed;
- `GraphUnavailable`: a 5xx, Graph's own temporary errors (1, 2, 131000, 131016...), no answer in time, a broken
  connection; retry later. `may_have_been_sent` says the request left: WhatsApp has no idempotency key, so a
  resend after a timeout may deliver twice;
- `InvalidRequest`: anything else Graph refused (100, 131008, 132001, a media too large...).

A request the caller got wrong before anything is sent (an empty text, a bad kind) raises ValueError.
A failure that comes later, in a `failed` status webhook, carries the same codes: `classify(code)` sorts it alike.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import requests

CONNECT_TIMEOUT_SECONDS = 3.05  # a little over a TCP retransmission window, as requests advises
WHATSAPP_TEXT_MAX = 4096
WHATSAPP_CAPTION_MAX = 1024
WHATSAPP_BUTTONS_BODY_MAX = 1024  # the text above reply buttons
MESSENGER_TEXT_MAX = 2000
WHATSAPP_MEDIA_KINDS = ("image", "document", "audio", "video", "sticker")
_CAPTIONED = ("image", "document", "video")
MESSENGER_ATTACHMENT_KINDS = ("image", "audio", "video", "file")
RESPONSE = "RESPONSE"  # Messenger: a reply within 24 hours of the person's last message
MESSAGE_TAG = "MESSAGE_TAG"
HUMAN_AGENT = "HUMAN_AGENT"  # Messenger: a person's reply within 7 days


class GraphError(Exception):
    """Graph refused a call or did not answer; `code` (and `subcode`) are Graph's when it gave them."""

    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, code: int | None = None, subcode: int | None = None,
                 http_status: int | None = None, details: str | None = None, fbtrace_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.subcode = subcode
        self.http_status = http_status
        self.details = details
        self.fbtrace_id = fbtrace_id

    def __str__(self) -> str:
        return f"{self.message} ({self.details})" if self.details and self.details not in self.message else self.message


class WindowClosed(GraphError):
    """Outside the customer service window: free text is refused; a template (or a tagged reply) is needed."""


class Undeliverable(GraphError):
    """The customer cannot be reached on this channel (not a user, blocked the business, unavailable)."""


class RateLimited(GraphError):
    """Too many messages or calls for now."""

    retryable = True


class AuthFailed(GraphError):
    """The access token is missing, expired, revoked or lacks a permission."""


class GraphUnavailable(GraphError):
    """No usable answer: a 5xx, a temporary Graph error, a timeout or a broken connection."""

    retryable = True

    def __init__(self, message: str, *, may_have_been_sent: bool = False, **graph: Any) -> None:
        super().__init__(message, **graph)
        self.may_have_been_sent = may_have_been_sent


class InvalidRequest(GraphError):
    """Graph refused the request as made (a parameter, a template, a media file)."""


_WINDOW_CODES = {131047, 470}
_UNDELIVERABLE_CODES = {131026, 131021, 131049, 131050, 551}
_RATE_CODES = {4, 17, 32, 613, 80007, 130429, 131048, 131056, 133016}
_AUTH_CODES = {0, 3, 10, 102, 190, 131005, 131031}
_TEMPORARY_CODES = {1, 2, 131000, 131016, 133004}
_MESSENGER_OUTSIDE_WINDOW = 2018278
_MESSENGER_NO_USER = {2018001, 2018108, 2018109}


def classify(code: int | None, subcode: int | None = None, http_status: int | None = None) -> type[GraphError]:
    """The error class of a Graph error code (from an answer, or from a failed status webhook)."""
    if subcode == _MESSENGER_OUTSIDE_WINDOW or code in _WINDOW_CODES:
        return WindowClosed
    if code in _UNDELIVERABLE_CODES or subcode in _MESSENGER_NO_USER:
        return Undeliverable
    if code in _RATE_CODES or http_status == 429:
        return RateLimited
    if code in _AUTH_CODES or (code is not None and 200 <= code <= 299) or http_status in (401, 403):
        return AuthFailed
    if code in _TEMPORARY_CODES or (http_status is not None and http_status >= 500):
        return GraphUnavailable
    return InvalidRequest


def error_from_answer(http_status: int, payload: Any) -> GraphError:
    """Build the typed error of a Graph error answer (`{"error": {message, type, code, error_data, ...}}`)."""
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        kind = classify(None, http_status=http_status)
        return kind(f"Graph answered {http_status} without an error object", http_status=http_status)
    code, subcode = _int_or_none(error.get("code")), _int_or_none(error.get("error_subcode"))
    data = error.get("error_data")
    details = data.get("details") if isinstance(data, dict) else (data if isinstance(data, str) else None)
    kind = classify(code, subcode, http_status)
    return kind(str(error.get("message") or f"Graph error {code}"), code=code, subcode=subcode,
                http_status=http_status, details=details, fbtrace_id=error.get("fbtrace_id"))


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class SentMessage:
    """A message Graph accepted: its id (`wamid....` or Messenger's `m_...`) and the recipient as Graph knows them.

    Accepted is not delivered: statuses (and, on WhatsApp, a late 131047 refusal) come by webhook.
    """

    message_id: str
    recipient: str
    status: str | None = None  # WhatsApp's `message_status` when given ("accepted", "held_for_quality_assessment")


@dataclass(frozen=True)
class MediaInfo:
    """A WhatsApp media's metadata; `url` works for about five minutes, with the bearer token."""

    media_id: str
    url: str
    mime_type: str
    sha256: str
    file_size: int


@dataclass(frozen=True)
class PhoneNumberInfo:
    """A WhatsApp Business number as Meta shows it: `display_phone_number` as people dial it ("+1 555-010-0000"),
    `verified_name` the business name WhatsApp shows."""

    display_phone_number: str
    verified_name: str | None

    @property
    def digits(self) -> str:
        """The number's digits, country code first (what a wa.me link takes)."""
        return "".join(c for c in self.display_phone_number if c.isascii() and c.isdigit())


@dataclass(frozen=True)
class DownloadedMedia:
    content: bytes
    mime_type: str
    sha256: str  # hex digest of `content`, checked against Graph's when it gave one


class _Transport:
    """HTTP to Graph with one account's token: bounded in time, answers parsed, errors typed."""

    def __init__(self, base: str, access_token: str, timeout: float, session: requests.Session | None) -> None:
        if not access_token:
            raise ValueError("an access token is required")
        self.base = base.rstrip("/")
        self.access_token = access_token
        self.timeout = float(timeout)
        self.session = session

    def call(self, method: str, path: str, *, json_body: Mapping[str, Any] | None = None,
             data: Mapping[str, str] | None = None, files: Mapping[str, Any] | None = None) -> dict[str, Any]:
        response = self._send(method, f"{self.base}/{path.lstrip('/')}", json=json_body, data=data, files=files)
        with response:
            try:
                payload = response.json()
            except ValueError:
                payload = None
        if response.status_code >= 400 or not isinstance(payload, dict):
            raise error_from_answer(response.status_code, payload)
        return payload

    def fetch(self, url: str, *, bearer: bool, max_bytes: int | None) -> tuple[bytes, str]:
        """GET a file whole within `timeout`; refuse it past `max_bytes` without reading the rest."""
        headers = {"Authorization": f"Bearer {self.access_token}"} if bearer else {}
        if not url.startswith(("https://", "http://")):
            raise InvalidRequest(f"not a download address: {url[:80]!r}")
        deadline = time.monotonic() + self.timeout
        response = self._send("GET", url, headers=headers, stream=True, authorize=False)
        with response:
            if response.status_code >= 400:
                try:
                    payload = response.json()
                except ValueError:
                    payload = None
                raise error_from_answer(response.status_code, payload)
            declared = _int_or_none(response.headers.get("Content-Length"))
            if max_bytes is not None and declared is not None and declared > max_bytes:
                raise InvalidRequest(f"the file is {declared} bytes, over the limit of {max_bytes}")
            chunks, size = [], 0
            try:
                for chunk in response.iter_content(64 * 1024):
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise InvalidRequest(f"the file is over the limit of {max_bytes} bytes")
                    if time.monotonic() > deadline:
                        raise GraphUnavailable(f"the download took longer than {self.timeout:g} s")
                    chunks.append(chunk)
            except requests.RequestException as exc:
                raise GraphUnavailable(f"the download broke off: {type(exc).__name__}") from exc
            mime_type = response.headers.get("Content-Type", "application/octet-stream").split(";")[0].strip()
        return b"".join(chunks), mime_type

    def _send(self, method: str, url: str, *, headers: dict[str, str] | None = None, authorize: bool = True,
              **options: Any) -> requests.Response:
        headers = dict(headers or {})
        if authorize:
            headers["Authorization"] = f"Bearer {self.access_token}"
        timeout = (min(CONNECT_TIMEOUT_SECONDS, self.timeout), self.timeout)
        send = self.session.request if self.session is not None else requests.request
        try:
            return send(method, url, headers=headers, timeout=timeout, allow_redirects=True, **options)
        except requests.ConnectTimeout as exc:
            raise GraphUnavailable(f"Graph did not accept a connection within {timeout[0]:g} s") from exc
        except requests.Timeout as exc:
            raise GraphUnavailable(f"Graph did not answer within {self.timeout:g} s",
                                   may_have_been_sent=method != "GET") from exc
        except requests.ConnectionError as exc:
            raise GraphUnavailable(f"no connection to Graph: {type(exc).__name__}",
                                   may_have_been_sent=method != "GET") from exc


def _text(value: str, field: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{field} must be a non-empty text")
    if len(value) > limit:
        raise ValueError(f"{field} is longer than {limit} characters")
    return value


def _wa_id(to: str) -> str:
    digits = (to or "").strip().removeprefix("+")
    if not digits.isdigit() or not 6 <= len(digits) <= 20:
        raise ValueError(f"a WhatsApp recipient is a phone number in international form, not {to!r}")
    return digits


def _text_parameters(part: str, values: Sequence[str]) -> dict[str, Any]:
    """A template component whose parameters are texts, in order ({{1}}, {{2}}...)."""
    return {"type": part, "parameters": [{"type": "text", "text": _text(value, f"{part} parameter", 1024)}
                                         for value in values]}


def _sent_whatsapp(payload: dict[str, Any], to: str) -> SentMessage:
    try:
        message = payload["messages"][0]
        contacts = payload.get("contacts") or [{}]
        return SentMessage(str(message["id"]), str(contacts[0].get("wa_id") or to), message.get("message_status"))
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        raise GraphUnavailable("Graph's answer names no message id", may_have_been_sent=True) from exc


class WhatsAppClient:
    """One WhatsApp Business phone number on the Cloud API (`POST /{phone-number-id}/messages`, `/media`)."""

    def __init__(self, base: str, phone_number_id: str, access_token: str, *, timeout: float = 10.0,
                 session: requests.Session | None = None) -> None:
        if not str(phone_number_id).isdigit():
            raise ValueError(f"a phone number id is digits, not {phone_number_id!r}")
        self.phone_number_id = str(phone_number_id)
        self._graph = _Transport(base, access_token, timeout, session)

    @classmethod
    def from_config(cls, config: Mapping[str, Any], phone_number_id: str, access_token: str,
                    session: requests.Session | None = None) -> WhatsAppClient:
        return cls(config["WHATSAPP_GRAPH_BASE"], phone_number_id, access_token,
                   timeout=config["GRAPH_TIMEOUT_SECONDS"], session=session)

    def send_text(self, to: str, body: str, *, preview_url: bool = False,
                  reply_to: str | None = None) -> SentMessage:
        """Send free text (only inside the 24-hour window: outside it Graph answers 131047)."""
        text = {"body": _text(body, "body", WHATSAPP_TEXT_MAX), "preview_url": preview_url}
        return self._send(to, "text", text, reply_to)

    def send_media(self, to: str, kind: str, media_id: str, *, caption: str | None = None,
                   filename: str | None = None, reply_to: str | None = None) -> SentMessage:
        """Send an uploaded media by its id (`upload_media`); a caption for images, documents and videos."""
        if kind not in WHATSAPP_MEDIA_KINDS:
            raise ValueError(f"kind must be one of {', '.join(WHATSAPP_MEDIA_KINDS)}, not {kind!r}")
        media: dict[str, Any] = {"id": _text(media_id, "media_id", 128)}
        if caption:
            if kind not in _CAPTIONED:
                raise ValueError(f"a {kind} takes no caption")
            media["caption"] = _text(caption, "caption", WHATSAPP_CAPTION_MAX)
        if filename:
            if kind != "document":
                raise ValueError("only a document takes a file name")
            media["filename"] = _text(filename, "filename", 240)
        return self._send(to, kind, media, reply_to)

    def send_buttons(self, to: str, body: str, buttons: Sequence[tuple[str, str]]) -> SentMessage:
        """Send text with reply buttons (`(id, title)`: 1 to 3, titles of 20 characters at most); the customer's tap
        comes back as an `interactive` message with the button's id and title (only inside the 24-hour window)."""
        if not 1 <= len(buttons) <= 3:
            raise ValueError("reply buttons are 1 to 3")
        interactive = {"type": "button", "body": {"text": _text(body, "body", WHATSAPP_BUTTONS_BODY_MAX)},
                       "action": {"buttons": [{"type": "reply", "reply": {"id": _text(button_id, "id", 256),
                                                                          "title": _text(title, "title", 20)}}
                                              for button_id, title in buttons]}}
        return self._send(to, "interactive", interactive, None)

    def send_template(self, to: str, name: str, language: str, *, body_parameters: Sequence[str] = (),
                      header_parameters: Sequence[str] = (),
                      components: Sequence[Mapping[str, Any]] | None = None) -> SentMessage:
        """Send an approved template (allowed outside the window); text parameters fill its {{1}}, {{2}}...

        `components` replaces the body and header parameters when a template needs more (buttons, media headers).
        """
        template: dict[str, Any] = {"name": _text(name, "name", 512),
                                    "language": {"code": _text(language, "language", 16)}}
        if components is None:
            components = [_text_parameters(part, values) for part, values in
                          (("header", header_parameters), ("body", body_parameters)) if values]
        if components:
            template["components"] = [dict(component) for component in components]
        return self._send(to, "template", template, None)

    def phone_number_info(self) -> PhoneNumberInfo:
        """The number's display number and verified name (`GET /{phone-number-id}?fields=...`)."""
        payload = self._graph.call("GET", f"{self.phone_number_id}?fields=display_phone_number,verified_name")
        number = payload.get("display_phone_number")
        if not isinstance(number, str) or not number.strip():
            raise InvalidRequest(f"Graph's answer about number {self.phone_number_id} has no display_phone_number")
        name = payload.get("verified_name")
        return PhoneNumberInfo(number.strip(), name if isinstance(name, str) and name else None)

    def upload_media(self, content: bytes, mime_type: str, filename: str = "file") -> str:
        """Upload a file (multipart) for sending; answers its media id (kept 30 days by Meta)."""
        if not content:
            raise ValueError("the file is empty")
        payload = self._graph.call("POST", f"{self.phone_number_id}/media",
                                   data={"messaging_product": "whatsapp", "type": mime_type},
                                   files={"file": (filename, content, mime_type)})
        if not payload.get("id"):
            raise GraphUnavailable("Graph's answer names no media id", may_have_been_sent=True)
        return str(payload["id"])

    def media_info(self, media_id: str) -> MediaInfo:
        """A media's temporary download address and metadata (`GET /{media-id}`)."""
        payload = self._graph.call("GET", _text(str(media_id), "media_id", 128))
        try:
            return MediaInfo(str(payload.get("id") or media_id), str(payload["url"]), str(payload["mime_type"]),
                             str(payload.get("sha256") or ""), int(payload.get("file_size") or 0))
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidRequest(f"Graph's answer about media {media_id} has no usable url") from exc

    def download_media(self, media_id: str, *, max_bytes: int | None = None) -> DownloadedMedia:
        """The bytes of a media (an inbound image, say): its address from `media_info`, then a GET with the token.

        A file over `max_bytes` is refused (InvalidRequest) without being read whole; one whose SHA-256 differs
        from Graph's is refused as broken (GraphUnavailable: fetching again may work).
        """
        info = self.media_info(media_id)
        if max_bytes is not None and info.file_size > max_bytes:
            raise InvalidRequest(f"the file is {info.file_size} bytes, over the limit of {max_bytes}")
        content, served_type = self._graph.fetch(info.url, bearer=True, max_bytes=max_bytes)
        digest = hashlib.sha256(content).hexdigest()
        if info.sha256 and digest != info.sha256.lower():
            raise GraphUnavailable(f"media {media_id} arrived damaged (its SHA-256 differs)")
        return DownloadedMedia(content, info.mime_type or served_type, digest)

    def _send(self, to: str, kind: str, content: Mapping[str, Any], reply_to: str | None) -> SentMessage:
        recipient = _wa_id(to)
        body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": recipient,
                                "type": kind, kind: dict(content)}
        if reply_to:
            body["context"] = {"message_id": reply_to}
        return _sent_whatsapp(self._graph.call("POST", f"{self.phone_number_id}/messages", json_body=body),
                              recipient)


class MessengerClient:
    """One Facebook Page on the Messenger Send API (`POST /{page-id}/messages`, `/message_attachments`)."""

    def __init__(self, base: str, page_id: str, access_token: str, *, timeout: float = 10.0,
                 session: requests.Session | None = None) -> None:
        if not str(page_id).isdigit():
            raise ValueError(f"a page id is digits, not {page_id!r}")
        self.page_id = str(page_id)
        self._graph = _Transport(base, access_token, timeout, session)

    @classmethod
    def from_config(cls, config: Mapping[str, Any], page_id: str, access_token: str,
                    session: requests.Session | None = None) -> MessengerClient:
        return cls(config["MESSENGER_GRAPH_BASE"], page_id, access_token, timeout=config["GRAPH_TIMEOUT_SECONDS"],
                   session=session)

    def send_text(self, psid: str, text: str, *, human_agent: bool = False,
                  quick_replies: Sequence[tuple[str, str]] = ()) -> SentMessage:
        """Send text to a person (their page-scoped id); `human_agent` tags a person's reply after 24 hours.
        `quick_replies` (`(payload, title)`, titles of 20 characters at most) show as buttons under it; a tap comes
        back as a message with that title as its text."""
        message: dict[str, Any] = {"text": _text(text, "text", MESSENGER_TEXT_MAX)}
        if quick_replies:
            message["quick_replies"] = [{"content_type": "text", "title": _text(title, "title", 20),
                                         "payload": _text(payload, "payload", 1000)}
                                        for payload, title in quick_replies]
        return self._send(psid, message, human_agent)

    def send_attachment(self, psid: str, kind: str, *, attachment_id: str | None = None, url: str | None = None,
                        human_agent: bool = False) -> SentMessage:
        """Send an uploaded attachment (`upload_attachment`) or one Meta fetches from `url`."""
        if kind not in MESSENGER_ATTACHMENT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(MESSENGER_ATTACHMENT_KINDS)}, not {kind!r}")
        if (attachment_id is None) == (url is None):
            raise ValueError("give either attachment_id or url")
        payload = {"attachment_id": attachment_id} if attachment_id else {"url": url, "is_reusable": False}
        return self._send(psid, {"attachment": {"type": kind, "payload": payload}}, human_agent)

    def upload_attachment(self, content: bytes, mime_type: str, filename: str, kind: str) -> str:
        """Upload a file (multipart) for sending; answers its reusable attachment id."""
        if kind not in MESSENGER_ATTACHMENT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(MESSENGER_ATTACHMENT_KINDS)}, not {kind!r}")
        if not content:
            raise ValueError("the file is empty")
        message = {"attachment": {"type": kind, "payload": {"is_reusable": True}}}
        payload = self._graph.call("POST", f"{self.page_id}/message_attachments",
                                   data={"message": json.dumps(message)},
                                   files={"filedata": (filename, content, mime_type)})
        if not payload.get("attachment_id"):
            raise GraphUnavailable("Graph's answer names no attachment id", may_have_been_sent=True)
        return str(payload["attachment_id"])

    def download_attachment(self, url: str, *, max_bytes: int | None = None) -> DownloadedMedia:
        """The bytes of an inbound attachment: its `payload.url` is a signed CDN address, fetched without the token."""
        content, mime_type = self._graph.fetch(url, bearer=False, max_bytes=max_bytes)
        return DownloadedMedia(content, mime_type, hashlib.sha256(content).hexdigest())

    def _send(self, psid: str, message: Mapping[str, Any], human_agent: bool) -> SentMessage:
        if not str(psid).isdigit():
            raise ValueError(f"a page-scoped id is digits, not {psid!r}")
        body: dict[str, Any] = {"recipient": {"id": str(psid)}, "message": dict(message),
                                "messaging_type": MESSAGE_TAG if human_agent else RESPONSE}
        if human_agent:
            body["tag"] = HUMAN_AGENT
        payload = self._graph.call("POST", f"{self.page_id}/messages", json_body=body)
        if not payload.get("message_id"):
            raise GraphUnavailable("Graph's answer names no message id", may_have_been_sent=True)
        return SentMessage(str(payload["message_id"]), str(payload.get("recipient_id") or psid))
