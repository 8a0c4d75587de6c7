"""The reconciliation with the payment provider: our Stripe payouts against the provider's transfers.

Each provider transfer is matched with the item it pays (by transfer id, or by the item it names), each of our
paid items the provider does not know is listed, and the ledger's and the provider's totals per currency are
set side by side; the SEPA lines paid in the window are listed for a check against the bank statement.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field, replace

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from marketplace.accounts.models import User
from marketplace.database import ID_MAX, db, use_case, utcnow
from marketplace.errors import InvalidInput
from marketplace.payouts.batches import services as batches
from marketplace.payouts.models import ItemStatus, LedgerEntry, LedgerTransaction, PayoutBatch, PayoutItem, PayoutRail
from marketplace.payouts.rails import gateway as gateways
from marketplace.payouts.reports.exports import (
    DATABASE_ID,
    MAX_PERIOD_DAYS,
    Export,
    csv_lines,
    expert_names,
    money_cells,
    parse_date,
)

RECONCILIATION_DAYS = 30  # the default window
IN_BATCHES = 500  # ids per IN (...) list


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
    return int(named) if DATABASE_ID.fullmatch(named) and int(named) <= ID_MAX else None


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


@use_case
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
    names = expert_names({line.expert_id for line in lines if line.expert_id}
                         | {payment.expert_id for payment in sepa})
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
             line.transfer_id, line.currency, *money_cells(line.ours_cents, line.currency),
             *money_cells(line.theirs_cents, line.currency), *money_cells(line.reversed_cents, line.currency)]
            for line in report.lines]
    return Export(f"reconciliation-since-{report.since}.csv", csv_lines(RECONCILIATION_COLUMNS, [rows]))
