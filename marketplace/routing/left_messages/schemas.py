"""What the left-message calls accept and answer: the visitor's (from the widget) and the brand's."""

from marshmallow import fields, validate

from marketplace.routing.door.schemas import Text, WidgetSchema, at_most, length_of
from marketplace.routing.left_messages.services import REPLY_LENGTH
from marketplace.routing.models import LeftMessage
from marketplace.web.schemas import Schema

# The visitor's.

class LeftMessageCreateSchema(WidgetSchema):
    email = Text(required=True, validate=at_most(length_of(LeftMessage.email)),
                 metadata={"description": "Where the brand answers."})
    body = Text(required=True, validate=at_most(length_of(LeftMessage.body)))


class LeftMessageCreatedSchema(Schema):
    id = fields.Integer(dump_only=True)


# The brand's.

class _LeftMessageSchema(Schema):
    id = fields.Integer(dump_only=True)
    email = fields.String(dump_only=True)
    body = fields.String(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)


class LeftMessageSchema(_LeftMessageSchema):
    """A left message in the brand's inbox."""

    conversation_topic = fields.String(dump_only=True, allow_none=True)


class LeftMessageStateSchema(_LeftMessageSchema):
    """A left message with the brand's reply, once sent."""

    reply = fields.String(dump_only=True, allow_none=True)
    replied_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    replied_by_name = fields.String(dump_only=True, allow_none=True)


class LeftMessageReplyCreateSchema(Schema):
    body = fields.String(required=True, validate=validate.Length(1, REPLY_LENGTH),
                         metadata={"description": "Plain text, e-mailed to the visitor once."})
