"""What the continuation calls accept and answer."""

from marshmallow import fields, validate

from marketplace.routing.door.schemas import Text, WidgetSchema
from marketplace.web.schemas import Schema


class ResumeCreateSchema(WidgetSchema):
    token = Text(required=True, validate=validate.Length(max=200),
                 metadata={"description": "The token of the e-mailed resume link."})


class InboundMailResultSchema(Schema):
    conversation_id = fields.Integer(dump_only=True)
    seq = fields.Integer(dump_only=True, metadata={"description": "The stored message's number."})
    created = fields.Boolean(dump_only=True, metadata={"description": "False for a mail delivered again."})
