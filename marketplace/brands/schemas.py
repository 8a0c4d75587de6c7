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


class BonusRuleSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(["rating_at_least", "first_reply_within"]),
                         metadata={"description": "rating_at_least (value 1-5) or first_reply_within (seconds)"})
    value = fields.Integer(required=True, strict=True)
    bonus_cents = fields.Integer(required=True, strict=True)


class RateCardSchema(Schema):
    """A rate card with its place in the history: scheduled, in_effect, past or cancelled."""

    id = fields.Integer(attribute="card.id", dump_only=True)
    effective_from = fields.Date(attribute="card.effective_from", dump_only=True)
    ends_on = fields.Date(dump_only=True, allow_none=True)
    price_cents = fields.Integer(attribute="card.price_cents", dump_only=True)
    commission_bps = fields.Integer(attribute="card.commission_bps", dump_only=True)
    bonus_rules = fields.List(fields.Nested(BonusRuleSchema), attribute="card.bonus_rules", dump_only=True)
    state = fields.String(dump_only=True)
    created_at = fields.AwareDateTime(attribute="card.created_at", dump_only=True)
    cancelled_at = fields.AwareDateTime(attribute="card.cancelled_at", dump_only=True, allow_none=True)


class RateCardCreateSchema(Schema):
    effective_from = fields.Date(required=True,
                                 metadata={"description": "A day in the brand's timezone, today or later"})
    price_cents = fields.Integer(required=True, strict=True)
    commission_bps = fields.Integer(strict=True, metadata={"description": "Ops only; hundredths of a percent"})
    bonus_rules = fields.List(fields.Nested(BonusRuleSchema), load_default=list)


class ClosedDaySchema(Schema):
    day = fields.Date(dump_only=True)
    reason = fields.String(dump_only=True)
    closure_id = fields.Integer(dump_only=True, allow_none=True, metadata={
        "description": "A one-off closure (removable); null for a public holiday"})


class ClosureSchema(Schema):
    id = fields.Integer(dump_only=True)
    day = fields.Date(required=True)
    reason = fields.String(load_default="", validate=validate.Length(max=120))
