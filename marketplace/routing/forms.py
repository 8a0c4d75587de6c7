"""The form of the brand's widget page: where the widget may appear, what it offers, timings and caps."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, NumberRange, Optional

from marketplace.brands.program import NUMBERS


def _bounds(name: str) -> NumberRange:
    low, high, _optional = NUMBERS[name]
    return NumberRange(low, high)


class ProgramForm(FlaskForm):
    widget_origins = TextAreaField(_l("Sites that may show the chat (one origin per line)"),
                                   description=_l("For example https://www.example.com"))
    topics = TextAreaField(_l("Topics visitors choose from (one per line, optional)"))
    offer_timeout_seconds = IntegerField(_l("Seconds an expert has to accept a chat"),
                                         validators=[InputRequired(), _bounds("offer_timeout_seconds")])
    max_wait_seconds = IntegerField(_l("Longest wait before the visitor is asked to leave a message (seconds)"),
                                    validators=[InputRequired(), _bounds("max_wait_seconds")])
    inactivity_close_minutes = IntegerField(_l("Close a silent chat after (minutes)"),
                                            validators=[InputRequired(), _bounds("inactivity_close_minutes")])
    expert_concurrency = IntegerField(_l("Chats one expert holds at once"),
                                      validators=[InputRequired(), _bounds("expert_concurrency")])
    max_concurrent = IntegerField(_l("Most chats at once (empty: no cap)"),
                                  validators=[Optional(), _bounds("max_concurrent")])
    daily_cap = IntegerField(_l("Most answered chats a day (empty: no cap)"),
                             validators=[Optional(), _bounds("daily_cap")])
    canned_answers = TextAreaField(_l("Canned answers"), description=_l(
        "Separate answers with a blank line; the first line of each is its title."))
    submit = SubmitField(_l("Save"))


def lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def canned_from_text(text: str | None) -> list[dict[str, str]]:
    blocks = [block.strip() for block in (text or "").replace("\r\n", "\n").split("\n\n") if block.strip()]
    answers = []
    for block in blocks:
        title, _, body = block.partition("\n")
        answers.append({"title": title.strip(), "body": body.strip()})
    return answers


def canned_to_text(answers: list) -> str:
    return "\n\n".join(f"{answer.title}\n{answer.body}" for answer in answers)
