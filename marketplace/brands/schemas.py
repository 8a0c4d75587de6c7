"""What the API shows of brands, and what it accepts."""

from marshmallow import Schema, fields, validate

from marketplace.brands.models import BrandRole, EnrolmentApproval

BRAND_ROLES = [role.value for role in BrandRole]


class BrandSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    slug = fields.String(dump_only=True)
    timezone = fields.String(dump_only=True)
    currency = fields.String(dump_only=True)
    enrolment_approval = fields.String(dump_only=True)
    allow_unbooked_online = fields.Boolean(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)


class BrandCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    slug = fields.String(validate=validate.Length(min=1, max=60))
    timezone = fields.String(load_default="Europe/Paris", validate=validate.Length(max=64))
    currency = fields.String(load_default="EUR", validate=validate.Length(equal=3))


class BrandUpdateSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=120))
    timezone = fields.String(validate=validate.Length(max=64))
    currency = fields.String(validate=validate.Length(equal=3))
    enrolment_approval = fields.String(validate=validate.OneOf([a.value for a in EnrolmentApproval]))
    allow_unbooked_online = fields.Boolean()


class QuizChoiceSchema(Schema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=200))
    correct = fields.Boolean(attribute="is_correct", data_key="correct", load_default=False)


class QuizQuestionSchema(Schema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=500))
    choices = fields.List(fields.Nested(QuizChoiceSchema), required=True)


class QuizSchema(Schema):
    """A brand's quiz with its answers: for the brand's own people only."""

    pass_mark_percent = fields.Integer(required=True, validate=validate.Range(1, 100))
    max_attempts = fields.Integer(load_default=2, validate=validate.Range(1, 10))
    cooldown_hours = fields.Integer(load_default=24, validate=validate.Range(0, 720))
    version = fields.Integer(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)
    questions = fields.List(fields.Nested(QuizQuestionSchema), required=True)


class MemberSchema(Schema):
    user_id = fields.Integer()
    email = fields.String()
    full_name = fields.String()
    role = fields.String()


class ApiTokenSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    role = fields.String(dump_only=True)
    prefix = fields.String(dump_only=True, metadata={"description": "The secret's first characters, to recognise it."})
    created_at = fields.AwareDateTime(dump_only=True)
    last_used_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    revoked_at = fields.AwareDateTime(dump_only=True, allow_none=True)


class IssuedTokenSchema(Schema):
    token = fields.Nested(ApiTokenSchema, dump_only=True)
    secret = fields.String(dump_only=True, metadata={"description": "Shown once; only a hash is kept."})


class ApiTokenCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=80))
    role = fields.String(load_default=BrandRole.VIEWER.value, validate=validate.OneOf(BRAND_ROLES))
