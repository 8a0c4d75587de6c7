"""Messaging channels: conversations that come in and go out through a messaging app (WhatsApp, Messenger).

The foundation, none of it tied to Flask or the database:

- `graph.py`: Meta's Graph API as a small client over `requests`: `WhatsAppClient` (text, media by id,
  templates, media upload and download) and `MessengerClient` (text and attachments, `RESPONSE` or the
  `HUMAN_AGENT` tag), every refusal a typed `GraphError` carrying Graph's code and whether a retry may help;
- `signatures.py`: `X-Hub-Signature-256` (HMAC-SHA256 of the raw body with the app secret), made and checked in
  constant time;
- `payloads.py`: a verified webhook body turned into plain dataclasses (inbound messages and delivery statuses),
  a malformed one refused with `MalformedWebhook` naming the faulty field;
- `windows.py`: Meta's customer service windows (24 hours; 7 days for a person's reply on Messenger).

The adapter on it, one for both apps (each app is a `Channel` value and a delivery reacher):

- `connections.py`: a brand's connected accounts (secrets sealed at rest), found by a webhook's account id;
  `api.py` and `schemas.py` their calls; `console_views.py` and `forms.py` the brand console's page, whose test send is
  `probes.py`;
- `inbound.py`: a webhook verified before it is read, its messages stored in conversations routed like any chat,
  its statuses applied; `views.py` the webhooks themselves (`/webhooks/whatsapp`, `/webhooks/messenger`);
- `outbound.py`: the expert's messages refused outside the window, noted with the message and sent after it;
  `statuses.py` their delivery states as Meta reports them (statuses and receipts that come before the send
  recorded its message kept for it);
- `templates.py`: a WhatsApp number's message templates, recorded by the brand (`template_views.py` its page),
  sent by the expert as the only thing that goes out once the window has closed.

Tests run the real client against the Meta-compatible fake server under `tests/fake_graph/`.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    from marketplace.routing import delivery
    from marketplace.routing.channels import api, console_views, fees, outbound, statuses, template_views, views
    from marketplace.routing.models import MESSAGING_CHANNELS
    from marketplace.scheduler import Job, register_job

    for blueprint in (api.blueprint, console_views.blueprint, views.blueprint, template_views.blueprint):
        app.register_blueprint(blueprint)
    for kind in MESSAGING_CHANNELS:
        delivery.register(outbound.reacher(kind))
    delivery.register_before_numbering("channel-fees", fees.lock_brand_first, fees.PRICED_SENDERS)
    register_job(app, Job("channel-sends", outbound.send_due, "interval", {"seconds": 5}))
    register_job(app, Job("channel-early-statuses", statuses.sweep_early_statuses, "interval", {"minutes": 1}))
