"""What the widget sends the bot: the visitor's verdict on its answer."""

from __future__ import annotations

from marshmallow import fields

from marketplace.routing.door.schemas import WidgetSchema


class BotFeedbackSchema(WidgetSchema):
    helpful = fields.Boolean(required=True, metadata={
        "description": "The visitor's answer to \"Did this answer your question?\": true resolves the conversation, "
                       "false hands it over to an expert."})
