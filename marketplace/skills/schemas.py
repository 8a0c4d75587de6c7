"""What the API shows of skills, and what it accepts."""

from flask_babel import get_locale
from marshmallow import fields, validate

from marketplace.web.schemas import Schema


class SkillSchema(Schema):
    slug = fields.String(dump_only=True)
    category = fields.String(dump_only=True)
    names = fields.Dict(keys=fields.String(), values=fields.String(), dump_only=True)
    name = fields.Method("localised_name", dump_only=True)

    def localised_name(self, skill) -> str:
        return skill.name_in(str(get_locale() or "en"))


class SkillCreateSchema(Schema):
    name_en = fields.String(required=True, validate=validate.Length(min=1, max=60))
    name_fr = fields.String(required=True, validate=validate.Length(min=1, max=60))
    category = fields.String(required=True, validate=validate.Length(min=1, max=60))
    slug = fields.String(validate=validate.Length(min=1, max=60))
