"""What the API shows of experts, and what it accepts."""

from marshmallow import Schema, fields, validate


class ExpertProfileSchema(Schema):
    id = fields.Integer(dump_only=True)
    display_name = fields.String(dump_only=True)
    bio = fields.String(dump_only=True)
    status = fields.String(dump_only=True)
    status_reason = fields.String(dump_only=True, allow_none=True)
    created_at = fields.AwareDateTime(dump_only=True)


class ExpertProfileUpdateSchema(Schema):
    display_name = fields.String(validate=validate.Length(min=1, max=60))
    bio = fields.String(validate=validate.Length(max=500))
