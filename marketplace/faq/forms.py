"""The forms of the brand's FAQ bot tab: the bot's settings, an entry, the search, a question to try, a CSV file to
import and a proposal to approve. The service checks every entry's field and names the one it refuses."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectChoice, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from marketplace.faq import cleaning, entries
from marketplace.web.forms import MoneyField
from marketplace.web.params import IntegerField

LANG_CHOICES = [SelectChoice("fr", _l("French")), SelectChoice("en", _l("English"))]


class SettingsForm(FlaskForm):
    """The bot's settings; the confidence is shown as a percentage, the credit in the brand's currency."""

    bot_enabled = BooleanField(_l("The bot answers visitors' first messages"))
    threshold = IntegerField(
        _l("Least confidence to answer (%)"),
        description=_l("The bot answers only when it is at least this sure; otherwise the visitor goes to an expert "
                       "at once. At 80 %, about 8 of 10 of its answers are the right one: higher means fewer "
                       "answers, but surer ones."),
        validators=[InputRequired(), NumberRange(0, 100)])
    resolve_after_minutes = IntegerField(
        _l("Resolved after (minutes)"),
        description=_l("A visitor who asks nothing more this long after the bot's answer is counted as helped."),
        validators=[InputRequired(), NumberRange(*cleaning.RESOLVE_MINUTES)])
    credit = MoneyField(
        _l("Expert's credit per resolution"), max_cents=cleaning.CREDIT_CENTS[1],
        description=_l("Paid to the expert who wrote an entry each time it resolves a conversation (0: nothing)."))
    synonyms = TextAreaField(
        _l("Synonyms"), description=_l("One group of words that mean the same per line, separated by commas: "
                                       "livraison, expédition, envoi."))
    submit = SubmitField(_l("Save the settings"))


class EntryForm(FlaskForm):
    ref = StringField(_l("Ref"), description=_l("Your own key for it: letters, digits, dots, dashes, underscores."))
    lang = SelectField(_l("Language"), choices=LANG_CHOICES)
    question = TextAreaField(_l("Question"), description=_l("As visitors ask it; more ways of asking it, one per "
                                                            "line, help the bot recognise it."))
    answer = TextAreaField(_l("Answer"))
    tags = StringField(_l("Tags"), description=_l("Separated by ;"))
    active = BooleanField(_l("In use by the bot and the experts' suggestions"), default=True)
    submit = SubmitField(_l("Save the entry"))

    def values(self) -> dict[str, object]:
        return {"ref": self.ref.data, "lang": self.lang.data, "question": self.question.data,
                "answer": self.answer.data, "tags": self.tags.data or "", "active": self.active.data}


class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # a search in the address (GET)

    q = StringField(_l("Find in the entries"), validators=[Optional(), Length(max=entries.SEARCH_LENGTH)])
    lang = SelectField(_l("Language"), choices=[SelectChoice("", _l("Any")), *LANG_CHOICES],
                       validators=[Optional()])


class AskForm(FlaskForm):
    class Meta:
        csrf = False  # trying a question changes nothing (GET)

    ask = TextAreaField(_l("A visitor's message"), validators=[Optional(), Length(max=cleaning.ASK_LENGTH)])
    ask_lang = SelectField(_l("Language"), choices=[SelectChoice("", _l("Any")), *LANG_CHOICES],
                           validators=[Optional()])


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file"), description=_l(
        "Columns ref, lang, question, answer, tags (tags separated by ;), in UTF-8. Entries are matched by ref: "
        "new ones are added, the others changed; nothing is deleted."))
    submit = SubmitField(_l("Import"))


class ApproveForm(FlaskForm):
    """A proposal as the brand puts it in the base, edited or not (one per proposal: each has its prefix)."""

    ref = StringField(_l("Ref"))
    lang = SelectField(_l("Language"), choices=LANG_CHOICES)
    question = TextAreaField(_l("Question"))
    answer = TextAreaField(_l("Answer"))
    submit = SubmitField(_l("Approve"))


class ConfirmForm(FlaskForm):
    submit = SubmitField(_l("Delete the entry"))
