"""Money as people read and type it: integer minor units (cents) to decimals and text, and back.

Amounts are integer minor units everywhere else (rule: money is integer cents); this is the one place that knows
how many decimals a currency has, how a person types an amount ("7,50" or "7.50") and how it is written for them.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from babel.numbers import format_decimal, get_currency_precision
from flask_babel import format_currency
from flask_babel import lazy_gettext as _l

# Digits, then at most one decimal separator: a person's "7,50" or "7.50"; no signs, exponents or NaN.
AMOUNT = re.compile(r"^\d{1,9}(?:[.,]\d+)?$")


def to_decimal(cents: int, currency: str) -> Decimal:
    """Integer minor units as an exact amount in currency units: 750 EUR -> Decimal("7.50")."""
    return Decimal(cents).scaleb(-get_currency_precision(currency))


def plain(cents: int | None, currency: str) -> str:
    """Minor units as a plain decimal, whatever the language: 1250 EUR -> "12.50", for files and form values
    (empty for no amount)."""
    if cents is None:
        return ""
    return f"{to_decimal(cents, currency):.{get_currency_precision(currency)}f}"


def parse(text: str | None, currency: str) -> int:
    """An amount typed in currency units ("7,50", "7.50", "1 234,5") as integer minor units, without floats.

    Empty is 0. Raises ValueError with a message for the person when it is not an amount of this currency.
    """
    compact = re.sub(r"\s", "", text or "")
    if not compact:
        return 0
    if not AMOUNT.match(compact):
        raise ValueError(_l("Enter an amount such as 5 or 7.50."))
    precision = get_currency_precision(currency)
    minor = Decimal(compact.replace(",", ".")).scaleb(precision)
    if minor != minor.to_integral_value():
        raise ValueError(_l("Use at most %(digits)d decimals for %(currency)s.", digits=precision, currency=currency))
    return int(minor)


def shown(cents: int, currency: str) -> str:
    """Minor units as money in the current language: 750 EUR -> "€7.50" ("7,50 €" in French)."""
    return format_currency(to_decimal(cents, currency), currency)


def written(cents: int, currency: str, locale) -> str:
    """Minor units as a reader of `locale` writes them, with the ISO code: "1 234,50 EUR" in French (documents)."""
    digits = get_currency_precision(currency)
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    number = format_decimal(to_decimal(cents, currency), pattern, locale=locale)
    return f"{number} {currency}".replace("\u202f", " ").replace("\xa0", " ")


def percent(bps: int | None) -> str:
    """Basis points as a percentage a person types back: 1250 -> "12.5" (empty for none)."""
    return "" if bps is None else str(Decimal(bps).scaleb(-2).normalize())


def parse_percent(text: str | None) -> int:
    """A percentage typed by a person ("12,5" or "12.5") as basis points (1250), from 0 to 100 %.

    Raises ValueError with a message for the person when it is not one.
    """
    try:
        value = Decimal((text or "").strip().replace(",", ".")).scaleb(2)
    except InvalidOperation:
        raise ValueError(_l("Enter a percentage such as 20 or 12.5.")) from None
    if value != value.to_integral_value() or not 0 <= value <= 10_000:
        raise ValueError(_l("Enter a percentage from 0 to 100 with at most two decimals."))
    return int(value)
