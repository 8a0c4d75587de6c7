"""What the API shows of accounts, and what it accepts."""

from marshmallow import fields, validate

from marketplace.accounts import audit
from marketplace.accounts.models import Role
from marketplace.web.schemas import Schema

ROLES = [role.value for role in Role]


class UserSchema(Schema):
    id = fields.Integer(dump_only=True)
    email = fields.String(dump_only=True)
    full_name = fields.String(dump_only=True)
    role = fields.String(dump_only=True)
    locale = fields.String(dump_only=True, allow_none=True)
    is_disabled = fields.Boolean(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    last_login_at = fields.AwareDateTime(dump_only=True, allow_none=True)


class MeSchema(Schema):
    kind = fields.String(metadata={"enum": ["user", "token"]})
    id = fields.Integer(allow_none=True)
    email = fields.String(allow_none=True)
    full_name = fields.String()
    role = fields.String()
    brand_id = fields.Integer(allow_none=True, metadata={"description": "Set for brand API tokens."})
    brand_role = fields.String(allow_none=True, metadata={"description": "Set for brand API tokens."})


class SessionSchema(Schema):
    id = fields.Integer()
    device = fields.String(metadata={"description": "Browser and system, in the request's language."})
    user_agent = fields.String()
    ip = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    last_seen_at = fields.AwareDateTime(metadata={"description": "Noted at most every few minutes."})
    expires_at = fields.AwareDateTime()
    remembered = fields.Boolean(metadata={"description": "Kept logged in by a remember-me cookie."})
    current = fields.Boolean(metadata={"description": "The session this request is made with."})


class UserQuerySchema(Schema):
    role = fields.String(validate=validate.OneOf(ROLES))


class RoleChangeSchema(Schema):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class AuditEventSchema(Schema):
    id = fields.Integer()
    created_at = fields.AwareDateTime()
    kind = fields.String()
    kind_name = fields.Function(lambda event: audit.kind_name(event.kind), dump_only=True, metadata={
        "description": "What happened, in the request's language."})
    actor_id = fields.Integer(allow_none=True)
    actor_label = fields.Function(lambda event: audit.actor_name(event.kind, event.actor, event.detail),
                                  dump_only=True, metadata={
                                      "description": "Who did it: the person's name, or who acted without an "
                                                     "account (the system, the payment provider, ...)."})
    subject_id = fields.Integer(allow_none=True)
    ip = fields.String(allow_none=True)
    detail = fields.Dict()


class AuditQuerySchema(Schema):
    kind = fields.String(validate=validate.Length(max=40))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
