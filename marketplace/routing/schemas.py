"""The shapes more than one part of routing shows: messages (chat and widget), a brand named, canned answers."""

from marshmallow import fields, validate

from marketplace.web.schemas import Schema


class BrandRefSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)


class AttachmentSchema(Schema):
    """A message's file; its links come from the link calls, as they expire within minutes."""

    id = fields.Integer(dump_only=True)
    kind = fields.String(dump_only=True, metadata={"enum": ["image", "pdf"]})
    name = fields.String(dump_only=True)
    content_type = fields.String(dump_only=True, metadata={"description": "Decided from the content"})
    size = fields.Integer(dump_only=True, metadata={"description": "Bytes"})
    width = fields.Integer(dump_only=True, allow_none=True)
    height = fields.Integer(dump_only=True, allow_none=True)
    has_thumbnail = fields.Boolean(dump_only=True)


class DeliverySchema(Schema):
    """What became of an expert's message on a messaging app."""

    state = fields.String(dump_only=True, metadata={"enum": ["pending", "sending", "sent", "delivered", "read",
                                                             "failed"]})
    error = fields.String(dump_only=True, allow_none=True, metadata={"description": "Why it failed, as Meta says"})


class MessageSchema(Schema):
    conversation_id = fields.Integer(dump_only=True)
    seq = fields.Integer(dump_only=True)
    sender = fields.String(dump_only=True, metadata={"enum": ["visitor", "expert", "system", "bot"]})
    client_id = fields.String(dump_only=True)
    body = fields.String(dump_only=True)
    created_at = fields.String(dump_only=True, metadata={"format": "date-time"})
    attachment = fields.Nested(AttachmentSchema, dump_only=True, allow_none=True)
    delivery = fields.Nested(DeliverySchema, dump_only=True, allow_none=True, metadata={
        "description": "An expert's message in a WhatsApp or Messenger conversation: its delivery; null otherwise"})


class MessageListSchema(Schema):
    messages = fields.List(fields.Nested(MessageSchema), dump_only=True)


class CannedAnswerSchema(Schema):
    title = fields.String(required=True, validate=validate.Length(1, 80))
    body = fields.String(required=True, validate=validate.Length(1, 2000))
