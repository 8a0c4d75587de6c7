"""What the visitor's push calls accept and answer (api.py)."""

from marshmallow import fields, validate

from marketplace.notifications.schemas import PushKeysSchema
from marketplace.notifications.subscriptions import ENDPOINT_LENGTH
from marketplace.routing.door.schemas import Text, WidgetSchema
from marketplace.web.schemas import Schema


class VisitorPushSubscriptionSchema(WidgetSchema):
    """The `endpoint` and `keys` of the browser's PushSubscription.toJSON()."""

    endpoint = Text(required=True, validate=validate.Length(min=1, max=ENDPOINT_LENGTH),
                    metadata={"description": "The push service's https address."})
    keys = fields.Nested(PushKeysSchema, required=True)


class OptedInPushSubscriptionSchema(VisitorPushSubscriptionSchema):
    token = Text(required=True, validate=validate.Length(max=200),
                 metadata={"description": "The token of the opt-in page's address."})


class VisitorPushEndpointSchema(WidgetSchema):
    endpoint = Text(load_default=None, allow_none=True, validate=validate.Length(min=1, max=ENDPOINT_LENGTH),
                    metadata={"description": "The browser to stop; all of the chat's when left out."})


class OptInLinkSchema(Schema):
    url = fields.String(dump_only=True, metadata={
        "description": "A page of this site, to open at the top (not in a frame): it asks the browser's permission "
                       "and subscribes."})
    expires_at = fields.AwareDateTime(dump_only=True)


class OptedInSchema(Schema):
    conversation_id = fields.Integer(dump_only=True)
    push_enabled = fields.Boolean(dump_only=True)
