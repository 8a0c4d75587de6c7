"""Brand forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectChoice, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange


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
