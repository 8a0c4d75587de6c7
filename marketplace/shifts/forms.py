"""Forms of the shift pages: publishing a slot, booking and cancelling."""

from __future__ import annotations

import re
from decimal import Decimal

from babel.numbers import get_currency_precision
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, StringField, SubmitField, TimeField
from wtforms.validators import InputRequired, NumberRange, ValidationError

from marketplace.shifts.services import MAX_BONUS_CENTS, MAX_HEADCOUNT

# Digits, then at most one decimal separator: a person's "7,50" or "7.50"; no signs, exponents or NaN.
AMOUNT = re.compile(r"^\d{1,9}(?:[.,]\d+)?$")


def to_minor_units(text: str, currency: str) -> int:
    """Read an amount typed in currency units ("7,50") as integer minor units (750), without floats."""
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


class MoneyField(StringField):
    """An amount in currency units; `cents` holds it in minor units once the form is validated."""

    currency = "EUR"
    cents: int | None = None

    def pre_validate(self, form) -> None:
        try:
            self.cents = to_minor_units(self.data or "", self.currency)
        except ValueError as error:
            self.cents = None
            raise ValidationError(str(error.args[0])) from None
        if self.cents > MAX_BONUS_CENTS:
            self.cents = None
            raise ValidationError(_l("This bonus is too large."))


class PublishSlotForm(FlaskForm):
    """A slot as brand staff think of it: a day and two times on the brand's clock."""

    date = DateField(_l("Day"), validators=[InputRequired(message=_l("Choose the day."))])
    start = TimeField(_l("Start time"), validators=[InputRequired(message=_l("Choose the start time."))])
    end = TimeField(_l("End time"), validators=[InputRequired(message=_l("Choose the end time."))],
                    description=_l("An end before the start means the next day."))
    headcount = IntegerField(_l("Experts wanted"), default=1, validators=[
        InputRequired(message=_l("Say how many experts you want.")),
        NumberRange(min=1, max=MAX_HEADCOUNT, message=_l("Choose between 1 and %(count)d seats.",
                                                         count=MAX_HEADCOUNT)),
    ])
    bonus = MoneyField(_l("Bonus per expert (optional)"),
                       description=_l("On top of the rate per chat, e.g. 5 or 7.50."))
    submit = SubmitField(_l("Publish"))

    # Which field shows each of the service's refusals.
    SERVICE_FIELDS = {"starts_at": "start", "ends_at": "end", "bonus_cents": "bonus", "headcount": "headcount"}


class SlotActionForm(FlaskForm):
    """Book or cancel a seat; `week` brings the expert back to the week they were looking at."""

    week = HiddenField()


class CancelSlotForm(FlaskForm):
    submit = SubmitField(_l("Cancel this shift"))
