"""CSV exports for finance (a batch's items, the ledger, the earnings), and how every report is written as CSV.

Every service takes an explicit finance actor and reads in one transaction. An export checks its actor and
its input at once (a bad date is a 4xx before any byte is sent), then hands back a generator that reads the
rows `CHUNK` at a time (`yield_per`) and writes them as CSV: UTF-8, `;` between cells, dates in ISO 8601 UTC,
each amount twice (integer cents, then a decimal such as 12.50), and text a spreadsheet would run as a
formula prefixed with an apostrophe. A million rows never sit in memory.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from marketplace.accounts.models import User
from marketplace.brands import services as brands
from marketplace.database import ID_MAX, begin_read_only, db, end_read, unit_of_work
from marketplace.errors import InvalidInput
from marketplace.experts import services as experts
from marketplace.payouts.batches import services as batches
from marketplace.payouts.models import Earning, LedgerEntry, LedgerTransaction, PayoutItem
from marketplace.shared import money, spreadsheets

CHUNK = 1_000  # rows read and written at a time
MAX_PERIOD_DAYS = 366
EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2100, 12, 31)
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
DATABASE_ID = re.compile(r"[0-9]{1,19}")  # ASCII digits that fit a BIGINT


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


def positive_id(value: object, field_name: str) -> int | None:
    """An optional id: None when not given; InvalidInput naming `field_name` unless a whole number from 1 up."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    if isinstance(value, bool) or not DATABASE_ID.fullmatch(text) or not 0 < int(text) <= ID_MAX:
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


def money_cells(cents: int | None, currency: str) -> list[object]:
    return [None, None] if cents is None else [cents, money.to_decimal(cents, currency)]


def csv_lines(header: Sequence[str], chunks: Iterable[Iterable[Sequence[object]]]) -> Iterator[str]:
    return spreadsheets.stream(header, ([[_cell(value) for value in row] for row in rows] for rows in chunks))


def read_in_chunks(statement: sa.Select) -> Iterator[Sequence[sa.Row]]:
    """The statement's rows, CHUNK at a time, in one read-only transaction that ends with the export (it takes
    no write lock on SQLite, so a slow download holds nobody up)."""
    begin_read_only()
    result = db.session.execute(statement.execution_options(yield_per=CHUNK))
    try:
        yield from result.partitions()
    finally:
        result.close()
        end_read()


@dataclass(frozen=True)
class Export:
    filename: str
    lines: Iterator[str]  # CSV text, read from the database while it is sent


def expert_names(expert_ids: set[int]) -> dict[int, str]:
    return {expert_id: profile.display_name for expert_id, profile in experts.profiles_by_id(expert_ids).items()}


ITEM_COLUMNS = ("item_id", "batch_id", "expert_id", "expert", "rail", "currency", "amount_cents", "amount",
                "status", "provider_ref", "failure", "submitted_at", "finished_at")


def batch_items_csv(actor: User, batch_id: int) -> Export:
    """A batch's items, one line each, by id."""
    with unit_of_work():
        batches.require_finance(actor)
        currency = batches.find_batch(batch_id).currency

    def chunks() -> Iterator[list[list[object]]]:
        for rows in read_in_chunks(sa.select(PayoutItem.id, PayoutItem.expert_id, PayoutItem.rail,
                                             PayoutItem.amount_cents, PayoutItem.status, PayoutItem.provider_ref,
                                             PayoutItem.failure, PayoutItem.submitted_at, PayoutItem.finished_at)
                                   .where(PayoutItem.batch_id == batch_id).order_by(PayoutItem.id)):
            names = expert_names({row.expert_id for row in rows})
            yield [[row.id, batch_id, row.expert_id, names.get(row.expert_id), row.rail, currency,
                    *money_cells(row.amount_cents, currency), row.status, row.provider_ref, row.failure,
                    row.submitted_at, row.finished_at] for row in rows]

    return Export(f"payout-batch-{batch_id}-items.csv", csv_lines(ITEM_COLUMNS, chunks()))


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
        for rows in read_in_chunks(statement):
            yield [[tid, kind, created, eid, account, owner, currency, *money_cells(cents, currency), memo, reverses]
                   for tid, kind, created, eid, account, owner, currency, cents, memo, reverses in rows]

    return Export(f"ledger-{period.first}-{period.last}.csv", csv_lines(LEDGER_COLUMNS, chunks()))


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
        for rows in read_in_chunks(statement):
            names = expert_names({row.expert_id for row in rows})
            shops = {key: brand.name for key, brand in brands.brands_by_id({row.brand_id for row in rows}).items()}
            yield [[row.id, row.conversation_id, row.closed_at, row.brand_id, shops.get(row.brand_id), row.expert_id,
                    names.get(row.expert_id), row.currency, *money_cells(row.price_cents, row.currency),
                    *money_cells(row.commission_cents, row.currency), *money_cells(row.bonus_cents, row.currency),
                    *money_cells(row.expert_cents, row.currency), row.status, ",".join(row.flags or ())]
                   for row in rows]

    return Export(f"earnings-{period.first}-{period.last}.csv", csv_lines(EARNING_COLUMNS, chunks()))
