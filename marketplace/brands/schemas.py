"""What the API shows of brands (their members and invitations too), and what it accepts."""

from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from marketplace.brands.models import RETENTION_MONTHS, BrandClosure, BrandRole, EnrolmentApproval
from marketplace.brands.quizzes import MAX_CHOICES, MAX_QUESTIONS
from marketplace.brands.rates import MAX_PRICE_CENTS
from marketplace.core.rates import BONUS_KINDS, MAX_BONUS_RULES
from marketplace.web.schemas import Schema

BRAND_ROLES = [role.value for role in BrandRole]
APPROVALS = [approval.value for approval in EnrolmentApproval]
MAX_BONUS_CENTS = 100_000  # a bonus rule's most, as core.rates.parse_bonus_rules checks it
MAX_COMMISSION_BPS = 10_000  # 100 %


def TimeZone(**kwargs) -> fields.String:  # noqa: N802 - reads as a field type
    """An IANA time zone name (Europe/Paris); written as one here, the service checks the database has it.

    A pattern rather than the ~600 names as an enum: the document stays readable, and a fuzzer does not try each.
    """
    unknown = _l("Unknown time zone; use a name such as Europe/Paris.")
    return fields.String(validate=[validate.Length(max=64, error=unknown), validate.Regexp(
        r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}$", error=unknown)], **kwargs)


def Currency(**kwargs) -> fields.String:  # noqa: N802
    """An ISO 4217 code (EUR); the service checks it is one."""
    return fields.String(validate=validate.Regexp(r"^[A-Za-z]{3}$", error=_l(
        "Unknown currency; use an ISO 4217 code such as EUR.")), **kwargs)


class BrandSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)
    slug = fields.String(dump_only=True)
    timezone = fields.String(dump_only=True)
    currency = fields.String(dump_only=True)
    enrolment_approval = fields.String(dump_only=True)
    allow_unbooked_online = fields.Boolean(dump_only=True)
    retention_months = fields.Integer(dump_only=True, metadata={
        "description": "Months a conversation's text, files, visitor contacts and network fingerprints are kept "
                       "after it ended, then anonymised (its figures stay)."})
    created_at = fields.AwareDateTime(dump_only=True)


class BrandCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    slug = fields.String(validate=validate.Length(min=1, max=60))
    timezone = TimeZone(load_default="Europe/Paris")
    currency = Currency(load_default="EUR")


class BrandUpdateSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=120))
    timezone = TimeZone()
    currency = Currency()
    enrolment_approval = fields.String(validate=validate.OneOf(APPROVALS))
    allow_unbooked_online = fields.Boolean()
    retention_months = fields.Integer(strict=True, validate=validate.Range(*RETENTION_MONTHS), metadata={
        "description": "Months personal data of a conversation is kept after it ended (1 to 120; 12 by default)."})


class QuizChoiceSchema(Schema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=200))
    correct = fields.Boolean(attribute="is_correct", data_key="correct", load_default=False)


class QuizQuestionSchema(Schema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=500))
    choices = fields.List(fields.Nested(QuizChoiceSchema), required=True, validate=validate.Length(2, MAX_CHOICES),
                          metadata={"description": "Exactly one of them correct."})


class QuizSchema(Schema):
    """A brand's quiz with its answers: for the brand's own people only."""

    pass_mark_percent = fields.Integer(required=True, validate=validate.Range(1, 100))
    max_attempts = fields.Integer(load_default=2, validate=validate.Range(1, 10))
    cooldown_hours = fields.Integer(load_default=24, validate=validate.Range(0, 720))
    version = fields.Integer(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True, allow_none=True, metadata={
        "description": "null while the brand has no quiz (version 0)."})
    questions = fields.List(fields.Nested(QuizQuestionSchema), required=True,
                            validate=validate.Length(max=MAX_QUESTIONS))


class QuizUpdateSchema(QuizSchema):
    """A quiz as PUT replaces it: one question at least."""

    questions = fields.List(fields.Nested(QuizQuestionSchema), required=True,
                            validate=validate.Length(1, MAX_QUESTIONS))


class MemberSchema(Schema):
    user_id = fields.Integer()
    email = fields.String()
    full_name = fields.String()
    role = fields.String()


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
    kind = fields.String(required=True, validate=validate.OneOf(sorted(BONUS_KINDS)),
                         metadata={"description": "rating_at_least (value 1-5) or first_reply_within (seconds, "
                                                  "5-3600)"})
    value = fields.Integer(required=True, strict=True, validate=validate.Range(
        min(low for low, _high in BONUS_KINDS.values()), max(high for _low, high in BONUS_KINDS.values())))
    bonus_cents = fields.Integer(required=True, strict=True, validate=validate.Range(1, MAX_BONUS_CENTS))


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
    price_cents = fields.Integer(required=True, strict=True, validate=validate.Range(0, MAX_PRICE_CENTS))
    commission_bps = fields.Integer(strict=True, validate=validate.Range(0, MAX_COMMISSION_BPS),
                                    metadata={"description": "Ops only; hundredths of a percent"})
    bonus_rules = fields.List(fields.Nested(BonusRuleSchema), load_default=list,
                              validate=validate.Length(max=MAX_BONUS_RULES),
                              metadata={"description": "One rule of each kind at most."})


class ClosedDaySchema(Schema):
    day = fields.Date(dump_only=True)
    reason = fields.String(dump_only=True)
    closure_id = fields.Integer(dump_only=True, allow_none=True, metadata={
        "description": "A one-off closure (removable); null for a public holiday"})


class ClosureSchema(Schema):
    id = fields.Integer(dump_only=True)
    day = fields.Date(required=True)
    reason = fields.String(load_default="", validate=validate.Length(
        max=BrandClosure.__table__.c.reason.type.length))
