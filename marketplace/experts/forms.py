"""Forms of the expert pages, the ops vetting queue and the brand's applicants page."""

from __future__ import annotations

from babel import Locale
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TelField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from marketplace.experts.vetting import APPLICATION_FIELDS

# The languages offered as checkboxes; the API accepts any ISO 639 code.
OFFERED_LANGUAGES = ("fr", "en", "de", "es", "it", "nl", "pt", "ar", "zh")


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def _locale() -> Locale:
    return Locale.parse(str(get_locale() or "en"))


def language_choices() -> list[SelectChoice]:
    names = _locale().languages
    return [SelectChoice(code, names.get(code, code).capitalize()) for code in OFFERED_LANGUAGES]


def country_choices() -> list[SelectChoice]:
    territories = _locale().territories
    countries = sorted(((code, name) for code, name in territories.items() if code.isalpha() and len(code) == 2),
                       key=lambda item: item[1])
    return [SelectChoice("", _l("Choose…")), *(SelectChoice(code, name) for code, name in countries)]


class ProfileFieldsMixin:
    display_name = StringField(_l("Name shown to visitors"), validators=[Length(max=60)],
                               description=_l("Your first name is fine."))
    country = SelectField(_l("Country"), validators=[DataRequired(message=_l("Choose your country."))])
    phone = TelField(_l("Mobile phone"), validators=[Optional(), Length(max=30)],
                     description=_l("With the country code if outside France, e.g. +32 470 12 34 56."))
    languages = CheckboxesField(_l("Languages you can answer in"))
    skills = CheckboxesField(_l("Products you know well"))
    bio = TextAreaField(_l("About you"), validators=[Length(max=500)],
                        description=_l("A few lines visitors may read, at most 500 characters."))
    business_id = StringField(_l("Self-employment number"), validators=[Optional(), Length(max=40)],
                              description=_l("In France, your 14-digit SIRET. Elsewhere, your business number."))
    motivation = TextAreaField(_l("Why do you want to answer for brands?"), validators=[Length(max=1000)],
                               description=_l("Tell our team which products you use and love."))

    def fill_choices(self, skill_choices: list[tuple[str, str]]) -> None:
        self.country.choices = country_choices()
        self.languages.choices = language_choices()
        self.skills.choices = [SelectChoice(value, label) for value, label in skill_choices]

    def profile_data(self) -> dict:
        return {"country": self.country.data, "phone": self.phone.data, "languages": self.languages.data or [],
                "skills": self.skills.data or [], "bio": self.bio.data, "business_id": self.business_id.data,
                "motivation": self.motivation.data}


class SignUpForm(ProfileFieldsMixin, FlaskForm):
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)],
                             description=_l("At least 10 characters."))
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )
    submit = SubmitField(_l("Create my expert account"))


class ProfileForm(ProfileFieldsMixin, FlaskForm):
    submit = SubmitField(_l("Save my profile"))
    # Offered to a rejected applicant: save the corrections and send the application back to ops.
    resubmit = SubmitField(_l("Save and resubmit my application"))


class PayoutForm(FlaskForm):
    account_holder = StringField(_l("Account holder"), validators=[DataRequired(), Length(max=120)])
    iban = StringField(_l("IBAN"), validators=[DataRequired(), Length(max=50)],
                       description=_l("Only you and our finance team can see it; it is stored encrypted."))
    bic = StringField(_l("BIC (optional)"), validators=[Optional(), Length(max=11)])
    submit = SubmitField(_l("Save my payout details"))


class PresenceForm(FlaskForm):
    status = HiddenField(validators=[DataRequired()])


class ApplyForm(FlaskForm):
    brand_ids = CheckboxesField(_l("Brands"), coerce=int)
    submit = SubmitField(_l("Apply to the chosen brands"))


class DecisionForm(FlaskForm):
    """One form for every decision; the button pressed says which."""

    reason = TextAreaField(_l("Reason (the expert will read it)"), validators=[Length(max=500)])
    action = HiddenField()


class VettingDecisionForm(DecisionForm):
    """Ops' decision on an expert; a rejection may point at the profile fields its reason concerns."""

    concerns = CheckboxesField(
        _l("The reason concerns (optional)"),
        choices=[SelectChoice(name, getattr(ProfileFieldsMixin, name).args[0]) for name in APPLICATION_FIELDS],
        description=_l("The applicant then sees the reason next to these fields; with none, above their form."),
    )


class BrandEnrolmentSettingsForm(FlaskForm):
    enrolment_approval = SelectField(_l("After an expert passes your quiz"), choices=[
        SelectChoice("manual", _l("We approve each expert ourselves")),
        SelectChoice("automatic", _l("Approve them automatically")),
    ])
    allow_unbooked_online = BooleanField(_l("Approved experts may come online without a booked shift"))
    submit = SubmitField(_l("Save"))


class QuizForm(FlaskForm):
    """The attempt's id and the CSRF token; the answers are read from `question_<id>` radio buttons."""

    attempt_id = HiddenField(validators=[DataRequired()])
