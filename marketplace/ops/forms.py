"""Ops forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from marketplace.accounts.models import Role

# The zones brands are most likely to be in; the service accepts any IANA name.
COMMON_TIMEZONES = (
    "Europe/Paris", "Europe/Brussels", "Europe/Luxembourg", "Europe/Zurich", "Europe/Berlin", "Europe/Amsterdam",
    "Europe/Madrid", "Europe/Lisbon", "Europe/Rome", "Europe/London", "Europe/Dublin", "Europe/Stockholm",
    "Europe/Warsaw", "America/Toronto", "America/New_York", "America/Chicago", "America/Los_Angeles",
    "Africa/Casablanca", "Indian/Reunion", "America/Martinique", "Asia/Tokyo", "Australia/Sydney", "UTC",
)


class BrandCreateForm(FlaskForm):
    name = StringField(_l("Brand name"), validators=[DataRequired(), Length(max=120)])
    slug = StringField(_l("Short name (optional)"), validators=[Optional(), Length(max=60)],
                       description=_l("Used in addresses; made from the name when left empty."))
    timezone = SelectField(_l("Time zone"), choices=[SelectChoice(zone) for zone in COMMON_TIMEZONES],
                           default="Europe/Paris")
    currency = StringField(_l("Currency"), default="EUR", validators=[DataRequired(), Length(min=3, max=3)],
                           description=_l("ISO 4217 code, e.g. EUR, CHF or GBP."))
    admin_email = EmailField(_l("First admin's e-mail"), validators=[DataRequired(), Length(max=254)],
                             description=_l("They receive a link to set their password and invite their team."))
    submit = SubmitField(_l("Open the brand and send the invitation"))


class RoleForm(FlaskForm):
    user_id = HiddenField(validators=[DataRequired()])
    role = SelectField(choices=[SelectChoice(role.value) for role in Role])
    submit = SubmitField()
