"""What the widget sends the bot: the visitor's verdict on its answer."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from marketplace.routing.door.schemas import WidgetSchema


class BotFeedbackSchema(WidgetSchema):
    helpful = fields.Boolean(required=True, metadata={
        "description": "The visitor's answer to \"Did this answer your question?\": true resolves the conversation, "
                       "false hands it over to an expert."})


class FaqSuggestionSchema(Schema):
    id = fields.Integer(dump_only=True)
    ref = fields.String(dump_only=True)
    question = fields.String(dump_only=True, metadata={"description": "The entry's first way of asking"})
    answer = fields.String(dump_only=True)
    confidence = fields.Float(dump_only=True, metadata={"description": "How likely it answers the message, 0..1"})


class FaqSuggestionListSchema(Schema):
    for_seq = fields.Integer(dump_only=True, allow_none=True,
                             metadata={"description": "The visitor's message they match (null: none yet)"})
    suggestions = fields.List(fields.Nested(FaqSuggestionSchema), dump_only=True)


class FaqProposalSchema(Schema):
    question = fields.String(required=True, validate=validate.Length(1, 2000),
                             metadata={"description": "The question as the visitor asked it"})
    answer = fields.String(required=True, validate=validate.Length(1, 2000),
                           metadata={"description": "The expert's answer, as the bot would give it"})
    lang = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(("fr", "en")),
                         metadata={"description": "fr or en; guessed from the text when absent"})


class FaqProposalCreatedSchema(Schema):
    id = fields.Integer(dump_only=True)
    ref = fields.String(dump_only=True)
    status = fields.String(dump_only=True, metadata={"description": "proposed: the brand approves or edits it"})
