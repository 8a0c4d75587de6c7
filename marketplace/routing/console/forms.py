"""The forms of the brand's console: widget settings, demand caps, and the search of its past conversations."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from marketplace.brands.forms import program_bounds
from marketplace.brands.program import NUMBERS
from marketplace.routing.console.transcripts import TEXT_LENGTH
from marketplace.web.forms import MoneyField
from marketplace.web.params import DateField, IntegerField

MEGABYTE = 1024 * 1024
ATTACHMENT_MEGABYTES = tuple(bound // MEGABYTE for bound in NUMBERS["attachment_max_bytes"][:2])
FILTER_FIELDS = ("date_from", "date_to", "expert_id", "status", "topic", "rating", "min_rating", "text")


class WidgetForm(FlaskForm):
    widget_origins = TextAreaField(_l("Sites that may show the chat (one origin per line)"),
                                   description=_l("For example https://www.example.com"))
    canned_answers = TextAreaField(_l("Canned answers"), description=_l(
        "Separate answers with a blank line; the first line of each is its title."))
    attachment_megabytes = IntegerField(
        _l("Largest photo or PDF sent in a chat (MB)"),
        description=_l("From %(low)d to %(high)d MB; visitors and experts are told before they send a file.",
                       low=ATTACHMENT_MEGABYTES[0], high=ATTACHMENT_MEGABYTES[1]),
        validators=[InputRequired(), NumberRange(*ATTACHMENT_MEGABYTES)])
    submit = SubmitField(_l("Save"))


class CapsForm(FlaskForm):
    """The brand's demand caps; an empty box is no cap."""

    max_concurrent = IntegerField(_l("Most chats at once"), validators=[Optional(), program_bounds("max_concurrent")])
    max_active_experts = IntegerField(_l("Most experts answering at once"),
                                      validators=[Optional(), program_bounds("max_active_experts")])
    daily_cap = IntegerField(_l("Most accepted chats a day"), validators=[Optional(), program_bounds("daily_cap")])
    monthly_budget = MoneyField(_l("Monthly budget"), max_cents=NUMBERS["monthly_budget_cents"][1], optional=True,
                                description=_l("Answered chats at their price, plus the chats in progress."))
    submit = SubmitField(_l("Save the caps"))


class ChannelFeeForm(FlaskForm):
    """A fee per outbound message of one messaging app and category, from a day on."""

    kind = SelectField(_l("Messaging app"), choices=[SelectChoice("whatsapp", "WhatsApp"),
                                                     SelectChoice("messenger", "Messenger")])
    category = SelectField(_l("Message category"), choices=[
        SelectChoice("service", _l("Service (a reply inside the customer's window)")),
        SelectChoice("utility", _l("Utility template")), SelectChoice("marketing", _l("Marketing template")),
        SelectChoice("authentication", _l("Authentication template"))])
    amount = MoneyField(_l("Fee per message"), max_cents=100_000, validators=[InputRequired()])
    effective_from = DateField(_l("From (a day in the brand's timezone)"), validators=[InputRequired()])
    submit = SubmitField(_l("Add the fee"))


def canned_from_text(text: str | None) -> list[dict[str, str]]:
    blocks = [block.strip() for block in (text or "").replace("\r\n", "\n").split("\n\n") if block.strip()]
    answers = []
    for block in blocks:
        title, _, body = block.partition("\n")
        answers.append({"title": title.strip(), "body": body.strip()})
    return answers


def canned_to_text(answers: list) -> str:
    return "\n\n".join(f"{answer.title}\n{answer.body}" for answer in answers)


def optional_int(value: Any) -> int | None:
    """A select's value as a number, "" (any) as None; anything else fails the field."""
    if value in (None, ""):
        return None
    return int(value)


def optional_text(value: Any) -> str | None:
    """A select's value, "" (any) as None."""
    return str(value) if value not in (None, "") else None


class ConversationFilterForm(FlaskForm):
    """The search form: sent by GET, so it carries no CSRF token and the results' address can be shared."""

    class Meta:
        csrf = False

    date_from = DateField(_l("First day"), validators=[Optional()])
    date_to = DateField(_l("Last day"), validators=[Optional()])
    expert_id = SelectField(_l("Expert"), coerce=optional_int)
    status = SelectField(_l("Status"), coerce=optional_text)
    topic = SelectField(_l("Topic"), coerce=optional_text)
    rating = SelectField(_l("Rating"), coerce=optional_int)
    min_rating = SelectField(_l("Rated at least"), coerce=optional_int)
    text = StringField(_l("Words in the messages"), validators=[Optional(), Length(max=TEXT_LENGTH)])

    def filters(self) -> dict[str, Any]:
        return {name: self[name].data or None for name in FILTER_FIELDS}
