"""What the API shows of experts, and what it accepts. Loading schemas never carry payout details."""

from marshmallow import fields, validate

from marketplace.brands.quizzes import MAX_QUESTIONS
from marketplace.core.lifecycles import EXPERT_DECISIONS
from marketplace.experts.models import EnrolmentStatus, ExpertStatus
from marketplace.experts.services import MAX_LANGUAGES, MAX_SKILLS
from marketplace.experts.vetting import APPLICATION_FIELDS
from marketplace.skills.schemas import SkillSchema
from marketplace.web.schemas import Id, Schema

ENROLMENT_DECISIONS = ["approve", "reject", "remove"]


class ExpertProfileSchema(Schema):
    id = fields.Integer(dump_only=True)
    display_name = fields.String(dump_only=True)
    bio = fields.String(dump_only=True)
    languages = fields.List(fields.String(), dump_only=True)
    skills = fields.List(fields.Nested(SkillSchema), dump_only=True)
    phone = fields.String(dump_only=True, allow_none=True)
    country = fields.String(dump_only=True, allow_none=True)
    business_id = fields.String(dump_only=True, allow_none=True)
    motivation = fields.String(dump_only=True)
    status = fields.String(dump_only=True)
    status_reason = fields.String(dump_only=True, allow_none=True,
                                  metadata={"description": "The reason of ops' last decision; kept while a "
                                                           "resubmitted application waits, for its reviewers."})
    status_fields = fields.List(fields.String(), dump_only=True, allow_none=True,
                                metadata={"description": "The profile fields that reason concerns (null: the "
                                                         "whole application)."})
    resubmitted = fields.Boolean(attribute="is_resubmission", dump_only=True,
                                 metadata={"description": "Back in the vetting queue after a rejection."})
    created_at = fields.AwareDateTime(dump_only=True)
    status_changed_at = fields.AwareDateTime(dump_only=True, allow_none=True)


class ExpertProfileUpdateSchema(Schema):
    display_name = fields.String(validate=validate.Length(min=1, max=60))
    bio = fields.String(validate=validate.Length(max=500))
    languages = fields.List(fields.String(validate=validate.Length(2, 3)), validate=validate.Length(1, MAX_LANGUAGES),
                            metadata={"description": "ISO 639 codes, e.g. fr, en."})
    skills = fields.List(fields.String(validate=validate.Length(1, 60)), validate=validate.Length(max=MAX_SKILLS),
                         metadata={"description": "Slugs of the skill taxonomy (GET /skills)."})
    phone = fields.String(allow_none=True, validate=validate.Length(max=30))
    country = fields.String(validate=validate.Length(equal=2))
    business_id = fields.String(allow_none=True, validate=validate.Length(max=40))
    motivation = fields.String(validate=validate.Length(max=1000))


class ApplicationSchema(Schema):
    """An expert as ops see them in the vetting queue."""

    profile = fields.Nested(ExpertProfileSchema, dump_only=True)
    email = fields.String(attribute="user.email", dump_only=True)
    full_name = fields.String(attribute="user.full_name", dump_only=True)


class DecisionSchema(Schema):
    """A brand's decision on an applicant or an approved expert."""

    action = fields.String(required=True, validate=validate.OneOf(ENROLMENT_DECISIONS))
    reason = fields.String(load_default="", validate=validate.Length(max=500))


class ExpertDecisionSchema(DecisionSchema):
    """Ops' decision on an expert: a rejection may name the profile fields its reason concerns."""

    action = fields.String(required=True, validate=validate.OneOf(EXPERT_DECISIONS))
    # Loaded as `field_names`: a Schema's own `fields` attribute must keep its meaning.
    field_names = fields.List(fields.String(validate=validate.OneOf(APPLICATION_FIELDS)), data_key="fields",
                              load_default=list, validate=validate.Length(max=len(APPLICATION_FIELDS)),
                              metadata={"description": "Only with `reject`: display_name, country, phone, languages, "
                                                       "skills, bio, business_id, motivation."})


class PayoutDetailsSchema(Schema):
    account_holder = fields.String(dump_only=True)
    iban_masked = fields.String(dump_only=True)
    iban_country = fields.String(dump_only=True)
    bic = fields.String(dump_only=True, allow_none=True)


class FullPayoutDetailsSchema(PayoutDetailsSchema):
    iban = fields.String(dump_only=True)


class PayoutDetailsUpdateSchema(Schema):
    account_holder = fields.String(required=True, validate=validate.Length(min=1, max=120))
    iban = fields.String(required=True, validate=validate.Length(min=1, max=50))
    bic = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=11))


class EnrolmentSchema(Schema):
    id = fields.Integer(dump_only=True)
    brand_id = fields.Integer(dump_only=True)
    expert_id = fields.Integer(dump_only=True)
    status = fields.String(dump_only=True)
    status_reason = fields.String(dump_only=True, allow_none=True)
    waiting_for_vetting = fields.Boolean(dump_only=True, metadata={
        "description": "Ready for the brand, whose decision waits until ops approve the expert."})
    created_at = fields.AwareDateTime(dump_only=True)
    status_changed_at = fields.AwareDateTime(dump_only=True, allow_none=True)


class ApplySchema(Schema):
    brand_ids = fields.List(Id(), required=True, validate=validate.Length(min=1, max=50))


class QuizChoiceViewSchema(Schema):
    id = fields.Integer(dump_only=True)
    text = fields.String(dump_only=True)


class QuizQuestionViewSchema(Schema):
    id = fields.Integer(dump_only=True)
    text = fields.String(dump_only=True)
    choices = fields.List(fields.Nested(QuizChoiceViewSchema), dump_only=True)


class QuizViewSchema(Schema):
    """An attempt's questions: the answers are never part of it."""

    attempt_id = fields.Integer(dump_only=True)
    brand_id = fields.Integer(dump_only=True)
    pass_mark_percent = fields.Integer(dump_only=True)
    attempts_left = fields.Integer(dump_only=True)
    questions = fields.List(fields.Nested(QuizQuestionViewSchema), dump_only=True)


class QuizAnswersSchema(Schema):
    answers = fields.Dict(keys=fields.String(validate=validate.Regexp(r"^[1-9][0-9]{0,18}$")), values=Id(),
                          required=True, validate=validate.Length(max=MAX_QUESTIONS),
                          metadata={"description": "A choice id for each question id."})


class QuizResultSchema(Schema):
    attempt_id = fields.Integer(dump_only=True)
    correct = fields.Integer(dump_only=True)
    total = fields.Integer(dump_only=True)
    score_percent = fields.Integer(dump_only=True)
    passed = fields.Boolean(dump_only=True)
    enrolment_status = fields.String(dump_only=True)
    next_attempt_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    attempts_left = fields.Integer(dump_only=True)
    waiting_for_vetting = fields.Boolean(dump_only=True)


class ApplicantSchema(Schema):
    """An applicant as the brand sees them: no contact or payout details."""

    enrolment = fields.Nested(EnrolmentSchema, dump_only=True)
    display_name = fields.String(attribute="profile.display_name", dump_only=True)
    languages = fields.List(fields.String(), attribute="profile.languages", dump_only=True)
    skills = fields.List(fields.Nested(SkillSchema), attribute="profile.skills", dump_only=True)
    bio = fields.String(attribute="profile.bio", dump_only=True)
    best_score = fields.Integer(dump_only=True, allow_none=True)


class PresenceSchema(Schema):
    status = fields.String(dump_only=True)
    away_reason = fields.String(dump_only=True, allow_none=True)
    since = fields.AwareDateTime(dump_only=True, allow_none=True)
    last_heartbeat_at = fields.AwareDateTime(dump_only=True, allow_none=True)


class PresenceUpdateSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(["available", "away", "offline"]))


# The vetting queue's and a brand's applicants' queries, and the figures the brand sees of each expert.

class ExpertStatusQuery(Schema):
    status = fields.String(load_default=ExpertStatus.APPLIED.value,
                           validate=validate.OneOf([s.value for s in ExpertStatus] + ["all"]))


class EnrolmentStatusQuery(Schema):
    status = fields.String(validate=validate.OneOf([s.value for s in EnrolmentStatus]))
    period = fields.String(load_default="30d", validate=validate.OneOf(["30d", "all"]))


class ExpertStatsSchema(Schema):
    """An approved expert's figures for the brand; the rating average is null under `min_ratings` ratings."""

    answered = fields.Integer(dump_only=True)
    median_first_reply_seconds = fields.Float(dump_only=True, allow_none=True)
    ratings = fields.Integer(dump_only=True)
    rating_average = fields.Float(dump_only=True, allow_none=True)
    rating_judged = fields.Boolean(dump_only=True)
    min_ratings = fields.Integer(dump_only=True)
    missed_offers = fields.Integer(dump_only=True)


class ApplicantWithStatsSchema(ApplicantSchema):
    attempts = fields.Integer(dump_only=True)
    pass_mark = fields.Integer(dump_only=True, allow_none=True)
    stats = fields.Nested(ExpertStatsSchema, dump_only=True, allow_none=True)
