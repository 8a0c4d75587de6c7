"""An expert's message to a messaging app: refused outside Meta's window, noted with the message, sent after it.

A delivery reacher per app (`routing/delivery.py`) applies to every expert's message in a conversation of that app,
whatever its status (the customer is reached there, present or not). Inside the message's transaction it checks
the customer service window, and refuses the message when it has closed (a Conflict naming `body`: nothing is
stored), then prices it (`fees.py`: a fee past the brand's monthly budget holds it, a Conflict naming `body`) and
notes the outbound record (`ChannelDelivery`, pending, with its fee). A message posted `as_template` (an approved
WhatsApp template, templates.py) is never refused by the window: it notes the template, priced by the template's
category, and goes out as it. After the commit the record is sent through
the Graph API: in the background at once (CHANNEL_DELIVERY=background), and by the scheduler's sweep for anything
pending and due (a retry after a rate limit, a background task that never ran). Each send first claims its record
(pending -> sending, a compare-and-set), so two senders never send one message twice; a record left `sending` by a
crash mid-call stays so (WhatsApp has no idempotency key: resending it might deliver it twice).
A record that finally fails gives its fee back to the month's budget (`fees.release`).

What becomes of it then, as Meta reports it, is `statuses.py`'s.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask, current_app
from flask_babel import lazy_gettext as _l

from marketplace.database import after_commit, db, end_read, unit_of_work, utcnow
from marketplace.errors import Conflict
from marketplace.extensions import socketio
from marketplace.routing import delivery
from marketplace.routing.attachments.storage import storage
from marketplace.routing.bot import services as bot
from marketplace.routing.channels import connections, fees, statuses, windows
from marketplace.routing.channels.graph import (
    HUMAN_AGENT,
    WHATSAPP_BUTTONS_BODY_MAX,
    GraphError,
    GraphUnavailable,
    MessengerClient,
    SentMessage,
    WhatsAppClient,
)
from marketplace.routing.models import (
    AttachmentKind,
    BrandChannel,
    Channel,
    ChannelDelivery,
    Conversation,
    DeliveryState,
    FeeCategory,
    Message,
    Sender,
)

log = logging.getLogger("marketplace.routing.channels")
MAX_ATTEMPTS = 5
SWEEP_BATCH = 100
# A record noted for the background sender is the sweep's after this long (the background task did not run).
BACKGROUND_GRACE = dt.timedelta(seconds=30)
_TABLE = ChannelDelivery.__table__
_INSERT = sa.insert(_TABLE)


def window_closed(kind: Channel, customer_wrote_at: dt.datetime | None, now: dt.datetime) -> Conflict | None:
    """The refusal of a person's free reply now, when Meta's window for it has closed; None while it is open."""
    if kind == Channel.WHATSAPP and not windows.whatsapp_window_open(customer_wrote_at, now):
        return Conflict(_l("The customer's 24-hour window has closed: send an approved template."), "body")
    if kind == Channel.MESSENGER and windows.messenger_reply_mode(customer_wrote_at, now) is None:
        return Conflict(_l("The customer's 7-day window for a person's reply has closed: they must write first."),
                        "body")
    return None


@dataclass(frozen=True)
class TemplateSend:
    """An approved WhatsApp template the message goes out as (templates.py), instead of its text."""

    name: str
    language: str
    parameters: tuple[str, ...]
    category: FeeCategory  # Meta prices a template by its category; the brand's fee table does the same


# The template of the message being posted in this context: `post_message` knows nothing of channels, so the
# template rides beside it to the reacher, which notes it on the outbound record.
_template: ContextVar[TemplateSend | None] = ContextVar("channel_template", default=None)


@contextmanager
def as_template(template: TemplateSend) -> Iterator[None]:
    """The expert's message posted inside goes out as this template: never refused by the window (a template is
    what Meta allows after it), sent with `send_template`."""
    token = _template.set(template)
    try:
        yield
    finally:
        _template.reset(token)


_SENT = (Sender.EXPERT, Sender.BOT)  # what goes out on the app: a person's messages, and the brand's bot's


def reacher(kind: Channel) -> delivery.Reacher:
    """The delivery reacher of one messaging app: the expert's messages in its conversations go out there."""
    return delivery.Reacher(kind.value, delivery.Side.VISITOR,
                            lambda message, route: route.channel == kind and message.sender in _SENT,
                            note_outbound)


def note_outbound(message: Message) -> None:
    """Inside the message's transaction: refuse it outside the window, else note its outbound record (pending) and
    have it sent once the transaction commits."""
    connection = db.session.connection()
    row = connection.execute(sa.select(Conversation.channel, Conversation.channel_id, Conversation.customer_wrote_at,
                                       Conversation.brand_id)
                             .where(Conversation.id == message.conversation_id)).one()
    template = _template.get()
    refusal = window_closed(Channel(row.channel), row.customer_wrote_at, message.created_at) \
        if template is None else None
    if refusal is not None:
        raise refusal  # the message's transaction rolls back: nothing is stored
    # A person's free reply inside the window is a service message; a template is priced by its own category.
    category = FeeCategory.SERVICE if template is None else template.category
    fee = fees.charge(message.conversation_id, row.brand_id, Channel(row.channel), category, message.created_at)
    background = current_app.config["CHANNEL_DELIVERY"] == "background"
    fields = {"message_id": message.id, "conversation_id": message.conversation_id, "channel_id": row.channel_id,
              "state": DeliveryState.PENDING, "attempts": 0, "created_at": message.created_at,
              "fee_cents": fee, "fee_category": category,
              "next_attempt_at": message.created_at + (BACKGROUND_GRACE if background else dt.timedelta(0))}
    if template is not None:
        fields.update(template_name=template.name, template_language=template.language,
                      template_parameters=list(template.parameters))
    connection.execute(_INSERT, fields)
    record = ChannelDelivery(**{**{column.name: None for column in _TABLE.c}, **fields})
    so.make_transient_to_detached(record)  # shown with the message after the commit, without a query
    so.attributes.set_committed_value(message, "delivery", record)
    if background:
        app = current_app._get_current_object()  # noqa: SLF001 - the app itself, for the task's own context
        after_commit(lambda: socketio.start_background_task(_send_in_background, app, message.id))


def _send_in_background(app: Flask, message_id: int) -> None:
    with app.app_context():
        try:
            send(message_id)
        except Exception:
            # Nobody waits on this task: the log is the only place a failure can go (the record stays pending or
            # sending, and shows so to the expert).
            log.exception("sending message %s to its messaging app failed", message_id)


def send_due(now: dt.datetime | None = None) -> int:
    """The scheduler's sweep: send every pending record that is due, each on its own; how many went out."""
    now = now or utcnow()
    due = list(db.session.scalars(
        sa.select(ChannelDelivery.message_id)
        .where(ChannelDelivery.state == DeliveryState.PENDING, ChannelDelivery.next_attempt_at <= now)
        .order_by(ChannelDelivery.next_attempt_at).limit(SWEEP_BATCH)))
    end_read()
    return sum(send(message_id) for message_id in due)


@dataclass(frozen=True)
class _Outgoing:
    account: connections.Credentials
    conversation_id: int
    expert_id: int | None
    seq: int
    customer: str
    customer_wrote_at: dt.datetime | None
    body: str
    attempts: int
    file: tuple[AttachmentKind, str, str, str] | None  # kind, storage key, content type, file name
    template: TemplateSend | None = None
    buttons: list[tuple[str, str]] | None = None  # the bot's answer: "Yes / Talk to an expert" under it


def send(message_id: int) -> bool:
    """Claim one pending record and send its message; True when Graph took it. No transaction is open during the
    call to Graph."""
    outgoing = _claim(message_id)
    if outgoing is None:
        return False
    # The time it is handed to Graph, before the call: Meta stamps the message during the call, so a Messenger read
    # receipt's watermark (Meta's time, read that instant or later) is never before it (statuses.py). The time of
    # Graph's answer may be, and a message read at once would then stay `delivered` for ever.
    handed_at = utcnow()
    try:
        sent = _call_graph(outgoing)
    except GraphError as error:
        _failed_send(message_id, outgoing, error)
        return False
    channel_id = outgoing.account.channel_id
    with unit_of_work():
        # Locked first, as a receipt locks it before it looks for the messages it covers (statuses.apply_status).
        watermarks = statuses.lock_watermarks(channel_id, outgoing.customer) \
            if outgoing.account.kind == Channel.MESSENGER else None
        record = statuses.update_record(message_id, state=DeliveryState.SENT, platform_message_id=sent.message_id,
                                        sent_at=handed_at, error_code=None, error_text=None)
        statuses.tell_expert(outgoing.conversation_id, outgoing.seq, outgoing.expert_id, record)
        statuses.apply_early(channel_id, sent.message_id)  # Meta's statuses may have come before this
        if watermarks is not None:
            statuses.apply_watermarks(channel_id, message_id, handed_at, watermarks)
    return True


def _claim(message_id: int) -> _Outgoing | None:
    with unit_of_work():
        claimed = db.session.execute(
            sa.update(_TABLE).where(_TABLE.c.message_id == message_id, _TABLE.c.state == DeliveryState.PENDING)
            .values(state=DeliveryState.SENDING, attempts=_TABLE.c.attempts + 1)
            .returning(_TABLE.c.attempts, _TABLE.c.channel_id, _TABLE.c.template_name, _TABLE.c.template_language,
                       _TABLE.c.template_parameters, _TABLE.c.fee_category)).one_or_none()
        if claimed is None:
            return None
        message = db.session.scalar(sa.select(Message).options(so.selectinload(Message.attachment))
                                    .where(Message.id == message_id))
        conversation = db.session.get(Conversation, message.conversation_id)
        channel = db.session.get(BrandChannel, claimed.channel_id) if claimed.channel_id is not None else None
        if channel is None or conversation.channel_customer is None:
            # The brand removed the account meanwhile: nothing can carry the message any more.
            fees.release(message_id)
            record = statuses.update_record(message_id, state=DeliveryState.FAILED, failed_at=utcnow(),
                                            error_text=str(_l("This messaging account is no longer connected.")))
            statuses.tell_expert(conversation.id, message.seq, conversation.expert_id, record)
            return None
        attachment = message.attachment
        file = (attachment.kind, attachment.storage_key, attachment.content_type, attachment.filename) \
            if attachment is not None else None
        return _Outgoing(connections.credentials(channel), conversation.id, conversation.expert_id, message.seq,
                         conversation.channel_customer, conversation.customer_wrote_at, message.body,
                         claimed.attempts, file,
                         TemplateSend(claimed.template_name, claimed.template_language,
                                      tuple(claimed.template_parameters or ()), claimed.fee_category)
                         if claimed.template_name else None,
                         bot.feedback_buttons(message.body)
                         if message.sender == Sender.BOT and bot.asks_feedback(message.client_id) else None)


def _call_graph(outgoing: _Outgoing) -> SentMessage:
    client = connections.client_for(outgoing.account)
    if isinstance(client, WhatsAppClient):
        if outgoing.template is not None:
            template = outgoing.template
            return client.send_template(outgoing.customer, template.name, template.language,
                                        body_parameters=template.parameters)
        if outgoing.buttons and len(outgoing.body) <= WHATSAPP_BUTTONS_BODY_MAX:
            return client.send_buttons(outgoing.customer, outgoing.body, outgoing.buttons)
        if outgoing.file is None:
            return client.send_text(outgoing.customer, outgoing.body)
        kind, key, content_type, filename = outgoing.file
        media_id = client.upload_media(storage().get(key), content_type, filename)
        media_kind = "image" if kind == AttachmentKind.IMAGE else "document"
        return client.send_media(outgoing.customer, media_kind, media_id, caption=outgoing.body or None,
                                 filename=filename if media_kind == "document" else None)
    assert isinstance(client, MessengerClient)
    human_agent = windows.messenger_reply_mode(outgoing.customer_wrote_at, utcnow()) == HUMAN_AGENT
    if outgoing.file is None:
        return client.send_text(outgoing.customer, outgoing.body, human_agent=human_agent,
                                quick_replies=outgoing.buttons or ())
    kind, key, content_type, filename = outgoing.file
    media_kind = "image" if kind == AttachmentKind.IMAGE else "file"
    attachment_id = client.upload_attachment(storage().get(key), content_type, filename, media_kind)
    sent = client.send_attachment(outgoing.customer, media_kind, attachment_id=attachment_id, human_agent=human_agent)
    if outgoing.body:  # Messenger carries no caption: the text follows as a message of its own
        client.send_text(outgoing.customer, outgoing.body, human_agent=human_agent)
    return sent


def _failed_send(message_id: int, outgoing: _Outgoing, error: GraphError) -> None:
    """Graph refused or did not answer: pending again for a later try when that may help (and it cannot have gone
    out), else failed with Meta's reason."""
    may_have_gone = isinstance(error, GraphUnavailable) and error.may_have_been_sent
    again = error.retryable and not may_have_gone and outgoing.attempts < MAX_ATTEMPTS
    log.warning("message %s to %s %s: %s (code %s)%s", message_id, outgoing.account.kind.value,
                outgoing.account.account_id, error, error.code, ", will retry" if again else "")
    with unit_of_work():
        if again:
            delay = dt.timedelta(seconds=min(300, 5 * 2 ** outgoing.attempts))
            record = statuses.update_record(message_id, state=DeliveryState.PENDING,
                                            next_attempt_at=utcnow() + delay, error_code=error.code,
                                            error_text=str(error)[:300])
        else:
            fees.release(message_id)
            record = statuses.update_record(message_id, state=DeliveryState.FAILED, failed_at=utcnow(),
                                            error_code=error.code,
                                            error_text=statuses.failure_reason(error.code, str(error)))
        statuses.tell_expert(outgoing.conversation_id, outgoing.seq, outgoing.expert_id, record)
    connections.note_error(outgoing.account.channel_id, f"{error} (code {error.code})")
