"""What becomes of an expert's message on a messaging app once it is noted (outbound.py): each change of its outbound
record, told to the holding expert, and Meta's statuses that move it on.

Meta's statuses move a record on (sent, delivered, read; failed with Meta's code and reason, e.g. 131047 when the
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

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from marketplace.database import db, end_read, unit_of_work, utcnow
from marketplace.experts import services as experts
from marketplace.routing import events
from marketplace.routing.channels import fees
from marketplace.routing.channels.graph import WindowClosed, classify
from marketplace.routing.channels.payloads import StatusUpdate
from marketplace.routing.models import (
    BrandChannel,
    ChannelDelivery,
    ChannelEarlyStatus,
    ChannelWatermark,
    Conversation,
    DeliveryState,
    Message,
)
from marketplace.routing.router.loads import insert_ignore, upsert

log = logging.getLogger("marketplace.routing.channels")
SWEEP_BATCH = 100  # the messages whose kept statuses one sweep applies
# Meta's watermark is in whole milliseconds: a message sent within its last millisecond is covered too.
WATERMARK_PRECISION = dt.timedelta(milliseconds=1)
# How far each state is along the way: a status never moves a record back (a late `delivered` after `read`).
_RANK = {DeliveryState.PENDING: 0, DeliveryState.SENDING: 1, DeliveryState.SENT: 2, DeliveryState.DELIVERED: 3,
         DeliveryState.READ: 4}
_STATE_TIME = {DeliveryState.SENT: "sent_at", DeliveryState.DELIVERED: "delivered_at", DeliveryState.READ: "read_at",
               DeliveryState.FAILED: "failed_at"}
_TABLE = ChannelDelivery.__table__
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


def failure_reason(code: int | None, text: str | None) -> str:
    """What the expert reads of a failure: the window's closing in words, else Meta's own reason."""
    if code is not None and issubclass(classify(code), WindowClosed):
        return str(_l("Not delivered: the customer's window for free replies had closed (send a template)."))
    return (text or str(_l("Not delivered.")))[:300]


def update_record(message_id: int, **values: object) -> ChannelDelivery:
    """Change one record in the caller's unit; the record as it now stands (detached, so the commit leaves it)."""
    row = db.session.execute(sa.update(_TABLE).where(_TABLE.c.message_id == message_id).values(**values)
                             .returning(*_TABLE.c)).one()
    record = ChannelDelivery(**row._asdict())
    so.make_transient_to_detached(record)
    return record


def tell_expert(conversation_id: int, seq: int, expert_id: int | None, record: ChannelDelivery) -> None:
    """Tell the expert holding the conversation (if any) what became of their message."""
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
            values["error_text"] = failure_reason(code, text)
            db.session.execute(sa.update(BrandChannel).where(BrandChannel.id == channel_id).values(
                last_error=f"{values['error_text']} (code {code})"[:300], last_error_at=utcnow()))
        db.session.expunge(record)
        tell_expert(record.conversation_id, seq, expert_id, update_record(record.message_id, **values))
        moved += 1
    return moved


def apply_early(channel_id: int, platform_message_id: str) -> int:
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
    """An insert of the person's watermark row, whose conflict the caller says what to do with."""
    return upsert(_WATERMARKS).values(channel_id=channel_id, customer=customer, received_at=utcnow(), **values)


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


def lock_watermarks(channel_id: int, customer: str) -> sa.Row:
    """Lock the person's watermark row (made when missing) and read it as it stands: a receipt being taken holds it
    until it commits, so this waits and reads its watermark; a receipt taken after this waits for the send to
    commit, and then finds the message recorded. Part of the send's unit."""
    insert = _watermark_insert(channel_id, customer)
    return db.session.execute(insert.on_conflict_do_update(
        index_elements=[_WATERMARKS.c.channel_id, _WATERMARKS.c.customer],
        set_={"customer": insert.excluded.customer})  # changes nothing: it only takes the row's lock
        .returning(*(_WATERMARKS.c[column] for columns in _WATERMARK_COLUMNS.values() for column in columns))).one()


def apply_watermarks(channel_id: int, message_id: int, sent_at: dt.datetime, watermarks: sa.Row) -> None:
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
            applied += apply_early(channel_id, platform_message_id)
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
