"""Forms of the shift pages: publishing a slot, booking and cancelling."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SubmitField, TimeField
from wtforms.validators import InputRequired, NumberRange

from marketplace.shifts.slots import MAX_BONUS_CENTS, MAX_HEADCOUNT
from marketplace.web.forms import MoneyField
from marketplace.web.params import DateField, IntegerField


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
    bonus = MoneyField(_l("Bonus per expert (optional)"), max_cents=MAX_BONUS_CENTS,
                       too_large=_l("This bonus is too large."),
                       description=_l("On top of the rate per chat, e.g. 5 or 7.50."))
    submit = SubmitField(_l("Publish"))

    # Which field shows each of the service's refusals.
    SERVICE_FIELDS = {"starts_at": "start", "ends_at": "end", "bonus_cents": "bonus", "headcount": "headcount"}


class SlotActionForm(FlaskForm):
    """Book or cancel a seat; `week` brings the expert back to the week they were looking at."""

    week = HiddenField()


class CancelSlotForm(FlaskForm):
    submit = SubmitField(_l("Cancel this shift"))
