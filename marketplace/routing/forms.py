"""The forms of the brand's widget page (where the chat may appear, canned answers) and of its demand caps."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SubmitField, TextAreaField
from wtforms.validators import Optional

from marketplace.brands.forms import program_bounds
from marketplace.brands.program import NUMBERS
from marketplace.web.forms import MoneyField
from marketplace.web.params import IntegerField


class WidgetForm(FlaskForm):
    widget_origins = TextAreaField(_l("Sites that may show the chat (one origin per line)"),
                                   description=_l("For example https://www.example.com"))
    canned_answers = TextAreaField(_l("Canned answers"), description=_l(
        "Separate answers with a blank line; the first line of each is its title."))
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


def canned_from_text(text: str | None) -> list[dict[str, str]]:
    blocks = [block.strip() for block in (text or "").replace("\r\n", "\n").split("\n\n") if block.strip()]
    answers = []
    for block in blocks:
        title, _, body = block.partition("\n")
        answers.append({"title": title.strip(), "body": body.strip()})
    return answers


def canned_to_text(answers: list) -> str:
    return "\n\n".join(f"{answer.title}\n{answer.body}" for answer in answers)
