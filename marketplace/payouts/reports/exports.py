"""The finance console's reports: CSV exports, the reconciliation with the payment provider, the money audit log.

Every service takes an explicit finance actor and reads in one transaction. An export checks its actor and
its input at once (a bad date is a 4xx before any byte is sent), then hands back a generator that reads the
rows `CHUNK` at a time (`yield_per`) and writes them as CSV: UTF-8, `;` between cells, dates in ISO 8601 UTC,
each amount twice (integer cents, then a decimal such as 12.50), and text a spreadsheet would run as a
formula prefixed with an apostrophe. A million rows never sit in memory.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

import sqlalchemy as sa
from babel.numbers import get_currency_precision
from flask_babel import lazy_gettext as _l

from marketplace.accounts import services as accounts
from marketplace.accounts.models import AuditEvent, User
from marketplace.brands import services as brands
from marketplace.database import begin_read_only, db, utcnow
from marketplace.errors import InvalidInput, NotFound
from marketplace.experts import services as experts
from marketplace.payouts.batches import services as batches
from marketplace.payouts.models import (
    Earning,
    ItemStatus,
    LedgerEntry,
    LedgerTransaction,
    PayoutBatch,
    PayoutItem,
    PayoutRail,
)
from marketplace.payouts.rails import gateway as gateways
from marketplace.web import spreadsheets

CHUNK = 1_000  # rows read and written at a time
MAX_PERIOD_DAYS = 366
RECONCILIATION_DAYS = 30  # the default window
AUDIT_PAGE_SIZE = 50
MONEY_AUDIT_PREFIX = "payout_"  # payout_batch_*, payout_item_*, payout_sepa_*, payout_details_read/changed
EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2100, 12, 31)
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
DATABASE_ID = re.compile(r"[0-9]{1,19}")  # ASCII digits that fit a BIGINT
IN_BATCHES = 500  # ids per IN (...) list




# --- Input ----------------------------------------------------------------------------------------------

def parse_date(value: object, field_name: str) -> dt.date:
    """A date given as YYYY-MM-DD (or a date), from 2000 to 2100; InvalidInput naming `field_name`."""
    if isinstance(value, dt.datetime):
        raise InvalidInput(_l("Give a date without a time, as YYYY-MM-DD."), field_name)
    if isinstance(value, dt.date):
        day = value
    else:
        text = str(value or "").strip()
        if not text:
            raise InvalidInput(_l("Give a date as YYYY-MM-DD."), field_name)
        try:
            day = dt.date.fromisoformat(text) if ISO_DATE.fullmatch(text) else None
        except ValueError:
            day = None
        if day is None:
            raise InvalidInput(_l("This is not a date: use YYYY-MM-DD, e.g. 2026-03-31."), field_name)
    if not EARLIEST <= day <= LATEST:
        raise InvalidInput(_l("Give a date from 2000 to 2100."), field_name)
    return day


@dataclass(frozen=True)
class Period:
    """Whole days in UTC, both ends included."""

    first: dt.date
    last: dt.date

    @property
    def starts(self) -> dt.datetime:
        return dt.datetime.combine(self.first, dt.time.min, dt.UTC)

    @property
    def ends(self) -> dt.datetime:
        """The first instant after the period."""
        return dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time.min, dt.UTC)


def parse_period(first: object, last: object) -> Period:
    """`from` and `to` as YYYY-MM-DD, in order, at most 366 days; InvalidInput naming the field otherwise."""
    period = Period(parse_date(first, "from"), parse_date(last, "to"))
    if period.first > period.last:
        raise InvalidInput(_l("The period starts after it ends: choose a first day on or before the last."),
                           "from")
    if (period.last - period.first).days + 1 > MAX_PERIOD_DAYS:
        raise InvalidInput(_l("A period covers at most %(days)d days: export a year at a time.",
                              days=MAX_PERIOD_DAYS), "to")
    return period


def _positive_id(value: object, field_name: str) -> int | None:
    if value is None or value == "":
        return None
    text = str(value).strip()
    if isinstance(value, bool) or not DATABASE_ID.fullmatch(text) or not 0 < int(text) < 2**63:
        raise InvalidInput(_l("Give a whole number from 1 up."), field_name)
    return int(text)


# --- CSV --------------------------------------------------------------------------------------------------

def _cell(value: object) -> object:
    """A cell as written: dates in ISO UTC, nothing for None, codes for enums (formulas are defused later)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    if isinstance(value, enum.Enum):
        return value.value
    return value


def decimal_amount(cents: int, currency: str) -> Decimal:
    """Minor units as an exact decimal in currency units: 1250 EUR -> 12.50 (written as such)."""
    return Decimal(cents).scaleb(-get_currency_precision(currency))


def _money(cents: int | None, currency: str) -> list[object]:
    return [None, None] if cents is None else [cents, decimal_amount(cents, currency)]


def _csv(header: Sequence[str], chunks: Iterable[Iterable[Sequence[object]]]) -> Iterator[str]:
    return spreadsheets.stream(header, ([[_cell(value) for value in row] for row in rows] for rows in chunks))


def _read(statement: sa.Select) -> Iterator[Sequence[sa.Row]]:
    """The statement's rows, CHUNK at a time, in one read-only transaction that ends with the export (it takes
    no write lock on SQLite, so a slow download holds nobody up)."""
    begin_read_only()
    result = db.session.execute(statement.execution_options(yield_per=CHUNK))
    try:
        yield from result.partitions()
    finally:
        result.close()
        db.session.commit()


@dataclass(frozen=True)
class Export:
    filename: str
    lines: Iterator[str]  # CSV text, read from the database while it is sent


def _names(expert_ids: set[int]) -> dict[int, str]:
    return {expert_id: profile.display_name for expert_id, profile in experts.profiles_by_id(expert_ids).items()}


ITEM_COLUMNS = ("item_id", "batch_id", "expert_id", "expert", "rail", "currency", "amount_cents", "amount",
                "status", "provider_ref", "failure", "submitted_at", "finished_at")


def batch_items_csv(actor: User, batch_id: int) -> Export:
    """A batch's items, one line each, by id."""
    batches.require_finance(actor)
    batch = db.session.get(PayoutBatch, batch_id)
    if batch is None:
        raise NotFound(_l("No such batch."))
    currency = batch.currency
    db.session.commit()

    def chunks() -> Iterator[list[list[object]]]:
        for rows in _read(sa.select(PayoutItem.id, PayoutItem.expert_id, PayoutItem.rail, PayoutItem.amount_cents,
                                    PayoutItem.status, PayoutItem.provider_ref, PayoutItem.failure,
                                    PayoutItem.submitted_at, PayoutItem.finished_at)
                          .where(PayoutItem.batch_id == batch_id).order_by(PayoutItem.id)):
            names = _names({row.expert_id for row in rows})
            yield [[row.id, batch_id, row.expert_id, names.get(row.expert_id), row.rail, currency,
                    *_money(row.amount_cents, currency), row.status, row.provider_ref, row.failure,
                    row.submitted_at, row.finished_at] for row in rows]

    return Export(f"payout-batch-{batch_id}-items.csv", _csv(ITEM_COLUMNS, chunks()))


LEDGER_COLUMNS = ("transaction_id", "kind", "created_at", "entry_id", "account_kind", "owner_id", "currency",
                  "amount_cents", "amount", "memo", "reverses")


def ledger_csv(actor: User, first: object, last: object) -> Export:
    """Every ledger entry of the transactions recorded in the period (UTC days), by transaction."""
    batches.require_finance(actor)
    period = parse_period(first, last)
    statement = (
        sa.select(LedgerTransaction.id, LedgerTransaction.kind, LedgerTransaction.created_at, LedgerEntry.id,
                  LedgerEntry.account_kind, LedgerEntry.owner_id, LedgerEntry.currency, LedgerEntry.amount_cents,
                  LedgerTransaction.memo, LedgerTransaction.reverses_id)
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .where(LedgerTransaction.created_at >= period.starts, LedgerTransaction.created_at < period.ends)
        .order_by(LedgerTransaction.id, LedgerEntry.id))

    def chunks() -> Iterator[list[list[object]]]:
        for rows in _read(statement):
            yield [[tid, kind, created, eid, account, owner, currency, *_money(cents, currency), memo, reverses]
                   for tid, kind, created, eid, account, owner, currency, cents, memo, reverses in rows]

    return Export(f"ledger-{period.first}-{period.last}.csv", _csv(LEDGER_COLUMNS, chunks()))


EARNING_COLUMNS = ("earning_id", "conversation_id", "closed_at", "brand_id", "brand", "expert_id", "expert",
                   "currency", "price_cents", "price", "commission_cents", "commission", "bonus_cents", "bonus",
                   "expert_cents", "expert_amount", "status", "flags")


def earnings_csv(actor: User, first: object, last: object) -> Export:
    """Every earning of the chats closed in the period (UTC days), oldest first."""
    batches.require_finance(actor)
    period = parse_period(first, last)
    statement = (
        sa.select(Earning.id, Earning.conversation_id, Earning.closed_at, Earning.brand_id, Earning.expert_id,
                  Earning.currency, Earning.price_cents, Earning.commission_cents, Earning.bonus_cents,
                  Earning.expert_cents, Earning.status, Earning.flags)
        .where(Earning.closed_at >= period.starts, Earning.closed_at < period.ends)
        .order_by(Earning.closed_at, Earning.id))

    def chunks() -> Iterator[list[list[object]]]:
        for rows in _read(statement):
            names = _names({row.expert_id for row in rows})
            shops = {key: brand.name for key, brand in brands.brands_by_id({row.brand_id for row in rows}).items()}
            yield [[row.id, row.conversation_id, row.closed_at, row.brand_id, shops.get(row.brand_id), row.expert_id,
                    names.get(row.expert_id), row.currency, *_money(row.price_cents, row.currency),
                    *_money(row.commission_cents, row.currency), *_money(row.bonus_cents, row.currency),
                    *_money(row.expert_cents, row.currency), row.status, ",".join(row.flags or ())]
                   for row in rows]

    return Export(f"earnings-{period.first}-{period.last}.csv", _csv(EARNING_COLUMNS, chunks()))


# --- Reconciliation with the payment provider ------------------------------------------------------------

class Finding(enum.StrEnum):
    MATCHED = "matched"
    AMOUNT_MISMATCH = "amount_mismatch"
    MISSING_AT_PROVIDER = "missing_at_provider"  # we recorded it paid; the provider has no such transfer
    UNKNOWN_AT_PROVIDER = "unknown_at_provider"  # a transfer we did not record as paid
    REVERSED_NOT_IN_LEDGER = "reversed_at_provider_not_in_ledger"
    UNCHECKED = "unchecked"  # the provider could not be asked: our side only


class Note(enum.StrEnum):
    IN_FLIGHT = "in_flight"  # our item is still submitted: the next run settles it
    NOT_RECORDED = "not_recorded"  # it names one of our items, which records no such payment
    NOT_OURS = "not_ours"  # it names no item of ours
    NOT_REVERSED_AT_PROVIDER = "not_reversed_at_provider"


class ProviderState(enum.StrEnum):
    CHECKED = "checked"
    NOT_CONFIGURED = "not_configured"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class ReconciliationLine:
    finding: Finding
    currency: str
    item_id: int | None = None
    batch_id: int | None = None
    expert_id: int | None = None
    expert_name: str | None = None
    item_status: str | None = None
    transfer_id: str | None = None
    ours_cents: int | None = None
    theirs_cents: int | None = None
    reversed_cents: int = 0
    note: Note | None = None


@dataclass(frozen=True)
class CurrencyTotals:
    currency: str
    ledger_paid_cents: int  # payout_paid postings in the window, both rails
    ledger_sepa_cents: int  # of which SEPA lines
    ledger_returned_cents: int  # payout_returned postings (transfers reversed) in the window
    in_transit_cents: int  # sent and not settled, now
    provider_cents: int | None  # the provider's transfers in the window
    provider_reversed_cents: int | None

    @property
    def ledger_stripe_cents(self) -> int:
        return self.ledger_paid_cents - self.ledger_sepa_cents

    @property
    def difference_cents(self) -> int | None:
        return None if self.provider_cents is None else self.provider_cents - self.ledger_stripe_cents


@dataclass(frozen=True)
class SepaPayment:
    item_id: int
    batch_id: int
    expert_id: int
    expert_name: str | None
    currency: str
    amount_cents: int
    end_to_end_id: str
    finished_at: dt.datetime | None


@dataclass(frozen=True)
class Reconciliation:
    since: dt.date
    provider: ProviderState
    provider_message: str | None
    lines: list[ReconciliationLine]
    totals: list[CurrencyTotals]
    sepa: list[SepaPayment] = field(default_factory=list)

    def count(self, finding: str) -> int:
        return sum(line.finding == finding for line in self.lines)


def parse_since(value: object, today: dt.date | None = None) -> dt.date:
    """The window's first day: 30 days back when not given, at most 366 days back, not in the future."""
    today = today or utcnow().date()
    if value is None or value == "":
        return today - dt.timedelta(days=RECONCILIATION_DAYS)
    since = parse_date(value, "since")
    if since > today:
        raise InvalidInput(_l("Choose a day in the past."), "since")
    if (today - since).days > MAX_PERIOD_DAYS:
        raise InvalidInput(_l("Reconcile at most %(days)d days back.", days=MAX_PERIOD_DAYS), "since")
    return since


def _provider_transfers(since: dt.datetime) -> tuple[ProviderState, str | None, list[gateways.Transfer]]:
    """The provider's transfers from `since` on, or why there are none (asked before any database read)."""
    try:
        return ProviderState.CHECKED, None, list(gateways.gateway().transfers(since=since))
    except gateways.NotConfigured as error:
        return ProviderState.NOT_CONFIGURED, str(error), []
    except gateways.GatewayError as error:
        return ProviderState.UNREACHABLE, str(error), []


ITEM_FIELDS = (PayoutItem.id, PayoutItem.batch_id, PayoutItem.expert_id, PayoutItem.amount_cents, PayoutItem.status,
               PayoutItem.rail, PayoutItem.provider_ref, PayoutItem.finished_at, PayoutBatch.currency)


def _items(*conditions: sa.ColumnElement[bool]) -> list[sa.Row]:
    return list(db.session.execute(sa.select(*ITEM_FIELDS).join(PayoutBatch, PayoutBatch.id == PayoutItem.batch_id)
                                   .where(*conditions).order_by(PayoutItem.id)))


def _items_named(item_ids: set[int], refs: set[str]) -> list[sa.Row]:
    """Our items with these ids, or Stripe items with these transfer ids, whenever they were submitted."""
    found = []
    ids, refs_ = sorted(item_ids), sorted(refs)
    for start in range(0, max(len(ids), len(refs_)), IN_BATCHES):
        found += _items(sa.or_(PayoutItem.id.in_(ids[start:start + IN_BATCHES]),
                               sa.and_(PayoutItem.rail == PayoutRail.STRIPE,
                                       PayoutItem.provider_ref.in_(refs_[start:start + IN_BATCHES]))))
    return found


def _named_item(transfer: gateways.Transfer) -> int | None:
    named = str(transfer.metadata.get("payout_item", "")).strip()
    return int(named) if DATABASE_ID.fullmatch(named) and int(named) < 2**63 else None


def _line(finding: Finding, item: sa.Row | None, transfer: gateways.Transfer | None,
          note: Note | None = None) -> ReconciliationLine:
    return ReconciliationLine(
        finding, item.currency if item is not None else transfer.currency,
        item_id=item.id if item is not None else None, batch_id=item.batch_id if item is not None else None,
        expert_id=item.expert_id if item is not None else None,
        item_status=item.status.value if item is not None else None,
        transfer_id=transfer.id if transfer is not None else item.provider_ref,
        ours_cents=item.amount_cents if item is not None else None,
        theirs_cents=transfer.amount_cents if transfer is not None else None,
        reversed_cents=transfer.reversed_cents if transfer is not None else 0, note=note)


def _compare(item: sa.Row, transfer: gateways.Transfer) -> ReconciliationLine:
    if transfer.reversed_cents > 0 and item.status == ItemStatus.PAID:
        return _line(Finding.REVERSED_NOT_IN_LEDGER, item, transfer)
    if transfer.amount_cents != item.amount_cents or transfer.currency != item.currency:
        return _line(Finding.AMOUNT_MISMATCH, item, transfer)
    if item.status == ItemStatus.REVERSED and transfer.reversed_cents == 0:
        return _line(Finding.AMOUNT_MISMATCH, item, transfer, Note.NOT_REVERSED_AT_PROVIDER)
    return _line(Finding.MATCHED, item, transfer)


def _match(ours: list[sa.Row], transfers: list[gateways.Transfer]) -> list[ReconciliationLine]:
    """One line per provider transfer, then one per item of ours the provider does not know."""
    ours_by_ref = {item.provider_ref: item for item in ours if item.provider_ref}
    named = {transfer.id: _named_item(transfer) for transfer in transfers}
    window = {item.id for item in ours}
    others = _items_named({n for n in named.values() if n is not None and n not in window},
                          {t.id for t in transfers if t.id not in ours_by_ref})
    by_id = {item.id: item for item in [*ours, *others]}
    by_ref = {item.provider_ref: item for item in by_id.values()
              if item.provider_ref and item.rail == PayoutRail.STRIPE and item.status in (ItemStatus.PAID,
                                                                                           ItemStatus.REVERSED)}
    lines, seen = [], set()
    for transfer in transfers:
        recorded = by_ref.get(transfer.id)
        if recorded is not None:
            seen.add(transfer.id)
            lines.append(_compare(recorded, transfer))
            continue
        item = by_id.get(named[transfer.id]) if named[transfer.id] is not None else None
        note = Note.NOT_OURS if item is None else Note.IN_FLIGHT if item.status == ItemStatus.SUBMITTED \
            else Note.NOT_RECORDED
        lines.append(_line(Finding.UNKNOWN_AT_PROVIDER, item, transfer, note))
    lines += [_line(Finding.MISSING_AT_PROVIDER, item, None) for item in ours if item.provider_ref not in seen]
    return lines


def _ledger_sums(kind: str, account_kind: str, since: dt.datetime) -> dict[str, int]:
    return {currency: int(total) for currency, total in db.session.execute(
        sa.select(LedgerEntry.currency, sa.func.sum(LedgerEntry.amount_cents))
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(LedgerTransaction.kind == kind, LedgerEntry.account_kind == account_kind,
               LedgerTransaction.created_at >= since).group_by(LedgerEntry.currency))}


def _totals(since: dt.datetime, sepa: list[SepaPayment], transfers: list[gateways.Transfer] | None) -> list[
        CurrencyTotals]:
    paid = {c: -total for c, total in _ledger_sums("payout_paid", "cash", since).items()}
    returned = _ledger_sums("payout_returned", "cash", since)
    in_transit = {currency: -int(total) for currency, total in db.session.execute(
        sa.select(LedgerEntry.currency, sa.func.sum(LedgerEntry.amount_cents))
        .where(LedgerEntry.account_kind == "expert_in_transit").group_by(LedgerEntry.currency))}
    sepa_paid: dict[str, int] = {}
    for payment in sepa:
        sepa_paid[payment.currency] = sepa_paid.get(payment.currency, 0) + payment.amount_cents
    provider: dict[str, int] = {}
    reversed_: dict[str, int] = {}
    for transfer in transfers or ():
        provider[transfer.currency] = provider.get(transfer.currency, 0) + transfer.amount_cents
        reversed_[transfer.currency] = reversed_.get(transfer.currency, 0) + transfer.reversed_cents
    currencies = sorted(set(paid) | set(returned) | {c for c, v in in_transit.items() if v} | set(provider))
    return [CurrencyTotals(currency, paid.get(currency, 0), sepa_paid.get(currency, 0), returned.get(currency, 0),
                           in_transit.get(currency, 0),
                           None if transfers is None else provider.get(currency, 0),
                           None if transfers is None else reversed_.get(currency, 0))
            for currency in currencies]


def reconcile(actor: User, since: object = None) -> Reconciliation:
    """Compare the Stripe items we paid from `since` on (UTC) with the provider's transfers; totals per
    currency; the SEPA lines paid in the window, for a manual check against the bank statement."""
    batches.require_finance(actor)
    day = parse_since(since)
    starts = dt.datetime.combine(day, dt.time.min, dt.UTC)
    state, message, transfers = _provider_transfers(starts)
    ours = _items(PayoutItem.rail == PayoutRail.STRIPE, PayoutItem.status.in_((ItemStatus.PAID, ItemStatus.REVERSED)),
                  PayoutItem.submitted_at >= starts)
    if state == ProviderState.CHECKED:
        lines = _match(ours, transfers)
    else:
        lines = [_line(Finding.UNCHECKED, item, None) for item in ours]
    sepa = [SepaPayment(item.id, item.batch_id, item.expert_id, None, item.currency, item.amount_cents,
                        item.provider_ref or "", item.finished_at)
            for item in _items(PayoutItem.rail == PayoutRail.SEPA, PayoutItem.status == ItemStatus.PAID,
                               PayoutItem.finished_at >= starts)]
    totals = _totals(starts, sepa, transfers if state == ProviderState.CHECKED else None)
    names = _names({line.expert_id for line in lines if line.expert_id} | {payment.expert_id for payment in sepa})
    db.session.commit()
    order = list(Finding)  # what needs a look first; matched lines last
    lines.sort(key=lambda line: (line.finding == Finding.MATCHED, order.index(line.finding), line.item_id or 0,
                                 line.transfer_id or ""))
    return Reconciliation(day, state, message, [replace(line, expert_name=names.get(line.expert_id))
                                                for line in lines], totals,
                          [replace(payment, expert_name=names.get(payment.expert_id)) for payment in sepa])


RECONCILIATION_COLUMNS = ("finding", "note", "item_id", "batch_id", "expert_id", "expert", "item_status",
                          "transfer_id", "currency", "ours_cents", "ours", "theirs_cents", "theirs",
                          "reversed_cents", "reversed")


def reconciliation_csv(actor: User, since: object = None) -> Export:
    """The reconciliation's lines as CSV (the provider is asked now, before the file is sent)."""
    report = reconcile(actor, since)
    rows = [[line.finding, line.note, line.item_id, line.batch_id, line.expert_id, line.expert_name, line.item_status,
             line.transfer_id, line.currency, *_money(line.ours_cents, line.currency),
             *_money(line.theirs_cents, line.currency), *_money(line.reversed_cents, line.currency)]
            for line in report.lines]
    return Export(f"reconciliation-since-{report.since}.csv", _csv(RECONCILIATION_COLUMNS, [rows]))


# --- The money audit log ----------------------------------------------------------------------------------

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
    batch = _positive_id(batch_id, "batch_id")
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


def money_audit(actor: User, *, kind: object = None, batch_id: object = None, before_id: object = None,
                limit: int = AUDIT_PAGE_SIZE) -> AuditPage:
    """The audit events about money (payout_*), newest first, `limit` at a time from `before_id` down."""
    batches.require_finance(actor)
    query = _audit_query(kind, batch_id)
    before = _positive_id(before_id, "before_id")
    if before is not None:
        query = query.where(AuditEvent.id < before)
    events = list(db.session.execute(query.limit(limit + 1)))
    kinds = list(db.session.scalars(sa.select(AuditEvent.kind).distinct()
                                    .where(AuditEvent.kind.startswith(MONEY_AUDIT_PREFIX, autoescape=True))
                                    .order_by(AuditEvent.kind)))
    page = AuditPage(_entries(events[:limit]), kinds, events[limit - 1].id if len(events) > limit else None)
    db.session.commit()
    return page


AUDIT_COLUMNS = ("event_id", "created_at", "kind", "actor_id", "actor_name", "actor_email", "subject_id",
                 "subject_email", "ip", "batch_id", "detail")


def money_audit_csv(actor: User, *, kind: object = None, batch_id: object = None) -> Export:
    """Every money audit event matching the filters, newest first; the detail as JSON."""
    batches.require_finance(actor)
    query = _audit_query(kind, batch_id)

    def chunks() -> Iterator[list[list[object]]]:
        for rows in _read(query):
            yield [[e.id, e.created_at, e.kind, e.actor_id, e.actor.full_name if e.actor else None,
                    e.actor.email if e.actor else None, e.subject_id, e.subject.email if e.subject else None, e.ip,
                    e.detail.get("batch_id"), json.dumps(e.detail, sort_keys=True, ensure_ascii=False, default=str)]
                   for e in _entries(rows)]

    return Export(f"payout-audit-{utcnow().date()}.csv", _csv(AUDIT_COLUMNS, chunks()))
