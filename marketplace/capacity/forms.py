"""Planner forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SubmitField

from marketplace.brands.services import MAX_PLANNER_BONUS_CENTS
from marketplace.web.forms import MoneyField


class AnswerForm(FlaskForm):
    """Accept or decline: the CSRF token is the only field."""


class OpenShiftsForm(FlaskForm):
    bonus = MoneyField(_l("Bonus per seat on the shifts the planner opens"), max_cents=MAX_PLANNER_BONUS_CENTS,
                       too_large=_l("This bonus is too large."),
                       description=_l("On top of the rate per chat, e.g. 5 or 7.50; 0 for none."))
    submit = SubmitField(_l("Save and open shifts for the gaps"))
