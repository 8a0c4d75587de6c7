"""Forms of the decision pages: an expert's request for review, a reviewer's answer."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length

from marketplace.decisions.services import ANSWER_LENGTH, COMMENT_LENGTH


class ReviewRequestForm(FlaskForm):
    comment = TextAreaField(_l("Your comment (optional)"), validators=[Length(max=COMMENT_LENGTH)],
                            description=_l("Say why you think this decision is wrong, if you wish."))


class ReviewAnswerForm(FlaskForm):
    answer = TextAreaField(_l("Your written answer (the expert will read it)"),
                           validators=[Length(max=ANSWER_LENGTH)])
