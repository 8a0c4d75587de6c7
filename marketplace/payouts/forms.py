"""The payouts pages' forms: drafting a batch, disputing a chat, and the buttons that carry only a CSRF token."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange

from marketplace.database import ID_MAX
from marketplace.payouts.batches.services import MAX_MINIMUM_CENTS
from marketplace.web.forms import MoneyField
from marketplace.web.params import IntegerField


class ActionForm(FlaskForm):
    """A button (approve, cancel, release, get paid through Stripe...): the CSRF token is the only field."""


class DraftForm(FlaskForm):
    currency = StringField(_l("Currency"), default="EUR", validators=[DataRequired(), Length(min=3, max=3)],
                           description=_l("ISO 4217 code, e.g. EUR, CHF or GBP."))
    minimum = MoneyField(_l("Minimum payout"), max_cents=MAX_MINIMUM_CENTS,
                         description=_l("Experts owed less are carried forward to the next batch."))
    submit = SubmitField(_l("Draft a batch"))


class DisputeForm(FlaskForm):
    conversation_id = IntegerField(_l("Conversation number"),
                                   validators=[DataRequired(), NumberRange(min=1, max=ID_MAX)],
                                   description=_l("As shown in the Conversations tab."))
    reason = TextAreaField(_l("What went wrong"), validators=[DataRequired(), Length(min=3, max=500)])
    submit = SubmitField(_l("Dispute the chat"))
