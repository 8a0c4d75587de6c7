"""Bodies of the closure endpoint."""

from __future__ import annotations

from marshmallow import fields, validate

from marketplace.web.schemas import Schema


class CloseAccountSchema(Schema):
    password = fields.String(required=True, validate=validate.Length(min=1, max=256),
                             metadata={"description": "The expert's password, to confirm (the closure cannot be "
                                                      "undone)."})


class ClosedSchema(Schema):
    expert_id = fields.Integer(dump_only=True)
    closed_at = fields.AwareDateTime(dump_only=True)
    pseudonym = fields.String(dump_only=True, metadata={"description": "The name the brands see from now on."})
