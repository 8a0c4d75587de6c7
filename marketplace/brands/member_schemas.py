"""What the API shows of a brand's invitations and member changes, and what it accepts."""

from marshmallow import fields, validate

from marketplace.brands.schemas import BRAND_ROLES
from marketplace.web.schemas import Schema


class InvitationSchema(Schema):
    """An invitation without its secret, which only the invited address receives."""

    id = fields.Integer(dump_only=True)
    email = fields.String(dump_only=True)
    role = fields.String(dump_only=True)
    invited_by_id = fields.Integer(dump_only=True, allow_none=True)
    created_at = fields.AwareDateTime(dump_only=True)
    expires_at = fields.AwareDateTime(dump_only=True)
    accepted_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    revoked_at = fields.AwareDateTime(dump_only=True, allow_none=True)


class InviteSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=254))
    role = fields.String(load_default="viewer", validate=validate.OneOf(BRAND_ROLES))


class MemberRoleSchema(Schema):
    role = fields.String(required=True, validate=validate.OneOf(BRAND_ROLES))
