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

Meta's statuses then move it on (sent, delivered, read; failed with Meta's code and reason, e.g. 131047 when the
window closed after all), never backwards, and each change is told to the holding expert (`message_delivery`).
A status naming a message id no record holds is kept (`ChannelEarlyStatus`), not dropped: Meta may post it before
the send has recorded the id Graph answered with (the webhook answers 200, so Meta never posts it again). The send
applies what was kept for its id as it records it, and a sweep (every minute) applies what a race between the two
left, and forgets what no send recorded within EARLY_STATUS_KEPT: a message sent by other means (Meta's own inbox,
another tool on the same number), which is no conversation of ours.

A Messenger receipt names no message, only a time (its watermark: every message sent to the person before it was
delivered, or read), and may come before the send has recorded the message it covers just as well. The person's
latest watermarks are kept (`ChannelWatermark`, one row per page and person, never moved back), and the send
applies them as it records: a message handed to Graph before a watermark that came first ends delivered or read.
The receipt and the send each lock the person's row before they read what the other writes, so on PostgreSQL
too one of the two always sees the other; a row is forgotten a day after it last changed (by the same sweep).
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
from sqlalchemy.dialects import postgresql, sqlite

from marketplace.database import after_commit, db, end_read, unit_of_work, utcnow
from marketplace.errors import Conflict
from marketplace.experts import services as experts
from marketplace.extensions import socketio
from marketplace.routing import delivery, events
from marketplace.routing.attachments.storage import storage
from marketplace.routing.bot import services as bot
from marketplace.routing.channels import connections, fees, windows
from marketplace.routing.channels.graph import (
    HUMAN_AGENT,
    WHATSAPP_BUTTONS_BODY_MAX,
    GraphError,
    GraphUnavailable,
    MessengerClient,
    SentMessage,
    WhatsAppClient,
    WindowClosed,
    classify,
)
from marketplace.routing.channels.payloads import StatusUpdate
from marketplace.routing.models import (
    AttachmentKind,
    BrandChannel,
    Channel,
    ChannelDelivery,
    ChannelEarlyStatus,
    ChannelWatermark,
    Conversation,
    DeliveryState,
    FeeCategory,
    Message,
    Sender,
)
from marketplace.routing.router.loads import insert_ignore

log = logging.getLogger("marketplace.routing.channels")
MAX_ATTEMPTS = 5
SWEEP_BATCH = 100
# A record noted for the background sender is the sweep's after this long (the background task did not run).
BACKGROUND_GRACE = dt.timedelta(seconds=30)
# Meta's watermark is in whole milliseconds: a message sent within its last millisecond is covered too.
WATERMARK_PRECISION = dt.timedelta(milliseconds=1)
# How far each state is along the way: a status never moves a record back (a late `delivered` after `read`).
_RANK = {DeliveryState.PENDING: 0, DeliveryState.SENDING: 1, DeliveryState.SENT: 2, DeliveryState.DELIVERED: 3,
         DeliveryState.READ: 4}
_STATE_TIME = {DeliveryState.SENT: "sent_at", DeliveryState.DELIVERED: "delivered_at", DeliveryState.READ: "read_at",
               DeliveryState.FAILED: "failed_at"}
_TABLE = ChannelDelivery.__table__
_INSERT = sa.insert(_TABLE)
_EARLY = ChannelEarlyStatus.__table__
# How long a status naming a message id no record holds is kept for a send that records it (Meta's statuses come
# within seconds of the send's answer): past it, the id names a message sent by other means. A Messenger person's
# watermarks are kept as long after they last changed: a send records within a Graph call's time of handing over.
EARLY_STATUS_KEPT = dt.timedelta(days=1)
_WATERMARKS = ChannelWatermark.__table__
# The states a Messenger receipt's watermark moves a message to, in order, with the columns keeping the person's
# latest watermark of each and Meta's time of the receipt that carried it.
_WATERMARK_COLUMNS = {DeliveryState.DELIVERED: ("delivered_up_to", "delivered_at"),
                      DeliveryState.READ: ("read_up_to", "read_at")}


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
    # receipt's watermark (Meta's time, read that instant or later) is never before it (apply_status). The time of
    # Graph's answer may be, and a message read at once would then stay `delivered` for ever.
    handed_at = utcnow()
    try:
        sent = _call_graph(outgoing)
    except GraphError as error:
        _failed_send(message_id, outgoing, error)
        return False
    channel_id = outgoing.account.channel_id
    with unit_of_work():
        # Locked first, as a receipt locks it before it looks for the messages it covers (apply_status).
        watermarks = _lock_watermarks(channel_id, outgoing.customer) \
            if outgoing.account.kind == Channel.MESSENGER else None
        record = _update(message_id, state=DeliveryState.SENT, platform_message_id=sent.message_id,
                         sent_at=handed_at, error_code=None, error_text=None)
        _tell_expert(outgoing.conversation_id, outgoing.seq, outgoing.expert_id, record)
        _apply_early(channel_id, sent.message_id)  # Meta's statuses may have come before this
        if watermarks is not None:
            _apply_watermarks(channel_id, message_id, handed_at, watermarks)
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
            record = _update(message_id, state=DeliveryState.FAILED, failed_at=utcnow(),
                             error_text=str(_l("This messaging account is no longer connected.")))
            _tell_expert(conversation.id, message.seq, conversation.expert_id, record)
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
            record = _update(message_id, state=DeliveryState.PENDING, next_attempt_at=utcnow() + delay,
                             error_code=error.code, error_text=str(error)[:300])
        else:
            fees.release(message_id)
            record = _update(message_id, state=DeliveryState.FAILED, failed_at=utcnow(), error_code=error.code,
                             error_text=_reason(error.code, str(error)))
        _tell_expert(outgoing.conversation_id, outgoing.seq, outgoing.expert_id, record)
    connections.note_error(outgoing.account.channel_id, f"{error} (code {error.code})")


def _reason(code: int | None, text: str | None) -> str:
    """What the expert reads of a failure: the window's closing in words, else Meta's own reason."""
    if code is not None and issubclass(classify(code), WindowClosed):
        return str(_l("Not delivered: the customer's window for free replies had closed (send a template)."))
    return (text or str(_l("Not delivered.")))[:300]


def _update(message_id: int, **values: object) -> ChannelDelivery:
    """Change one record in the caller's unit; the record as it now stands (detached, so the commit leaves it)."""
    row = db.session.execute(sa.update(_TABLE).where(_TABLE.c.message_id == message_id).values(**values)
                             .returning(*_TABLE.c)).one()
    record = ChannelDelivery(**row._asdict())
    so.make_transient_to_detached(record)
    return record


def _tell_expert(conversation_id: int, seq: int, expert_id: int | None, record: ChannelDelivery) -> None:
    user_id = experts.get_profile(expert_id).user_id if expert_id is not None else None
    events.delivery_changed(conversation_id, seq, record, user_id)


# Statuses from Meta's webhooks.

def _records(channel_id: int) -> sa.Select:
    """The account's outbound records, locked, with what telling their expert needs."""
    return (sa.select(ChannelDelivery, Message.seq, Conversation.expert_id)
            .join(Message, Message.id == ChannelDelivery.message_id)
            .join(Conversation, Conversation.id == ChannelDelivery.conversation_id)
            .where(ChannelDelivery.channel_id == channel_id).with_for_update(of=ChannelDelivery))


def apply_status(channel_id: int, status: StatusUpdate) -> int:
    """Move the records a status names (a message id; a Messenger receipt: everything sent to that person up to its
    watermark) forward; how many moved. A status naming an id no record holds yet is kept for it, a watermark for
    the sends not recorded yet. Part of the caller's unit."""
    state = DeliveryState(status.status)
    error = status.errors[0] if status.errors else None
    code, text = (error.code, error.details or error.message or error.title) if error else (None, None)
    query = _records(channel_id)
    if status.message_id is not None:
        query = query.where(ChannelDelivery.platform_message_id == status.message_id)
    else:
        up_to = status.up_to or status.timestamp
        _remember_watermark(channel_id, status.recipient, state, up_to, status.timestamp)  # locks before the read
        query = query.where(Conversation.channel_customer == status.recipient, ChannelDelivery.sent_at.is_not(None),
                            ChannelDelivery.sent_at < up_to + WATERMARK_PRECISION)
    rows = db.session.execute(query).all()
    if not rows and status.message_id is not None:
        log.info("a %s status for message %s, not recorded here (yet): kept", status.status, status.message_id)
        insert_ignore(_EARLY, channel_id=channel_id, platform_message_id=status.message_id, state=state,
                      occurred_at=status.timestamp, error_code=code, error_text=text[:300] if text else None,
                      received_at=utcnow())
        return 0
    return _move(channel_id, rows, state, status.timestamp, code, text)


def _move(channel_id: int, rows: list[sa.Row], state: DeliveryState, at: dt.datetime, code: int | None,
          text: str | None) -> int:
    """Move the records (as `_records` read them) to `state` as of `at`, those it moves forward; how many moved."""
    moved = 0
    for record, seq, expert_id in rows:
        if not _moves(record.state, state):
            continue
        values: dict[str, object] = {"state": state, _STATE_TIME[state]: at}
        if state == DeliveryState.FAILED:
            fees.release(record.message_id)
            values["error_code"] = code
            values["error_text"] = _reason(code, text)
            db.session.execute(sa.update(BrandChannel).where(BrandChannel.id == channel_id).values(
                last_error=f"{values['error_text']} (code {code})"[:300], last_error_at=utcnow()))
        db.session.expunge(record)
        _tell_expert(record.conversation_id, seq, expert_id, _update(record.message_id, **values))
        moved += 1
    return moved


def _apply_early(channel_id: int, platform_message_id: str) -> int:
    """Apply the statuses kept for a message whose id is now recorded, in the order Meta saw them, and forget them;
    how many there were. Part of the caller's unit."""
    kept = db.session.execute(
        sa.delete(_EARLY).where(_EARLY.c.channel_id == channel_id, _EARLY.c.platform_message_id == platform_message_id)
        .returning(_EARLY.c.state, _EARLY.c.occurred_at, _EARLY.c.error_code, _EARLY.c.error_text)).all()
    for early in sorted(kept, key=lambda row: (row.occurred_at, _RANK.get(row.state, len(_RANK)))):
        rows = db.session.execute(
            _records(channel_id).where(ChannelDelivery.platform_message_id == platform_message_id)).all()
        _move(channel_id, rows, early.state, early.occurred_at, early.error_code, early.error_text)
    return len(kept)


def _watermark_insert(channel_id: int, customer: str, **values: object) -> sa.Insert:
    """An insert of the person's watermark row, in the dialect's own form (only that one says what a conflict
    does)."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(_WATERMARKS).values(channel_id=channel_id, customer=customer, received_at=utcnow(), **values)


def _remember_watermark(channel_id: int, customer: str, state: DeliveryState, up_to: dt.datetime,
                        at: dt.datetime) -> None:
    """Keep the person's watermark of `state` when it is newer than the one kept (Meta's receipts may come twice or
    out of order), for a send that records a message it covers later. Locks their row until the caller commits."""
    if state not in _WATERMARK_COLUMNS:
        return
    up_to_column, at_column = _WATERMARK_COLUMNS[state]
    insert = _watermark_insert(channel_id, customer, **{up_to_column: up_to, at_column: at})
    kept = _WATERMARKS.c[up_to_column]
    newer = sa.or_(kept.is_(None), kept < insert.excluded[up_to_column])
    db.session.execute(insert.on_conflict_do_update(
        index_elements=[_WATERMARKS.c.channel_id, _WATERMARKS.c.customer],
        set_={up_to_column: sa.case((newer, insert.excluded[up_to_column]), else_=kept),
              at_column: sa.case((newer, insert.excluded[at_column]), else_=_WATERMARKS.c[at_column]),
              "received_at": insert.excluded.received_at}))


def _lock_watermarks(channel_id: int, customer: str) -> sa.Row:
    """Lock the person's watermark row (made when missing) and read it as it stands: a receipt being taken holds it
    until it commits, so this waits and reads its watermark; a receipt taken after this waits for the send to
    commit, and then finds the message recorded. Part of the send's unit."""
    insert = _watermark_insert(channel_id, customer)
    return db.session.execute(insert.on_conflict_do_update(
        index_elements=[_WATERMARKS.c.channel_id, _WATERMARKS.c.customer],
        set_={"customer": insert.excluded.customer})  # changes nothing: it only takes the row's lock
        .returning(*(_WATERMARKS.c[column] for columns in _WATERMARK_COLUMNS.values() for column in columns))).one()


def _apply_watermarks(channel_id: int, message_id: int, sent_at: dt.datetime, watermarks: sa.Row) -> None:
    """Move a message just recorded as sent by the person's watermarks that came first and cover it (delivered, then
    read), as of their receipts' times. Part of the send's unit."""
    for state, (up_to_column, at_column) in _WATERMARK_COLUMNS.items():
        up_to = getattr(watermarks, up_to_column)
        if up_to is not None and sent_at < up_to + WATERMARK_PRECISION:
            rows = db.session.execute(_records(channel_id).where(ChannelDelivery.message_id == message_id)).all()
            _move(channel_id, rows, state, getattr(watermarks, at_column), None, None)


def sweep_early_statuses(now: dt.datetime | None = None) -> dict[str, int]:
    """The scheduler's sweep of kept statuses: apply those whose message's id was recorded since (on PostgreSQL a
    status and the send it names, each in a transaction the other cannot see yet, may both miss the other), and
    forget those kept past EARLY_STATUS_KEPT, and the Messenger watermarks unchanged as long; how many of each."""
    now = now or utcnow()
    recorded = db.session.execute(
        sa.select(_EARLY.c.channel_id, _EARLY.c.platform_message_id).distinct()
        .join(ChannelDelivery, sa.and_(ChannelDelivery.channel_id == _EARLY.c.channel_id,
                                       ChannelDelivery.platform_message_id == _EARLY.c.platform_message_id))
        .limit(SWEEP_BATCH)).all()
    end_read()
    applied = 0
    for channel_id, platform_message_id in recorded:
        with unit_of_work():
            applied += _apply_early(channel_id, platform_message_id)
    with unit_of_work():
        forgotten = db.session.execute(sa.delete(_EARLY).where(_EARLY.c.received_at < now - EARLY_STATUS_KEPT)
                                       ).rowcount
    with unit_of_work():  # on its own: a send locks a watermark row before the statuses it applies
        watermarks = db.session.execute(
            sa.delete(_WATERMARKS).where(_WATERMARKS.c.received_at < now - EARLY_STATUS_KEPT)).rowcount
    return {"applied": applied, "forgotten": forgotten, "watermarks_forgotten": watermarks}


def _moves(current: DeliveryState, new: DeliveryState) -> bool:
    """Whether a status moves a record: forward only; a failure ends anything not yet read."""
    if current == DeliveryState.FAILED:
        return False
    if new == DeliveryState.FAILED:
        return current != DeliveryState.READ
    return _RANK[new] > _RANK[current]
