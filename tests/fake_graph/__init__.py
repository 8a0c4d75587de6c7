"""A Meta-compatible fake Graph server on loopback: the WhatsApp Cloud API and the Messenger Send API.

No registry has one, so here it is, for tests, benchmarks, browser tests and the demo. The project's real client
(`marketplace/routing/channels/graph.py`) talks to it over HTTP; it also plays the customer, posting signed
webhooks to the app. Standard library only (a threaded `http.server`, state behind one lock); the HTTP plumbing
and the fault matching are the Stripe fake's (`tests/stripe_fake/transport.py`, `faults.py`).

What it serves, under `/{version}/` (any `vNN.N`; `graph_base` uses v26.0), every call with the account's
`Authorization: Bearer <token>` (or `?access_token=`), else 401 with code 190:

- `POST /{phone-number-id}/messages`: `{"messaging_product": "whatsapp", "recipient_type": "individual", "to",
  "type": text|image|document|audio|video|sticker|template, ...}`. Text `text.body` (1-4096); media by `id` (one
  uploaded through this number) or `link`, `caption` (image, document, video), `filename` (document); templates
  `{name, language: {code}, components: [{type: body|header, parameters: [{type: text, text}]}]}` must have
  been added (`add_template`; else 132001) with as many parameters (else 132000). Answers
  `{"messaging_product": "whatsapp", "contacts": [{"input", "wa_id"}], "messages": [{"id": "wamid..."}]}`.
  **The 24-hour window**: free-form messages to a customer whose last inbound message is more than 24 h old (or
  who never wrote) are refused with 131047 (`window_refusal = "answer"`, the default) or accepted and then
  reported `failed` with 131047 by status webhook (`"status"`, as the Cloud API often does); templates always go.
- `POST /{phone-number-id}/media` (multipart: `messaging_product=whatsapp`, `file`, `type`): Meta's media
  types and size limits (else 131053); answers `{"id"}`.
- `GET /{phone-number-id}?fields=display_phone_number,verified_name`: the number as Meta shows it, with its `id`
  (an unknown field: code 100).
- `GET /{media-id}`: `{"messaging_product", "url", "mime_type", "sha256", "file_size", "id"}`; the `url`
  (`/whatsapp_business/attachments/?mid=..&ext=..&hash=..`) works five minutes, with the owner's bearer token.
- `POST /{page-id}/messages`: `{"recipient": {"id": psid}, "message": {"text"} | {"attachment": {"type":
  image|audio|video|file, "payload": {"url"} | {"attachment_id"}}}, "messaging_type": RESPONSE|UPDATE|MESSAGE_TAG,
  "tag"}`; answers `{"recipient_id", "message_id": "m_..."}`. A person who never wrote: (#100) 2018001; after
  24 h without the `HUMAN_AGENT` tag, or 7 days with it: (#10) 2018278 "outside of allowed window".
- `POST /{page-id}/message_attachments` (multipart `message` JSON and `filedata`): `{"attachment_id"}`.
- Errors in Graph's envelope `{"error": {"message", "type", "code", "error_data": {"messaging_product",
  "details"}, "error_subcode"?, "fbtrace_id"}}`, with the HTTP status Meta uses for the code.

Python API:

    fake = FakeGraph(version="v26.0", clock=time.time, auto_statuses=("sent", "delivered"),
                     window_refusal="answer", webhook_retry_delays=(0.05, 0.2, 0.5), port=0)
    fake.start() / fake.stop()  (or `with FakeGraph() as fake:`); fake.url, fake.graph_base, fake.reset()
    accounts:   number = fake.add_whatsapp_number(phone_number_id=None, access_token=None, app_secret=None,
                    verify_token=None, display_phone_number=None, webhook_url=None) -> WhatsAppNumber
                    (`number.verified_name` may be changed)
                page = fake.add_messenger_page(page_id=None, access_token=None, app_secret=None,
                    verify_token=None, webhook_url=None) -> MessengerPage
                fake.set_webhook(account, url), fake.add_template(number, name, language="en_US",
                    category="utility", parameters=0, header_parameters=0)
    time:       fake.now(), fake.advance(seconds=0, hours=0, days=0),
                fake.set_last_inbound(account, customer, seconds_ago=0.0)
    customer:   fake.deliver_inbound(account, sender, text=None, kind=None, content=None, mime_type=None,
                    filename=None, caption=None, button=(payload, text), reply=(id, title), name=...,
                    timestamp=None, message_id=None, context_id=None, repeat=1, signature="good"|"bad"|"none",
                    webhook_url=None, retry=True) -> Inbound(message_id, body, deliveries, media_id, url, ok)
                fake.deliver_status(message_id, "sent"|"delivered"|"read"|"failed", error=None, ...) -> [Delivery]
                fake.deliver_body(account, body, signature="good", repeat=1, ...) -> [Delivery]
                fake.verify_subscription(account, url=None, verify_token=None) -> Handshake(status, body, ok)
                After each accepted send, when the account has a webhook URL, the statuses in `auto_statuses`
                (WhatsApp: sent, delivered, read; Messenger: delivered, read) follow from a background thread;
                fake.wait_for_webhooks(timeout=5.0) -> bool waits for them.
    faults:     fake.fail_next(code, n=1, status=None, subcode=None, details=None, method=None, path=None)
                fake.slow_next(seconds, n=1, act=True, method=None, path=None)
                fake.fail_delivery_next(code=131026, n=1)  (accepted, then a `failed` status webhook)
                fake.window_refusal = "answer" | "status"; fake.clear_faults()
                (`path` is a glob on the URL path, e.g. "/v26.0/*/messages")
    inspection: fake.sent(to=None, account=None) -> [SentRecord(channel, account_id, message_id, to, kind, body,
                    at, tag, text)], fake.media(media_id) -> StoredMedia, fake.requests() -> [RequestRecord],
                fake.deliveries() -> [Delivery(url, kind, ids, attempt, status, error, signature, body, ok)],
                fake.internal_errors

Webhooks carry `X-Hub-Signature-256: sha256=<HMAC-SHA256 of the body with the account's app secret>` (and the
older SHA-1 `X-Hub-Signature`); a delivery answered non-2xx, or not at all, is retried after each of
`webhook_retry_delays`, with the same body (the same message id). Fixtures (`tests/conftest.py` registers them):
`fake_graph` (a fresh, empty server per test) and `webhook_sink` (a loopback endpoint that keeps every post).
`python -m tests.fake_graph --port 12180 [--webhook URL]` runs one in the foreground with a number and a page.
"""

from tests.fake_graph.api import GraphFault, RequestRecord
from tests.fake_graph.server import DEFAULT_VERSION, FakeGraph, Handshake, Inbound
from tests.fake_graph.sink import Received, WebhookSink
from tests.fake_graph.state import MessengerPage, SentRecord, StoredMedia, Template, WhatsAppNumber
from tests.fake_graph.webhooks import Delivery, headers_for

__all__ = ["DEFAULT_VERSION", "Delivery", "FakeGraph", "GraphFault", "Handshake", "Inbound", "MessengerPage",
           "Received", "RequestRecord", "SentRecord", "StoredMedia", "Template", "WebhookSink", "WhatsAppNumber",
           "headers_for"]
