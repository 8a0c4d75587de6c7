"""What the rating calls accept and answer: the expert's contest and report, the brand's list and decision."""

from marshmallow import fields, validate

from marketplace.routing.models import ContestStatus, VisitorReportReason
from marketplace.routing.ratings.services import DECISIONS, TEXT_LENGTH
from marketplace.web.schemas import Schema


class RatingContestCreateSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(1, TEXT_LENGTH),
                           metadata={"description": "Why the expert contests the rating; the brand reads it."})


class VisitorReportCreateSchema(Schema):
    reason = fields.String(required=True, validate=validate.OneOf([r.value for r in VisitorReportReason]))
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=TEXT_LENGTH),
                            metadata={"description": "What happened; required when the reason is `other`."})


class RatingContestDecisionSchema(Schema):
    decision = fields.String(required=True, validate=validate.OneOf([d.value for d in DECISIONS]),
                             metadata={"description": "`removed`: the rating counts nowhere from now on."})
    answer = fields.String(required=True, validate=validate.Length(1, TEXT_LENGTH),
                           metadata={"description": "The brand's written answer; the expert reads it."})


class RatingContestListQuery(Schema):
    status = fields.String(validate=validate.OneOf([s.value for s in ContestStatus]))


class RatingContestSchema(Schema):
    """A contested rating and, once decided, the brand's answer."""

    id = fields.Integer(dump_only=True)
    conversation_id = fields.Integer(dump_only=True)
    brand_id = fields.Integer(dump_only=True)
    expert_id = fields.Integer(dump_only=True)
    expert_name = fields.String(dump_only=True, allow_none=True)
    rating = fields.Integer(dump_only=True, metadata={"description": "The visitor's rating contested, 1-5."})
    rating_comment = fields.String(dump_only=True, allow_none=True)
    reason = fields.String(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    status = fields.String(dump_only=True, metadata={"description": "pending, kept or removed"})
    answer = fields.String(dump_only=True, allow_none=True)
    decided_at = fields.AwareDateTime(dump_only=True, allow_none=True)


class VisitorReportSchema(Schema):
    """An expert's report of an abusive visitor."""

    id = fields.Integer(dump_only=True)
    conversation_id = fields.Integer(dump_only=True)
    brand_id = fields.Integer(dump_only=True)
    expert_id = fields.Integer(dump_only=True)
    expert_name = fields.String(dump_only=True, allow_none=True)
    reason = fields.String(dump_only=True, metadata={"description": "insults, harassment, threats, spam or other"})
    comment = fields.String(dump_only=True, allow_none=True)
    created_at = fields.AwareDateTime(dump_only=True)
