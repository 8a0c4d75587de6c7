"""Brand forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, NumberRange, Optional

from marketplace.brands.models import RETENTION_MONTHS, BrandRole
from marketplace.brands.program import NUMBERS
from marketplace.brands.rates import MAX_PRICE_CENTS
from marketplace.web.forms import MoneyField
from marketplace.web.params import DateField, IntegerField


class ApiTokenForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)],
                       description=_l("The system that will use it, e.g. “CRM export”."))
    role = SelectField(_l("Access"), choices=[SelectChoice("viewer", _l("Read only")),
                                                    SelectChoice("admin", _l("Read and change"))])
    submit = SubmitField(_l("Create token"))


class RevokeTokenForm(FlaskForm):
    token_id = HiddenField(validators=[DataRequired()])
    submit = SubmitField(_l("Revoke"))


class QuizForm(FlaskForm):
    pass_mark_percent = IntegerField(_l("Pass mark (%)"), default=80,
                                     validators=[InputRequired(), NumberRange(min=1, max=100)])
    max_attempts = IntegerField(_l("Attempts allowed per cooldown"), default=2,
                                validators=[InputRequired(), NumberRange(min=1, max=10)])
    cooldown_hours = IntegerField(_l("Cooldown (hours)"), default=24,
                                  validators=[InputRequired(), NumberRange(min=0, max=720)])
    questions = TextAreaField(
        _l("Questions"), validators=[DataRequired()],
        description=_l("One question per block, blocks separated by an empty line. Under each question, one "
                       "choice per line: start the right one with * and the others with -."),
    )
    submit = SubmitField(_l("Save the quiz"))


def program_bounds(name: str) -> NumberRange:
    """The range the program service accepts for a number, as a form validator."""
    low, high, _optional = NUMBERS[name]
    return NumberRange(low, high)


class ProgramForm(FlaskForm):
    """The program as brand admins think of it: what is offered, when, and how fast."""

    topics = TextAreaField(_l("Topics visitors choose from (one per line, optional)"))
    languages = StringField(_l("Languages offered"), description=_l("Language codes separated by commas, e.g. fr, en"))
    always_open = BooleanField(_l("Open around the clock"))
    hours_mon = StringField(_l("Monday"))
    hours_tue = StringField(_l("Tuesday"))
    hours_wed = StringField(_l("Wednesday"))
    hours_thu = StringField(_l("Thursday"))
    hours_fri = StringField(_l("Friday"))
    hours_sat = StringField(_l("Saturday"))
    hours_sun = StringField(_l("Sunday"))
    holiday_country = SelectField(_l("Closed on the public holidays of"), choices=[], validate_choice=False)
    holiday_subdivision = StringField(
        _l("Region with its own holidays (optional)"),
        description=_l("A code such as 57 (Moselle) for France; empty for national holidays."))
    service_level_percent = IntegerField(_l("Share of chats answered within the target (%)"),
                                         validators=[InputRequired(), program_bounds("service_level_percent")])
    service_level_seconds = IntegerField(_l("Target for the first reply (seconds)"),
                                         validators=[InputRequired(), program_bounds("service_level_seconds")])
    max_wait_seconds = IntegerField(_l("Longest wait before the visitor is asked to leave a message (seconds)"),
                                    validators=[InputRequired(), program_bounds("max_wait_seconds")])
    offer_timeout_seconds = IntegerField(_l("Seconds an expert has to accept a chat"),
                                         validators=[InputRequired(), program_bounds("offer_timeout_seconds")])
    inactivity_close_minutes = IntegerField(_l("Close a silent chat after (minutes)"),
                                            validators=[InputRequired(), program_bounds("inactivity_close_minutes")])
    expert_concurrency = IntegerField(_l("Chats one expert holds at once"),
                                      validators=[InputRequired(), program_bounds("expert_concurrency")])
    async_expert_limit = IntegerField(
        _l("Conversations one expert holds while their visitors are away"),
        description=_l("Visitors who gave an address get the answer by e-mail; 0 to end those chats as today."),
        validators=[InputRequired(), program_bounds("async_expert_limit")])
    async_first_reply_minutes = IntegerField(_l("First reply when an away visitor writes (minutes)"),
                                             validators=[InputRequired(), program_bounds("async_first_reply_minutes")])
    async_quiet_hours = IntegerField(_l("Close a conversation whose visitor is away after (hours without a message)"),
                                     validators=[InputRequired(), program_bounds("async_quiet_hours")])
    reopen_window_hours = IntegerField(
        _l("A visitor's message continues a closed chat for (hours)"),
        description=_l("Later, a message starts a new chat; 0 never continues one."),
        validators=[InputRequired(), program_bounds("reopen_window_hours")])
    enrolment_approval = SelectField(_l("Approving experts who pass the quiz"), choices=[
        SelectChoice("manual", _l("We approve each one")), SelectChoice("automatic", _l("Approved at once"))])
    allow_unbooked_online = BooleanField(_l("Approved experts may answer without booking a shift"))
    retention_months = IntegerField(
        _l("Keep conversations' personal data for (months)"),
        description=_l("Then their text, files, the visitor's address, phone and name, and network fingerprints "
                       "are removed; the figures stay."),
        validators=[InputRequired(), NumberRange(*RETENTION_MONTHS)])
    submit = SubmitField(_l("Save the program"))

    DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ClosureForm(FlaskForm):
    day = DateField(_l("Closed on"), validators=[InputRequired(message=_l("Choose the day."))])
    reason = StringField(_l("Reason (optional)"), validators=[Length(max=120)])
    submit = SubmitField(_l("Add the closure"))


class RemoveClosureForm(FlaskForm):
    closure_id = HiddenField(validators=[DataRequired()])
    submit = SubmitField(_l("Remove"))


class RateForm(FlaskForm):
    """A new price from a day on; bonuses are optional, the commission is the platform's to change."""

    effective_from = DateField(_l("In effect from"), validators=[InputRequired(message=_l("Choose the day."))])
    price = MoneyField(_l("Price per answered chat"), max_cents=MAX_PRICE_CENTS,
                       validators=[InputRequired(message=_l("Enter the price."))])
    commission_percent = StringField(_l("Platform commission (%)"),
                                     description=_l("Set by the platform's staff."))
    rating_at_least = IntegerField(_l("Bonus when the visitor rates at least (1-5)"),
                                   validators=[Optional(), NumberRange(1, 5)])
    rating_bonus = MoneyField(_l("Bonus for that rating"), max_cents=100_000, optional=True)
    first_reply_within = IntegerField(_l("Bonus when the first reply comes within (seconds)"),
                                      validators=[Optional(), NumberRange(5, 3600)])
    reply_bonus = MoneyField(_l("Bonus for that speed"), max_cents=100_000, optional=True)
    submit = SubmitField(_l("Schedule the rate"))

    def bonus_rules(self) -> list[dict]:
        rules = []
        for kind, value, bonus in (("rating_at_least", self.rating_at_least, self.rating_bonus),
                                   ("first_reply_within", self.first_reply_within, self.reply_bonus)):
            if value.data is not None or bonus.cents:
                rules.append({"kind": kind, "value": value.data, "bonus_cents": bonus.cents})
        return rules


class CancelRateForm(FlaskForm):
    card_id = HiddenField(validators=[DataRequired()])
    submit = SubmitField(_l("Cancel this rate"))


# A brand's people: invitations, roles, and joining from an invitation's link.

ROLE_CHOICES = [SelectChoice("viewer", _l("Viewer: sees the console, changes nothing")),
                SelectChoice("admin", _l("Admin: changes settings, experts and members"))]


class InviteForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    submit = SubmitField(_l("Send the invitation"))


class InvitationActionForm(FlaskForm):
    invitation_id = HiddenField(validators=[DataRequired()])


class MemberForm(FlaskForm):
    user_id = HiddenField(validators=[DataRequired()])
    role = SelectField(choices=[SelectChoice(role.value) for role in BrandRole], validate_choice=False)


class SignUpForm(FlaskForm):
    full_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=120)])
    password = PasswordField(_l("Choose a password"), validators=[DataRequired(), Length(max=256)],
                             description=_l("At least 10 characters."))
    confirm = PasswordField(_l("Repeat the password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))])
    submit = SubmitField(_l("Create my account and join"))


class JoinForm(FlaskForm):
    submit = SubmitField(_l("Join"))
