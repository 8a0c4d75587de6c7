"""Personal data kept as long as each brand says, then anonymised; one contact erased at once on request.

A conversation that ended longer ago than its brand's retention period (`Brand.retention_months`, 12 by default)
is anonymised: its messages' text, the rating's comment, its files (stored copies first, then rows), the
visitor's address, phone (the messaging app's customer id), push subscriptions and left message, the network
fingerprints of the visitor and the expert, the identifiers that tie it to the visitor's browser, mailbox or
messaging account (token hashes, e-mail and platform message ids), and its link to the brand's contact. What
dashboards, the capacity planner and payouts count stays: times, status, end reason, brand, expert, channel,
number of messages, the rating's number, prices and channel fees. Nothing of the ledger, earnings, FAQ credits,
payout batches, statements or invoices is touched (the French commercial code keeps them 10 years). Contacts no
conversation points at any more then go too (contacts.forget_unused_contacts).

The job (`anonymise_expired`) takes each brand's expired conversations in batches, oldest first, each batch one
transaction: it claims its rows (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite's write lock serialises) and only
those still not anonymised, so two runs at once share the work instead of doing it twice, and a second run finds
nothing to do. The files of a batch are deleted before its transaction commits: a crash in between leaves rows
whose files are gone, which the next run finishes; never a file that no row points at.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import Counter
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from marketplace.accounts import services as accounts
from marketplace.brands import services as brands
from marketplace.brands.models import Actor, Brand, BrandRole
from marketplace.database import ID_MAX, db, end_read, unit_of_work, utcnow
from marketplace.errors import Conflict, NotFound
from marketplace.routing.attachments.services import delete_conversation_attachments
from marketplace.routing.contacts.services import forget_unused_contacts
from marketplace.routing.models import (
    OPEN_STATUSES,
    BrandChannel,
    ChannelDelivery,
    ChannelWatermark,
    Contact,
    Conversation,
    LeftMessage,
    Message,
    VisitorPushSubscription,
)

BATCH = 200  # conversations anonymised per transaction
# What a message's text becomes: nothing (the page says why, from the conversation's anonymised_at).
REMOVED_TEXT = ""
# What stands for an identifier that must stay unique: never a value the system gives (hashes are hex, platform
# and mail ids are prefixed), and the same for every run.
_MARK = "anonymised:"


@dataclass(frozen=True)
class Erased:
    """What erasing one contact removed: their conversations anonymised and the files deleted."""

    contact_id: int
    conversations: int
    files: int


def months_before(at: dt.datetime, months: int) -> dt.datetime:
    """The same moment `months` calendar months earlier (the 31st becomes the month's last day)."""
    index = at.year * 12 + at.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    return at.replace(year=year, month=month, day=min(at.day, calendar.monthrange(year, month)[1]))


def _marked(column: sa.ColumnElement) -> sa.ColumnElement[str]:
    return sa.literal(_MARK) + sa.cast(column, sa.String)


def anonymise(conversation_ids: list[int], now: dt.datetime) -> dict[str, int]:
    """Remove the text, files and identifiers of these conversations; keep their figures. Part of the caller's
    transaction, which has claimed the rows (the files are deleted before it commits). Counts of what went."""
    if not conversation_ids:
        return {"conversations": 0, "files": 0}
    files = delete_conversation_attachments(conversation_ids)
    db.session.execute(
        sa.update(Message).where(Message.conversation_id.in_(conversation_ids))
        .values(body=REMOVED_TEXT, client_id=_marked(Message.seq)).execution_options(synchronize_session=False))
    db.session.execute(
        sa.update(ChannelDelivery).where(ChannelDelivery.conversation_id.in_(conversation_ids))
        .values(platform_message_id=None, template_parameters=None, error_text=None)
        .execution_options(synchronize_session=False))
    db.session.execute(sa.delete(VisitorPushSubscription).where(
        VisitorPushSubscription.conversation_id.in_(conversation_ids)).execution_options(synchronize_session=False))
    db.session.execute(sa.delete(LeftMessage).where(LeftMessage.conversation_id.in_(conversation_ids))
                       .execution_options(synchronize_session=False))
    done = db.session.execute(
        sa.update(Conversation).where(Conversation.id.in_(conversation_ids))
        .values(rating_comment=None, page_url=None, visitor_email=None, visitor_email_consent_at=None,
                visitor_push_at=None, visitor_network=None, expert_network=None, resumed_token_hash=None,
                visitor_token_hash=_marked(Conversation.id), channel_customer=None, contact_id=None,
                continuation_due_at=None, anonymised_at=sa.func.coalesce(Conversation.anonymised_at, now))
        .execution_options(synchronize_session=False)).rowcount
    return {"conversations": done, "files": files}


def _expired(brand_id: int, before: dt.datetime) -> sa.Select:
    """The brand's conversations that ended before `before` and are not anonymised yet, oldest end first (the
    partial index ix_conversations_retention)."""
    return (sa.select(Conversation.id)
            .where(Conversation.brand_id == brand_id, Conversation.anonymised_at.is_(None),
                   Conversation.closed_at < before, Conversation.status.not_in(OPEN_STATUSES))
            .order_by(Conversation.closed_at, Conversation.id))


def _anonymise_batch(brand_id: int, before: dt.datetime, now: dt.datetime) -> dict[str, int]:
    with unit_of_work():
        ids = list(db.session.scalars(_expired(brand_id, before).limit(BATCH).with_for_update(skip_locked=True)))
        return anonymise(ids, now)


def _forget_brand_leftovers(brand_id: int, before: dt.datetime) -> dict[str, int]:
    """Contacts no conversation points at any more, and left messages whose conversation is gone, past the period."""
    with unit_of_work():
        contacts = forget_unused_contacts(brand_id)
        left = db.session.execute(
            sa.delete(LeftMessage).where(LeftMessage.brand_id == brand_id, LeftMessage.conversation_id.is_(None),
                                         LeftMessage.created_at < before)
            .execution_options(synchronize_session=False)).rowcount
    return {"contacts": contacts, "left_messages": left}


def anonymise_expired(now: dt.datetime | None = None) -> dict[str, int]:
    """Anonymise every conversation that ended longer ago than its brand's retention period, brand by brand, one
    transaction per batch; then forget the contacts no conversation uses. Counts of what went (the job's log)."""
    now = now or utcnow()
    periods = list(db.session.execute(sa.select(Brand.id, Brand.retention_months).order_by(Brand.id)))
    end_read()
    totals: Counter[str] = Counter()
    for brand_id, months in periods:
        before = months_before(now, months)
        while True:
            done = _anonymise_batch(brand_id, before, now)
            totals.update(done)
            if done["conversations"] < BATCH:
                break
        totals.update(_forget_brand_leftovers(brand_id, before))
    return {"conversations": 0, "files": 0, "contacts": 0, "left_messages": 0, **totals}


# Erasing one contact on request.

def _checked_id(value: object) -> int:
    """A contact id as the path gives it; anything else names no contact (404, as an unknown id)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= ID_MAX:
        raise NotFound(_l("No such contact."))
    return value


def _forget_watermarks(brand_id: int, customers: set[str]) -> None:
    """Forget the Messenger receipts kept for these people on the brand's pages (their page-scoped ids; a day's worth
    at most, routing/channels/statuses.py)."""
    if customers:
        db.session.execute(sa.delete(ChannelWatermark).where(
            ChannelWatermark.customer.in_(customers),
            ChannelWatermark.channel_id.in_(sa.select(BrandChannel.id).where(BrandChannel.brand_id == brand_id))))


def erase_contact(actor: Actor, brand_id: int, contact_id: object, *, ip: str | None = None) -> Erased:
    """Erase one of the brand's contacts at once (its admins, ops): every conversation of the brand with them is
    anonymised, their files deleted, and the contact (with those merged into it) deleted; audited as
    `contact_erased`, naming who erased which contact and how much, never what was erased.

    Another brand's contact, or one merged into another (erase the one kept), is not found. A contact with an
    open conversation is refused (Conflict): it ends first, so no chat in progress loses its visitor.
    """
    with unit_of_work():
        brands.get_brand(actor, brand_id, need=BrandRole.ADMIN)
        contact_id = _checked_id(contact_id)
        contact = db.session.scalar(
            sa.select(Contact).where(Contact.brand_id == brand_id, Contact.id == contact_id,
                                     Contact.merged_into_id.is_(None)).with_for_update())
        if contact is None:
            raise NotFound(_l("No such contact."))
        family = [contact.id, *db.session.scalars(sa.select(Contact.id).where(
            Contact.brand_id == brand_id, Contact.merged_into_id == contact.id))]
        rows = db.session.execute(
            sa.select(Conversation.id, Conversation.status, Conversation.channel_customer)
            .where(Conversation.brand_id == brand_id, Conversation.contact_id.in_(family))
            .with_for_update()).all()
        if any(row.status in OPEN_STATUSES for row in rows):
            raise Conflict(_l("This contact has a conversation in progress: erase them once it has ended."),
                           "contact_id")
        _forget_watermarks(brand_id, {row.channel_customer for row in rows if row.channel_customer})
        done = anonymise([row.id for row in rows], utcnow())
        db.session.execute(sa.delete(Contact).where(Contact.brand_id == brand_id, Contact.merged_into_id == contact.id)
                           .execution_options(synchronize_session=False))
        db.session.delete(contact)
        accounts.record_audit("contact_erased", actor_id=None if actor.is_token else actor.id, brand_id=brand_id,
                              contact_id=contact_id, conversations=done["conversations"], files=done["files"],
                              token_id=getattr(actor, "token_id", None), ip=ip)
    return Erased(contact_id, done["conversations"], done["files"])
