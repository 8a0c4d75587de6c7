"""FakeGraph: start it, add numbers and pages, point the clients at `graph_base`, play the customer, inspect."""

from __future__ import annotations

import base64
import http.client
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from tests.fake_graph import bodies
from tests.fake_graph.api import Api, GraphFault, GraphServer, RequestRecord
from tests.fake_graph.errors import CATALOG
from tests.fake_graph.state import Account, MessengerPage, SentRecord, State, StoredMedia, Template, WhatsAppNumber
from tests.fake_graph.webhooks import Delivery, Parcel, WebhookSender
from tests.fake_graph.whatsapp import Outcome

DEFAULT_VERSION = "v26.0"
STATUSES = ("sent", "delivered", "read", "failed")
_MESSENGER_KINDS = {"image": "image", "audio": "audio", "video": "video", "document": "file"}


@dataclass(frozen=True)
class Inbound:
    """A customer's message delivered to the app: its id, the exact body posted, every attempt, its stored file."""

    message_id: str
    body: bytes
    deliveries: list[Delivery]
    media_id: str | None = None
    url: str | None = None  # Messenger: the attachment's CDN address

    @property
    def ok(self) -> bool:
        """Whether the last attempt was answered 2xx."""
        return bool(self.deliveries) and self.deliveries[-1].ok


@dataclass(frozen=True)
class Handshake:
    """The webhook's answer to Meta's verification request (`hub.mode=subscribe`)."""

    status: int | None
    body: str
    challenge: str

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.body == self.challenge


class FakeGraph:
    """A Meta-compatible Graph API on a loopback port: WhatsApp Cloud API and Messenger Send API."""

    def __init__(self, *, version: str = DEFAULT_VERSION, clock: Callable[[], float] = time.time,
                 auto_statuses: Iterable[str] = ("sent", "delivered"), window_refusal: str = "answer",
                 webhook_retry_delays: tuple[float, ...] = (0.05, 0.2, 0.5), webhook_timeout: float = 5.0,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        self.version = version
        self.auto_statuses = tuple(auto_statuses)
        self._address = (host, port)
        self._state = State(clock=clock)
        self.window_refusal = window_refusal
        self._webhooks = WebhookSender(retry_delays=webhook_retry_delays, timeout=webhook_timeout)
        self._api = Api(self._state, self._on_sent, self._webhooks.hold, self._webhooks.release)
        self._lock = self._api.lock
        self._server: GraphServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeGraph:
        """Listen on the loopback port (a free one by default) and serve from a background thread."""
        if self._server is not None:
            raise RuntimeError("the fake Graph server is already running")
        self._api.stopping.clear()
        self._server = GraphServer(self._api, *self._address)
        self._state.base_url = self.url
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01},
                                        name="fake-graph", daemon=True)
        self._thread.start()
        self._webhooks.start()
        return self

    def stop(self) -> None:
        """Stop serving: held answers are abandoned, connections closed, threads joined."""
        if self._server is None:
            return
        self._api.stopping.set()
        self._server.close()
        assert self._thread is not None
        self._thread.join()
        self._webhooks.stop()
        self._server = self._thread = None

    def __enter__(self) -> FakeGraph:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the fake Graph server is not running")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def graph_base(self) -> str:
        """The base address for `WHATSAPP_GRAPH_BASE` and `MESSENGER_GRAPH_BASE` (the version included)."""
        return f"{self.url}/{self.version}"

    def reset(self) -> None:
        """Forget accounts, media, templates, windows, sends, faults, logs and deliveries; ids keep increasing."""
        self._webhooks.wait_idle(self._webhooks.timeout * 4)
        with self._lock:
            state = self._state
            for table in (state.numbers, state.pages, state.media, state.templates, state.last_inbound):
                table.clear()
            state.sent.clear()
            state.failed_deliveries.clear()
            state.offset = 0.0
            self._api.faults.clear()
            self._api.log.clear()
            self._api.internal_errors.clear()
        self._webhooks.forget()

    # ------------------------------------------------------------------ accounts

    def add_whatsapp_number(self, phone_number_id: str | None = None, *, access_token: str | None = None,
                            app_secret: str | None = None, verify_token: str | None = None,
                            display_phone_number: str | None = None,
                            webhook_url: str | None = None) -> WhatsAppNumber:
        """A business phone number (ids, token and secrets made up unless given)."""
        with self._lock:
            serial = self._state.next_id()
            number = WhatsAppNumber(
                phone_number_id=phone_number_id or str(106_540_352_240_000 + serial),
                access_token=access_token or "EAAG" + secrets.token_urlsafe(24),
                app_secret=app_secret or secrets.token_hex(16), verify_token=verify_token or secrets.token_hex(8),
                display_phone_number=display_phone_number or f"1555{serial:07d}",
                waba_id=str(102_290_129_340_000 + serial), webhook_url=webhook_url)
            self._state.numbers[number.phone_number_id] = number
            return number

    def add_messenger_page(self, page_id: str | None = None, *, access_token: str | None = None,
                           app_secret: str | None = None, verify_token: str | None = None,
                           webhook_url: str | None = None) -> MessengerPage:
        """A Facebook Page (ids, token and secrets made up unless given)."""
        with self._lock:
            page = MessengerPage(
                page_id=page_id or str(107_000_000_000_000 + self._state.next_id()),
                access_token=access_token or "EAAP" + secrets.token_urlsafe(24),
                app_secret=app_secret or secrets.token_hex(16), verify_token=verify_token or secrets.token_hex(8),
                webhook_url=webhook_url)
            self._state.pages[page.page_id] = page
            return page

    def set_webhook(self, account: Account, url: str | None) -> None:
        """Where this account's webhooks go (the statuses after each send among them); None: nowhere."""
        with self._lock:
            account.webhook_url = url

    def add_template(self, number: WhatsAppNumber, name: str, language: str = "en_US", *,
                     category: str = "utility", parameters: int = 0, header_parameters: int = 0) -> Template:
        """An approved template of the number; a template that was not added is refused with 132001."""
        template = Template(name, language, category, parameters, header_parameters)
        with self._lock:
            self._state.templates[(number.phone_number_id, name, language)] = template
        return template

    # ------------------------------------------------------------------ the clock and the windows

    def now(self) -> float:
        """The fake's time (Unix seconds): its clock, plus every `advance`."""
        with self._lock:
            return self._state.now()

    def advance(self, seconds: float = 0.0, *, hours: float = 0.0, days: float = 0.0) -> None:
        """Move the fake's time forward: windows close, media addresses expire."""
        with self._lock:
            self._state.offset += seconds + hours * 3600 + days * 86400

    def set_last_inbound(self, account: Account, customer: str, *, seconds_ago: float = 0.0) -> None:
        """Say the customer last wrote this long ago (without a webhook): it opens, or dates, the window."""
        with self._lock:
            self._state.last_inbound[(account.account_id, customer)] = self._state.now() - seconds_ago

    @property
    def window_refusal(self) -> str:
        """How free text outside WhatsApp's window fails: "answer" (an error answer, 131047) or "status"
        (accepted, then a `failed` status webhook with 131047, as the Cloud API often does)."""
        return self._state.window_refusal

    @window_refusal.setter
    def window_refusal(self, mode: str) -> None:
        if mode not in ("answer", "status"):
            raise ValueError("window_refusal is 'answer' or 'status'")
        self._state.window_refusal = mode

    # ------------------------------------------------------------------ the customer's side: webhooks

    def deliver_inbound(self, account: Account, sender: str, text: str | None = None, *, kind: str | None = None,
                        content: bytes | None = None, mime_type: str | None = None, filename: str | None = None,
                        caption: str | None = None, button: tuple[str, str] | None = None,
                        reply: tuple[str, str] | None = None, name: str | None = "Camille Client",
                        timestamp: float | None = None, message_id: str | None = None,
                        context_id: str | None = None, repeat: int = 1, signature: str = "good",
                        webhook_url: str | None = None, retry: bool = True) -> Inbound:
        """A customer's message, POSTed now to the account's webhook, signed with its app secret.

        Text by default; a file with `content` and `mime_type` (image, document, audio, video: stored, so the app
        can download it); `button=(payload, text)` a quick-reply button; `reply=(id, title)` an interactive reply
        (WhatsApp) or a postback (Messenger). `repeat` posts the same body (same message id) that many times;
        each delivery is retried after a non-2xx answer unless `retry` is False. `signature`: "good", "bad" or
        "none". The customer's window opens at `timestamp` (default: now) whatever the app answers.
        """
        url = self._webhook_url(account, webhook_url)
        with self._lock:
            at = self._state.now() if timestamp is None else timestamp
            serial = self._state.next_id()
            stored = None
            if content is not None:
                stored = self._state.store_media(account.account_id, content, mime_type or "application/octet-stream",
                                                 filename)
            self._state.note_inbound(account.account_id, sender, at)
        if isinstance(account, WhatsAppNumber):
            message_id = message_id or "wamid." + base64.b64encode(f"\x15\x02in:{sender}:{serial:012d}".encode()
                                                                   ).decode()
            message = bodies.whatsapp_message(sender, message_id, int(at), *self._whatsapp_content(
                text, kind, stored, caption, filename, button, reply), context_id=context_id)
            body, media_url = bodies.whatsapp_inbound(account, message, name), None
        else:
            message_id = message_id or "m_" + base64.urlsafe_b64encode(f"in:{sender}:{serial:012d}".encode()
                                                                       ).decode().rstrip("=")
            media_url = self._cdn_url(stored) if stored else None
            event = self._messenger_event(account, sender, int(at * 1000), message_id, text, kind, stored, media_url,
                                          button, reply, context_id)
            body = bodies.messenger_envelope(account, [event], int(at * 1000))
        raw = json.dumps(body).encode()
        parcel = Parcel(url, raw, account.app_secret, "message", (message_id,), signature)
        deliveries = [attempt for _ in range(repeat) for attempt in self._webhooks.deliver(parcel, retry=retry)]
        return Inbound(message_id, raw, deliveries, stored.media_id if stored else None, media_url)

    def deliver_status(self, message_id: str, status: str, *, error: int | None = None,
                       timestamp: float | None = None, signature: str = "good", repeat: int = 1,
                       webhook_url: str | None = None) -> list[Delivery]:
        """A status of a message the fake sent, POSTed now: WhatsApp sent, delivered, read or failed (`error`,
        a code, 131026 by default); Messenger delivered or read."""
        with self._lock:
            record = self._state.find_sent(message_id)
            account = self._state.account(record.account_id)
            at = self._state.now() if timestamp is None else timestamp
        assert account is not None
        url = self._webhook_url(account, webhook_url)
        body = self._status_body(account, record, status, at, error, "service")
        parcel = Parcel(url, json.dumps(body).encode(), account.app_secret, "status", (message_id,), signature)
        return [attempt for _ in range(repeat) for attempt in self._webhooks.deliver(parcel)]

    def deliver_body(self, account: Account, body: dict[str, Any] | bytes | str, *, signature: str = "good",
                     repeat: int = 1, webhook_url: str | None = None, retry: bool = True) -> list[Delivery]:
        """Any body (several entries, a malformed one...), signed with the account's app secret, POSTed now."""
        raw = body if isinstance(body, bytes) else (body.encode() if isinstance(body, str) else
                                                     json.dumps(body).encode())
        parcel = Parcel(self._webhook_url(account, webhook_url), raw, account.app_secret, "raw", (), signature)
        return [attempt for _ in range(repeat) for attempt in self._webhooks.deliver(parcel, retry=retry)]

    def verify_subscription(self, account: Account, url: str | None = None, *,
                            verify_token: str | None = None) -> Handshake:
        """Meta's verification request: GET the webhook with `hub.mode`, `hub.verify_token`, `hub.challenge`."""
        challenge = str(secrets.randbelow(10**9))
        query = urlencode({"hub.mode": "subscribe", "hub.challenge": challenge,
                           "hub.verify_token": account.verify_token if verify_token is None else verify_token})
        parts = urlsplit(self._webhook_url(account, url))
        connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port,
                                                timeout=self._webhooks.timeout)
        try:
            connection.request("GET", f"{parts.path or '/'}?{query}")
            response = connection.getresponse()
            return Handshake(response.status, response.read().decode("utf-8", "replace"), challenge)
        except (OSError, http.client.HTTPException):
            return Handshake(None, "", challenge)
        finally:
            connection.close()

    def wait_for_webhooks(self, timeout: float = 5.0) -> bool:
        """Wait until every status queued after a send was delivered or given up; False on timeout."""
        return self._webhooks.wait_idle(timeout)

    # ------------------------------------------------------------------ faults

    def fail_next(self, code: int, n: int = 1, *, status: int | None = None, subcode: int | None = None,
                  details: str | None = None, method: str | None = None, path: str | None = None) -> GraphFault:
        """Answer the next `n` matching requests with Graph's error `code` and do nothing (`path`: a glob)."""
        return self._arm(GraphFault("fail", n, method, path, status=status, code=code, subcode=subcode,
                                    details=details))

    def slow_next(self, seconds: float, n: int = 1, *, act: bool = True, method: str | None = None,
                  path: str | None = None) -> GraphFault:
        """Hold the answer of the next `n` matching requests for `seconds`; `act=False`: never act, then close."""
        return self._arm(GraphFault("timeout", n, method, path, seconds=seconds, effect="before" if act else "none"))

    def fail_delivery_next(self, code: int = 131026, n: int = 1) -> None:
        """Accept the next `n` WhatsApp sends, then report each `failed` with `code` by status webhook."""
        with self._lock:
            self._state.failed_deliveries.extend([code] * n)

    def clear_faults(self) -> None:
        with self._lock:
            self._api.faults.clear()
            self._state.failed_deliveries.clear()

    # ------------------------------------------------------------------ inspection (copies)

    def sent(self, to: str | None = None, account: Account | None = None) -> list[SentRecord]:
        """Every message accepted (to one customer, from one account), oldest first."""
        with self._lock:
            return [record for record in self._state.sent if (to is None or record.to == to)
                    and (account is None or record.account_id == account.account_id)]

    def media(self, media_id: str) -> StoredMedia:
        """A stored file (uploaded by the app, or sent by a customer)."""
        with self._lock:
            return self._state.media[media_id]

    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._api.log)

    def deliveries(self) -> list[Delivery]:
        """Every webhook delivery attempt, in order."""
        return self._webhooks.deliveries()

    @property
    def internal_errors(self) -> list[str]:
        """Tracebacks of the fake's own bugs (answered as 500s); a test can assert there are none."""
        return list(self._api.internal_errors)

    # ------------------------------------------------------------------ inside

    def _arm(self, fault: GraphFault) -> GraphFault:
        with self._lock:
            return self._api.faults.arm(fault)

    def _webhook_url(self, account: Account, url: str | None) -> str:
        url = url or account.webhook_url
        if not url:
            raise ValueError(f"no webhook URL for {account.channel} account {account.account_id}")
        return url

    def _cdn_url(self, stored: StoredMedia) -> str:
        return f"{self.url}/cdn/{stored.media_id}?{urlencode({'oh': self._state.url_hash(stored.media_id, 0)})}"

    @staticmethod
    def _whatsapp_content(text: str | None, kind: str | None, stored: StoredMedia | None, caption: str | None,
                          filename: str | None, button: tuple[str, str] | None,
                          reply: tuple[str, str] | None) -> tuple[str, dict[str, Any] | None]:
        if button is not None:
            return "button", {"payload": button[0], "text": button[1]}
        if reply is not None:
            return "interactive", {"type": "button_reply", "button_reply": {"id": reply[0], "title": reply[1]}}
        if stored is None:
            if kind not in (None, "text"):
                return kind, None  # a type the fake does not build (location, reaction...): as named, no content
            if not text:
                raise ValueError("a text message needs its text")
            return "text", {"body": text}
        kind = kind or _kind_of(stored.mime_type)
        media: dict[str, Any] = {"mime_type": stored.mime_type, "sha256": stored.sha256, "id": stored.media_id}
        if caption:
            media["caption"] = caption
        if kind == "document":
            media["filename"] = filename or stored.filename or "document"
        if kind == "audio":
            media["voice"] = False
        return kind, media

    @staticmethod
    def _messenger_event(page: MessengerPage, sender: str, time_ms: int, message_id: str, text: str | None,
                         kind: str | None, stored: StoredMedia | None, media_url: str | None,
                         button: tuple[str, str] | None, reply: tuple[str, str] | None,
                         context_id: str | None) -> dict[str, Any]:
        if reply is not None:
            return bodies.messenger_event(page, sender, time_ms, postback={"mid": message_id, "payload": reply[0],
                                                                           "title": reply[1]})
        message: dict[str, Any] = {"mid": message_id}
        if stored is not None:
            kind = _MESSENGER_KINDS.get(kind or _kind_of(stored.mime_type), "file")
            message["attachments"] = [{"type": kind, "payload": {"url": media_url}}]
        elif button is not None:
            message.update(text=button[1], quick_reply={"payload": button[0]})
        elif text:
            message["text"] = text
        else:
            raise ValueError("a Messenger message needs text, a file, a button or a reply")
        if context_id:
            message["reply_to"] = {"mid": context_id}
        return bodies.messenger_event(page, sender, time_ms, message=message)

    def _status_body(self, account: Account, record: SentRecord, status: str, at: float, error: int | None,
                     category: str) -> dict[str, Any]:
        if isinstance(account, WhatsAppNumber):
            if status not in STATUSES:
                raise ValueError(f"a WhatsApp status is one of {STATUSES}")
            errors = None
            if status == "failed":
                code = error or 131026
                _status, title, details = CATALOG.get(code, (400, f"(#{code}) Error", ""))
                errors = [bodies.whatsapp_error(code, title.split(") ", 1)[-1], details)]
            return bodies.whatsapp_status(account, record.message_id, record.to, status, int(at), category=category,
                                          errors=errors)
        time_ms = int(at * 1000)
        if status == "delivered":
            event = bodies.messenger_event(account, record.to, time_ms,
                                           delivery={"mids": [record.message_id], "watermark": time_ms})
        elif status == "read":
            event = bodies.messenger_event(account, record.to, time_ms, read={"watermark": time_ms})
        else:
            raise ValueError("a Messenger receipt is delivered or read")
        return bodies.messenger_envelope(account, [event], time_ms)

    def _on_sent(self, sent: Outcome | SentRecord) -> None:
        """After an accepted send: the statuses that follow it, from the background thread, when a webhook is set."""
        record = sent.record if isinstance(sent, Outcome) else sent
        with self._lock:
            account = self._state.account(record.account_id)
            at = self._state.now()
        if account is None or not account.webhook_url:
            return
        if isinstance(sent, Outcome):
            statuses = ["failed"] if sent.fails_with else [s for s in self.auto_statuses if s != "failed"]
            category, error = sent.category, sent.fails_with
        else:
            statuses = [s for s in self.auto_statuses if s in ("delivered", "read")]
            category, error = "service", None
        for status in statuses:
            body = self._status_body(account, record, status, at, error, category)
            self._webhooks.enqueue(Parcel(account.webhook_url, json.dumps(body).encode(), account.app_secret,
                                          "status", (record.message_id,)))


def _kind_of(mime_type: str) -> str:
    major = mime_type.split("/")[0]
    return major if major in ("image", "audio", "video") else "document"
