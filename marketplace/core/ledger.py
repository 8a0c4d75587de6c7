"""The double-entry ledger as plain values: accounts, balanced transactions, and the movements of money.

Amounts are integer cents (rule 9). An entry's amount is a debit when positive and a credit when negative,
so every transaction sums to zero (rule 10) and an account's balance is the sum of its entries: what the
platform is owed (brand receivables, cash) is positive, what it owes (experts' money, its commission
income, fees) is negative. The ledger is append-only: a correction is a new transaction that reverses
another (`reversal`), never an edit.

The accounts, per DESIGN and the payouts issue:

    brand_receivable:<brand>   what a brand owes for its answered chats (and its FAQ credits)
    expert_held:<expert>       an expert's earnings still in their hold period (disputes, fraud checks)
    expert_payable:<expert>    earnings past the hold, waiting for a payout batch
    expert_in_transit:<expert> sent to the payment provider, not yet confirmed paid
    platform_commission        the platform's share of each price
    cash                       money that left (payouts paid) or came in (brands paying)
    fees                       what the payment provider charged
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

PER_BRAND = ("brand_receivable",)
PER_EXPERT = ("expert_held", "expert_payable", "expert_in_transit")
PLATFORM = ("platform_commission", "cash", "fees")
KINDS = PER_BRAND + PER_EXPERT + PLATFORM


class LedgerError(ValueError):
    """A transaction that would break the ledger's rules."""


@dataclass(frozen=True, order=True)
class Account:
    kind: str
    owner_id: int | None = None  # the brand or expert; None for the platform's own accounts

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise LedgerError(f"unknown account kind {self.kind!r}")
        if (self.kind in PLATFORM) != (self.owner_id is None):
            raise LedgerError(f"{self.kind} {'takes no owner' if self.kind in PLATFORM else 'needs an owner'}")

    def __str__(self) -> str:
        return self.kind if self.owner_id is None else f"{self.kind}:{self.owner_id}"


@dataclass(frozen=True)
class Entry:
    account: Account
    amount_cents: int  # > 0 debit, < 0 credit


@dataclass(frozen=True)
class Transaction:
    kind: str  # what happened: earning, faq_credit, release, payout_submitted, payout_paid, payout_failed, ...
    entries: tuple[Entry, ...]
    reverses: int | None = None  # the id of the transaction this one cancels
    currency: str = "EUR"  # every entry of a transaction is in one currency (ISO 4217)

    def __post_init__(self) -> None:
        if not (len(self.currency) == 3 and self.currency.isascii() and self.currency.isupper()):
            raise LedgerError(f"a currency is an ISO 4217 code such as EUR, not {self.currency!r}")
        check_balanced(self.entries)


def check_balanced(entries: Sequence[Entry]) -> None:
    """Refuse entries that are not whole cents, are zero, or do not sum to zero."""
    if len(entries) < 2:
        raise LedgerError("a transaction has at least two entries")
    for entry in entries:
        if isinstance(entry.amount_cents, bool) or not isinstance(entry.amount_cents, int):
            raise LedgerError(f"amounts are whole cents, not {entry.amount_cents!r}")
        if entry.amount_cents == 0:
            raise LedgerError(f"an entry of 0 on {entry.account} moves nothing")
    total = sum(entry.amount_cents for entry in entries)
    if total != 0:
        raise LedgerError(f"entries sum to {total}, not 0")


def _move(kind: str, amount_cents: int, debit: Account, credit: Account, currency: str) -> Transaction:
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents <= 0:
        raise LedgerError(f"{kind} moves a positive whole number of cents, not {amount_cents!r}")
    return Transaction(kind, (Entry(debit, amount_cents), Entry(credit, -amount_cents)), currency=currency)


def earning(brand_id: int, expert_id: int, price_cents: int, commission_cents: int,
            bonus_cents: int = 0, currency: str = "EUR") -> Transaction:
    """An answered chat: the brand owes its price and any bonus; the expert earns it less the commission,
    held for the hold period; the platform keeps the commission (on the price, not on the bonus)."""
    for name, value in (("price", price_cents), ("commission", commission_cents), ("bonus", bonus_cents)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise LedgerError(f"the {name} is a whole number of cents, 0 or more, not {value!r}")
    if commission_cents > price_cents:
        raise LedgerError("the commission cannot exceed the price")
    owed = price_cents + bonus_cents
    entries = [Entry(Account("brand_receivable", brand_id), owed)]
    if owed - commission_cents:
        entries.append(Entry(Account("expert_held", expert_id), -(owed - commission_cents)))
    if commission_cents:
        entries.append(Entry(Account("platform_commission"), -commission_cents))
    return Transaction("earning", tuple(entries), currency=currency)


def faq_credit(brand_id: int, expert_id: int, amount_cents: int, currency: str = "EUR") -> Transaction:
    """The brand's FAQ bot resolved a conversation with an entry the expert wrote: the brand owes its credit per
    resolution and the expert earns all of it (no commission), held for the hold period as an earning is."""
    return _move("faq_credit", amount_cents, Account("brand_receivable", brand_id), Account("expert_held", expert_id),
                 currency)


def release(expert_id: int, amount_cents: int, currency: str = "EUR") -> Transaction:
    """The hold period is over: held earnings become payable."""
    return _move("release", amount_cents, Account("expert_held", expert_id), Account("expert_payable", expert_id),
                 currency)


def payout_submitted(expert_id: int, amount_cents: int, currency: str = "EUR") -> Transaction:
    """A payout item was sent to the provider: its money is in transit."""
    return _move("payout_submitted", amount_cents, Account("expert_payable", expert_id),
                 Account("expert_in_transit", expert_id), currency)


def payout_paid(expert_id: int, amount_cents: int, currency: str = "EUR") -> Transaction:
    """The provider confirmed the payment: the money left the platform."""
    return _move("payout_paid", amount_cents, Account("expert_in_transit", expert_id), Account("cash"), currency)


def payout_failed(expert_id: int, amount_cents: int, currency: str = "EUR") -> Transaction:
    """The provider refused or returned the payment: the money is payable again."""
    return _move("payout_failed", amount_cents, Account("expert_in_transit", expert_id),
                 Account("expert_payable", expert_id), currency)


def payout_returned(expert_id: int, amount_cents: int, currency: str = "EUR") -> Transaction:
    """A paid transfer was reversed by the provider: the money came back and is payable again."""
    return _move("payout_returned", amount_cents, Account("cash"), Account("expert_payable", expert_id), currency)


def brand_paid(brand_id: int, amount_cents: int, currency: str = "EUR") -> Transaction:
    """A brand settled (part of) its invoice."""
    return _move("brand_paid", amount_cents, Account("cash"), Account("brand_receivable", brand_id), currency)


def reversal(original_id: int, original: Transaction) -> Transaction:
    """The correction of a transaction: every entry negated, pointing back at it (never an edit)."""
    if original.kind == "reversal":
        raise LedgerError("a reversal is not reversed: record the movement again instead")
    return Transaction("reversal", tuple(Entry(e.account, -e.amount_cents) for e in original.entries),
                       reverses=original_id, currency=original.currency)


def balances(entries: Iterable[Entry]) -> dict[Account, int]:
    """Each account's balance: the sum of its entries (debits positive)."""
    totals: dict[Account, int] = {}
    for entry in entries:
        totals[entry.account] = totals.get(entry.account, 0) + entry.amount_cents
    return totals


def owed_to(balance_cents: int) -> int:
    """What a liability account holds, as a positive amount (its balance is a credit, negative)."""
    return -balance_cents


def invariant_breaches(transactions: Mapping[int, Transaction], ids_reversed: Iterable[int] = ()) -> list[str]:
    """Every rule the recorded ledger breaks, in words; an empty list when it adds up.

    Each transaction sums to zero; the ledger sums to zero in each currency; no expert account is owed less than
    nothing (their held, payable or in-transit money never goes below zero); a transaction is reversed at
    most once, and only one that exists.
    """
    breaches = []
    by_currency: dict[str, list[Entry]] = {}
    for transaction_id, transaction in transactions.items():
        total = sum(entry.amount_cents for entry in transaction.entries)
        if total:
            breaches.append(f"transaction {transaction_id} ({transaction.kind}) sums to {total}")
        by_currency.setdefault(transaction.currency, []).extend(transaction.entries)
    for currency, everything in sorted(by_currency.items()):
        overall = sum(entry.amount_cents for entry in everything)
        if overall:
            breaches.append(f"the ledger sums to {overall} {currency}")
        for account, balance in sorted(balances(everything).items()):
            if account.kind in PER_EXPERT and balance > 0:
                breaches.append(f"{account} is owed {owed_to(balance)} {currency} (below zero)")
    seen: set[int] = set()
    for original in ids_reversed:
        if original in seen:
            breaches.append(f"transaction {original} is reversed twice")
        if original not in transactions:
            breaches.append(f"a reversal points at transaction {original}, which does not exist")
        seen.add(original)
    return breaches
