"""Money as people read and type it: exact conversions, amounts typed in French or English, refusals."""

from decimal import Decimal

import pytest

from marketplace.shared import money


@pytest.mark.parametrize(("cents", "currency", "expected"), [
    (750, "EUR", Decimal("7.50")), (1, "EUR", Decimal("0.01")), (700, "JPY", Decimal("700")),
    (1234, "KWD", Decimal("1.234")), (0, "EUR", Decimal("0.00")),
])
def test_cents_become_exact_decimals(cents, currency, expected):
    assert money.to_decimal(cents, currency) == expected
    assert str(money.to_decimal(cents, currency)) == str(expected)


def test_plain_text_has_the_currencys_decimals_whatever_the_language():
    assert money.plain(1250, "EUR") == "12.50"
    assert money.plain(1200, "EUR") == "12.00"
    assert money.plain(5, "JPY") == "5"
    assert money.plain(None, "EUR") == ""
    assert money.plain(-250, "EUR") == "-2.50"


@pytest.mark.parametrize(("typed", "cents"), [
    ("7,50", 750), ("7.50", 750), ("7", 700), (" 1 234,5 ", 123450), ("0.01", 1), ("", 0), (None, 0),
])
def test_amounts_typed_in_french_or_english_become_cents(typed, cents):
    assert money.parse(typed, "EUR") == cents


@pytest.mark.parametrize("typed", ["-5", "1e3", "NaN", "7.5.0", "abc", "1234567890", "€5"])
def test_what_is_not_an_amount_is_refused(app, typed):
    with app.test_request_context(), pytest.raises(ValueError, match="Enter an amount"):
        money.parse(typed, "EUR")


def test_more_decimals_than_the_currency_has_are_refused(app):
    with app.test_request_context():
        with pytest.raises(ValueError) as error:
            money.parse("7.505", "EUR")
        assert str(error.value.args[0]) == "Use at most 2 decimals for EUR."
        with pytest.raises(ValueError):
            money.parse("7.5", "JPY")
    assert money.parse("7", "JPY") == 7


def test_written_amounts_follow_the_readers_language():
    assert money.written(123450, "EUR", "fr") == "1 234,50 EUR"
    assert money.written(123450, "EUR", "en") == "1,234.50 EUR"
    assert money.written(5, "JPY", "en") == "5 JPY"


def test_shown_amounts_use_the_current_language(app):
    with app.test_request_context():
        assert money.shown(750, "EUR") == "€7.50"
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert money.shown(750, "EUR").replace("\xa0", " ").replace("\u202f", " ") == "7,50 €"


@pytest.mark.parametrize(("typed", "bps"), [("12,5", 1250), ("20", 2000), ("0", 0), ("100", 10_000), ("0.01", 1)])
def test_percentages_become_basis_points(typed, bps):
    assert money.parse_percent(typed) == bps
    assert money.parse_percent(money.percent(bps)) == bps


@pytest.mark.parametrize(("typed", "message"), [
    ("abc", "Enter a percentage such as"), ("", "Enter a percentage such as"),
    ("101", "from 0 to 100"), ("-5", "from 0 to 100"), ("12.345", "from 0 to 100"), ("NaN", "from 0 to 100"),
])
def test_what_is_not_a_percentage_is_refused(app, typed, message):
    with app.test_request_context(), pytest.raises(ValueError) as error:
        money.parse_percent(typed)
    assert message in str(error.value.args[0])


def test_no_percentage_is_empty_text():
    assert money.percent(None) == ""
    assert money.percent(1250) == "12.5"
