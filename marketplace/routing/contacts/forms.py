"""The forms of the brand's contact pages: the search, merging two contacts, and erasing one (routing/retention/)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from marketplace.routing.contacts.history import SEARCH_LENGTH


class ContactSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a search in the address (GET)

    q = StringField(_l("Address or name"), description=_l("Or a phone number: 4 digits of it or more."),
                    validators=[Optional(), Length(max=SEARCH_LENGTH)])


class MergeForm(FlaskForm):
    """Merge another contact with the one whose page it is; the choices are the brand's other contacts."""

    other_id = SelectField(_l("The other contact"), coerce=int, validators=[InputRequired()])
    keep = RadioField(_l("Which one stays"), choices=[SelectChoice("this", _l("This contact")),
                                                         SelectChoice("other", _l("The other one"))],
                      default="this", validators=[InputRequired()])
    submit = SubmitField(_l("Merge the two contacts"))


class EraseContactForm(FlaskForm):
    """Erase the contact whose page it is, on their request (retention.views): the admin must tick the box."""

    confirm = BooleanField(
        _l("I understand: their messages, files, address, phone and name are removed from every conversation, "
           "and this cannot be undone."),
        validators=[DataRequired(message=_l("Tick the box to confirm the erasure."))])
    submit = SubmitField(_l("Erase this contact"))
