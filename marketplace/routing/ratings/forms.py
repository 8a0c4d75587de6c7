"""The forms of the rating pages (the templates draw the fields); the services check the values."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField


class ContestForm(FlaskForm):
    reason = TextAreaField()


class ReportForm(FlaskForm):
    reason = SelectField(validate_choice=False)
    comment = TextAreaField()


class DecisionForm(FlaskForm):
    decision = SelectField(validate_choice=False)
    answer = TextAreaField()
