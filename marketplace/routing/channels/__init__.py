"""Messaging channels: conversations that come in and go out through a messaging app (WhatsApp, Messenger).

The foundation every channel adapter stands on, none of it tied to Flask or the database:

- `graph.py`: Meta's Graph API as a small client over `requests`: `WhatsAppClient` (text, media by id,
  templates, media upload and download) and `MessengerClient` (text and attachments, `RESPONSE` or the
  `HUMAN_AGENT` tag), every refusal a typed `GraphError` carrying Graph's code and whether a retry may help;
- `signatures.py`: `X-Hub-Signature-256` (HMAC-SHA256 of the raw body with the app secret), made and checked in
  constant time;
- `payloads.py`: a verified webhook body turned into plain dataclasses (inbound messages and delivery statuses),
  a malformed one refused with `MalformedWebhook` naming the faulty field;
- `windows.py`: Meta's customer service windows (24 hours; 7 days for a person's reply on Messenger).

Nothing is registered here yet: the adapters, their webhooks and their reachers (`routing/delivery.py`) come in
the packages that use these modules. Tests run the real client against the Meta-compatible fake server under
`tests/fake_graph/`.
"""
