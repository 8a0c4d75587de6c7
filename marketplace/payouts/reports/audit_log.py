"""The money audit log: audit events about payouts (payout_*) by kind and batch, a page at a time or as CSV."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from marketplace.accounts import services as accounts
from marketplace.accounts.models import AuditEvent, User
from marketplace.database import db, use_case, utcnow
from marketplace.errors import InvalidInput
from marketplace.payouts.batches import services as batches
from marketplace.payouts.reports.exports import Export, csv_lines, positive_id, read_in_chunks

AUDIT_PAGE_SIZE = 50
MONEY_AUDIT_PREFIX = "payout_"  # payout_batch_*, payout_item_*, payout_sepa_*, payout_details_read/changed


@dataclass(frozen=True)
class AuditEntry:
    id: int
    created_at: dt.datetime
    kind: str
    actor: User | None
    subject: User | None
    ip: str | None
    detail: dict

    @property
    def actor_id(self) -> int | None:
        return self.actor.id if self.actor else None

    @property
    def subject_id(self) -> int | None:
        return self.subject.id if self.subject else None


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEntry]
    kinds: list[str]  # every money kind recorded, for the filter
    next_before_id: int | None  # the next (older) page's `before_id`, when there is one


AUDIT_FIELDS = (AuditEvent.id, AuditEvent.created_at, AuditEvent.kind, AuditEvent.actor_id, AuditEvent.subject_id,
                AuditEvent.ip, AuditEvent.detail)


def _audit_query(kind: object, batch_id: object) -> sa.Select:
    """The money events matching the filters (a kind, a batch), newest first."""
    kind = str(kind or "").strip()
    if kind and (not kind.startswith(MONEY_AUDIT_PREFIX) or len(kind) > 40):
        raise InvalidInput(_l("Choose a kind of payout event from the list."), "kind")
    batch = positive_id(batch_id, "batch_id")
    query = sa.select(*AUDIT_FIELDS).where(AuditEvent.kind.startswith(MONEY_AUDIT_PREFIX, autoescape=True))
    if kind:
        query = query.where(AuditEvent.kind == kind)
    if batch is not None:
        # As a 64-bit number: PostgreSQL's `integer` (what as_integer() casts to) overflows past 2**31 - 1.
        query = query.where(sa.cast(AuditEvent.detail["batch_id"].as_string(), sa.BigInteger) == batch)
    return query.order_by(AuditEvent.id.desc())


def _entries(events: Sequence[sa.Row]) -> list[AuditEntry]:
    people = accounts.users_by_id({e.actor_id for e in events if e.actor_id}
                                  | {e.subject_id for e in events if e.subject_id})
    return [AuditEntry(e.id, e.created_at, e.kind, people.get(e.actor_id), people.get(e.subject_id), e.ip,
                       dict(e.detail or {})) for e in events]


@use_case
def money_audit(actor: User, *, kind: object = None, batch_id: object = None, before_id: object = None,
                limit: int = AUDIT_PAGE_SIZE) -> AuditPage:
    """The audit events about money (payout_*), newest first, `limit` at a time from `before_id` down."""
    batches.require_finance(actor)
    query = _audit_query(kind, batch_id)
    before = positive_id(before_id, "before_id")
    if before is not None:
        query = query.where(AuditEvent.id < before)
    events = list(db.session.execute(query.limit(limit + 1)))
    kinds = list(db.session.scalars(sa.select(AuditEvent.kind).distinct()
                                    .where(AuditEvent.kind.startswith(MONEY_AUDIT_PREFIX, autoescape=True))
                                    .order_by(AuditEvent.kind)))
    return AuditPage(_entries(events[:limit]), kinds, events[limit - 1].id if len(events) > limit else None)


AUDIT_COLUMNS = ("event_id", "created_at", "kind", "actor_id", "actor_name", "actor_email", "subject_id",
                 "subject_email", "ip", "batch_id", "detail")


def money_audit_csv(actor: User, *, kind: object = None, batch_id: object = None) -> Export:
    """Every money audit event matching the filters, newest first; the detail as JSON."""
    batches.require_finance(actor)
    query = _audit_query(kind, batch_id)

    def chunks() -> Iterator[list[list[object]]]:
        for rows in read_in_chunks(query):
            yield [[e.id, e.created_at, e.kind, e.actor_id, e.actor.full_name if e.actor else None,
                    e.actor.email if e.actor else None, e.subject_id, e.subject.email if e.subject else None, e.ip,
                    e.detail.get("batch_id"), json.dumps(e.detail, sort_keys=True, ensure_ascii=False, default=str)]
                   for e in _entries(rows)]

    return Export(f"payout-audit-{utcnow().date()}.csv", csv_lines(AUDIT_COLUMNS, chunks()))
