"""What the API shows of decisions and reviews, and what it accepts."""

from marshmallow import fields

from marketplace.web.schemas import Schema


class DecisionReviewSchema(Schema):
    id = fields.Integer(dump_only=True)
    decision_id = fields.Integer(dump_only=True)
    status = fields.String(dump_only=True, metadata={"description": "open or answered"})
    comment = fields.String(dump_only=True)
    requested_at = fields.AwareDateTime(dump_only=True)
    due_at = fields.AwareDateTime(dump_only=True, metadata={"description": "Two weeks after the request."})
    answer = fields.String(dump_only=True, allow_none=True)
    answered_at = fields.AwareDateTime(dump_only=True, allow_none=True)


class AutomatedDecisionSchema(Schema):
    id = fields.Integer(dump_only=True)
    created_at = fields.AwareDateTime(attribute="decision.created_at", dump_only=True)
    kind = fields.String(attribute="decision.kind", dump_only=True,
                         metadata={"description": "turned_away, not_offered, released, earning_held or rating_counted"})
    reason_code = fields.String(attribute="decision.reason_code", dump_only=True)
    parameters = fields.Dict(attribute="decision.params", dump_only=True,
                             metadata={"description": "The figures in force when it was decided."})
    title = fields.String(dump_only=True)
    reason = fields.String(attribute="text", dump_only=True, metadata={"description": "The reason, in plain words."})
    brand_id = fields.Integer(attribute="decision.brand_id", dump_only=True, allow_none=True)
    brand = fields.String(attribute="brand_name", dump_only=True, allow_none=True)
    subject_type = fields.String(attribute="decision.subject_type", dump_only=True, allow_none=True, metadata={
        "description": "offer, invitation, earning, conversation, or hour (its id: hours since 1970-01-01 UTC)"})
    subject_id = fields.Integer(attribute="decision.subject_id", dump_only=True, allow_none=True)
    review = fields.Nested(DecisionReviewSchema, dump_only=True, allow_none=True)


class AutomatedDecisionListSchema(Schema):
    decisions = fields.List(fields.Nested(AutomatedDecisionSchema), dump_only=True)


class DecisionReviewRequestSchema(Schema):
    # Length is checked by the service (field named `comment`); empty is allowed: asking is enough.
    comment = fields.String(load_default="", allow_none=True,
                            metadata={"description": "Why you disagree (optional), at most 2000 characters."})
