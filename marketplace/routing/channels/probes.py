"""A brand admin's test send: one message through a connected account, to prove the token and the number work.

The admin types a recipient (a WhatsApp number, a Messenger page-scoped id) and a text. It goes through the real
Graph client, as an expert's reply would, but outside any conversation: nothing is stored but the account's health
(a refusal becomes its last error) and an audit entry. Meta's window applies as for any reply: when the recipient
has not written to this account in the last 24 hours (as far as our conversations know), WhatsApp gets the
`hello_world` template, which every new WhatsApp Business account has and Meta lets out at any time; Messenger
gets the text tagged `HUMAN_AGENT` within 7 days, and plain otherwise (Graph's refusal then says why).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from marketplace.accounts import services as accounts
from marketplace.brands import services as brands
from marketplace.brands.models import Actor, BrandRole
from marketplace.database import db, end_read, unit_of_work, utcnow
from marketplace.errors import InvalidInput, NotFound
from marketplace.routing.channels import connections, windows
from marketplace.routing.channels.graph import (
    HUMAN_AGENT,
    AuthFailed,
    GraphError,
    GraphUnavailable,
    MessengerClient,
    RateLimited,
    Undeliverable,
    WhatsAppClient,
    WindowClosed,
)
from marketplace.routing.models import BrandChannel, Channel, Conversation

TEST_TEMPLATE = ("hello_world", "en_US")  # Meta's sample template, approved on every new WhatsApp account
TEXT_LENGTH = 1000
# What each kind of refusal means for the admin, before Graph's own words.
MEANINGS = {
    AuthFailed: _l("Meta refused the access token: connect the account again with a valid one."),
    WindowClosed: _l("This person has not written to you recently, so Meta lets only templates out."),
    Undeliverable: _l("Meta cannot reach this person on this app."),
    RateLimited: _l("Too many messages for now: try again in a minute."),
    GraphUnavailable: _l("Meta did not answer in time: try again."),
}


@dataclass(frozen=True)
class SentTest:
    """What Graph answered: the message id it gave, or its refusal in words."""

    sent_as: str  # "text", "template" or "human_agent"
    recipient: str
    message_id: str | None = None
    error: str | None = None  # Graph's own words, with its code
    meaning: str | None = None  # what the refusal means, in the admin's language

    @property
    def ok(self) -> bool:
        return self.error is None


def _clean_recipient(kind: Channel, value: object) -> str:
    text = value.strip().replace(" ", "").replace("-", "") if isinstance(value, str) else ""
    digits = text.removeprefix("+") if kind == Channel.WHATSAPP else text
    if not digits.isascii() or not digits.isdigit() or not 6 <= len(digits) <= 20:
        raise InvalidInput(_l("Give the customer's number in international form, digits only (e.g. +33612345678).")
                           if kind == Channel.WHATSAPP else
                           _l("Give the person's page-scoped id (digits), as a webhook from them shows it."), "to")
    return digits


def _clean_text(value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > TEXT_LENGTH:
        raise InvalidInput(_l("Write a text of 1 to %(count)d characters.", count=TEXT_LENGTH), "text")
    return text


def _customer_wrote_at(channel_id: int, customer: str) -> dt.datetime | None:
    """When this person last wrote to the account in any conversation we hold (None: never, as far as we know)."""
    return db.session.scalar(sa.select(sa.func.max(Conversation.customer_wrote_at))
                             .where(Conversation.channel_id == channel_id, Conversation.channel_customer == customer))


def send_test(actor: Actor, brand_id: int, channel_id: int, to: object, text: object) -> SentTest:
    """Send a test message through one of the brand's accounts (its admins); Graph's refusal is answered, not raised.

    Audited as `channel_test_sent` with the outcome (not the recipient nor the text).
    """
    brands.get_brand(actor, brand_id, need=BrandRole.ADMIN)
    channel = db.session.scalar(sa.select(BrandChannel).where(BrandChannel.id == channel_id,
                                                               BrandChannel.brand_id == brand_id))
    if channel is None:
        raise NotFound(_l("No such channel."))
    recipient, body = _clean_recipient(channel.kind, to), _clean_text(text)
    account, wrote_at = connections.credentials(channel), _customer_wrote_at(channel.id, recipient)
    end_read()  # no transaction open while Graph is called
    result = _call(connections.client_for(account), recipient, body, wrote_at)
    if result.error is not None:
        connections.note_error(channel_id, result.error)
    with unit_of_work():
        accounts.record_audit("channel_test_sent", actor_id=None if actor.is_token else actor.id, brand_id=brand_id,
                              channel_id=channel_id, channel_kind=account.kind.value, sent_as=result.sent_as,
                              ok=result.ok, error=result.error)
    return result


def _call(client: WhatsAppClient | MessengerClient, recipient: str, body: str,
          wrote_at: dt.datetime | None) -> SentTest:
    now = utcnow()
    if isinstance(client, WhatsAppClient):
        sent_as = "text" if windows.whatsapp_window_open(wrote_at, now) else "template"
    else:
        sent_as = "human_agent" if windows.messenger_reply_mode(wrote_at, now) == HUMAN_AGENT else "text"
    try:
        if sent_as == "template":
            sent = client.send_template(recipient, *TEST_TEMPLATE)
        elif isinstance(client, WhatsAppClient):
            sent = client.send_text(recipient, body)
        else:
            sent = client.send_text(recipient, body, human_agent=sent_as == "human_agent")
    except GraphError as error:
        meaning = next((str(text) for kind, text in MEANINGS.items() if isinstance(error, kind)),
                       str(_l("Meta refused the message.")))
        return SentTest(sent_as, recipient, error=str(error) + (f" (code {error.code})" if error.code else ""),
                        meaning=meaning)
    return SentTest(sent_as, recipient, message_id=sent.message_id)
