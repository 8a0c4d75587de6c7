"""What the API shows of notifications and push subscriptions, and what it accepts."""

from marshmallow import fields, validate

from marketplace.notifications.subscriptions import ENDPOINT_LENGTH
from marketplace.web.schemas import Schema

# Base64url, padded or not, of a 65-byte uncompressed P-256 point and of a 16-byte secret.
P256DH_TEXT = r"^[A-Za-z0-9_-]{87}=?$"
AUTH_TEXT = r"^[A-Za-z0-9_-]{22}(==)?$"


class NotificationSchema(Schema):
    id = fields.Integer(dump_only=True)
    kind = fields.String(dump_only=True)
    title = fields.String(dump_only=True)
    body = fields.String(dump_only=True)
    url = fields.String(dump_only=True, allow_none=True, metadata={"description": "A path on this site."})
    created_at = fields.AwareDateTime(dump_only=True)
    read_at = fields.AwareDateTime(dump_only=True, allow_none=True)


class NotificationPageSchema(Schema):
    unread = fields.Integer(dump_only=True, metadata={"description": "How many of all the caller's are unread."})
    notifications = fields.List(fields.Nested(NotificationSchema), dump_only=True)


class NotificationQuerySchema(Schema):
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 100))


class MarkedReadSchema(Schema):
    marked = fields.Integer(dump_only=True, metadata={"description": "How many were unread until now."})


class VapidPublicKeySchema(Schema):
    public_key = fields.String(dump_only=True,
                               metadata={"description": "`applicationServerKey`: uncompressed P-256 point, base64url."})


class PushKeysSchema(Schema):
    p256dh = fields.String(required=True, validate=validate.Regexp(P256DH_TEXT))
    auth = fields.String(required=True, validate=validate.Regexp(AUTH_TEXT))


class PushSubscriptionCreateSchema(Schema):
    """The `endpoint` and `keys` of the browser's PushSubscription.toJSON()."""

    endpoint = fields.String(required=True, validate=validate.Length(min=1, max=ENDPOINT_LENGTH),
                             metadata={"description": "The push service's https address."})
    keys = fields.Nested(PushKeysSchema, required=True)


class PushEndpointSchema(Schema):
    endpoint = fields.String(required=True, validate=validate.Length(min=1, max=ENDPOINT_LENGTH))


class PushSubscriptionSchema(Schema):
    """A saved subscription, without its keys."""

    id = fields.Integer(dump_only=True)
    endpoint = fields.String(dump_only=True)
    user_agent = fields.String(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    last_success_at = fields.AwareDateTime(dump_only=True, allow_none=True)
