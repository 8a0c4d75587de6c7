"""The form of a reply to a left message, sent from the inbox page."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import TextAreaField


class ReplyForm(FlaskForm):
    """A reply from the inbox page (routing/left_messages.html draws the field); the service checks the text."""

    body = TextAreaField()
