"""The pure tax rules: which payout paid which credited amount, quarters, and the ceiling in force on a day."""

from __future__ import annotations

import datetime as dt

from marketplace.core import tax

UTC = dt.UTC


def at(day: int, month: int = 1, year: int = 2025) -> dt.datetime:
    return dt.datetime(year, month, day, 12, tzinfo=UTC)


def test_payouts_pay_the_oldest_credited_money_first():
    credited = [tax.Credited("a", at(1), 500), tax.Credited("b", at(2), 300), tax.Credited("c", at(20), 200)]
    payments = [tax.Payment(at(10), 800), tax.Payment(at(25), 200)]

    assert tax.paid_on(credited, payments) == {"a": at(10), "b": at(10), "c": at(25)}


def test_money_no_payout_covered_yet_is_not_paid():
    credited = [tax.Credited("a", at(1), 500), tax.Credited("b", at(2), 300)]

    assert tax.paid_on(credited, [tax.Payment(at(10), 500)]) == {"a": at(10)}
    assert tax.paid_on(credited, []) == {}


def test_an_amount_split_over_two_payouts_is_paid_by_the_second():
    credited = [tax.Credited("a", at(1), 500)]

    assert tax.paid_on(credited, [tax.Payment(at(5), 200), tax.Payment(at(9), 300)]) == {"a": at(9)}


def test_quarters_are_calendar_quarters():
    assert [tax.quarter(dt.date(2025, month, 1)) for month in (1, 3, 4, 6, 7, 9, 10, 12)] == [1, 1, 2, 2, 3, 3, 4, 4]


VAT = [tax.Threshold("vat", dt.date(2023, 1, 1), 3_680_000), tax.Threshold("vat", dt.date(2025, 1, 1), 3_750_000)]


def test_the_ceiling_in_force_is_the_latest_to_have_taken_effect():
    assert tax.in_force(VAT, "vat", dt.date(2024, 12, 31)).amount_cents == 3_680_000
    assert tax.in_force(VAT, "vat", dt.date(2025, 1, 1)).amount_cents == 3_750_000
    assert tax.in_force(VAT, "vat", dt.date(2022, 12, 31)) is None
    assert tax.in_force(VAT, "micro", dt.date(2025, 6, 1)) is None


def test_a_warning_comes_from_80_percent_and_says_when_the_ceiling_is_passed():
    def level(cents: int, day: dt.date = dt.date(2025, 6, 1)) -> str | None:
        found = tax.ceilings(VAT, ["vat"], day, cents)
        return found[0].level if found else None

    assert level(2_999_999) is None  # 79.99 % of 37,500
    assert level(3_000_000) == "near"  # 80 %
    assert level(3_750_000) == "near"  # at the ceiling, not past it
    assert level(3_750_001) == "passed"
    assert level(3_700_000, dt.date(2024, 6, 1)) == "passed"  # 2024's ceiling was 36,800
    assert level(3_700_000) == "near"
    assert tax.ceilings(VAT, ["vat"], dt.date(2025, 6, 1), 3_000_000, currency="CHF") == []
