"""What the API shows of the brand's past conversations and left messages, and what it accepts."""

from marshmallow import fields, validate

from marketplace.routing.models import ConversationStatus
from marketplace.routing.transcripts import REPLY_LENGTH, TEXT_LENGTH
from marketplace.web.schemas import ID_MAX, NOT_AN_ID, Page, Schema

STATUSES = [status.value for status in ConversationStatus]


class TranscriptSearchQuery(Schema):
    """Filters of the brand's conversations; each narrows the list, all together."""

    date_from = fields.Date(metadata={"description": "First day, inclusive, on the brand's clock (YYYY-MM-DD)."})
    date_to = fields.Date(metadata={"description": "Last day, inclusive, on the brand's clock (YYYY-MM-DD)."})
    expert_id = fields.Integer(validate=validate.Range(1, ID_MAX, error=NOT_AN_ID),
                               metadata={"description": "An expert profile id."})
    rating = fields.Integer(validate=validate.Range(1, 5), metadata={"description": "Rated exactly this."})
    min_rating = fields.Integer(validate=validate.Range(1, 5), metadata={"description": "Rated at least this."})
    topic = fields.String(validate=validate.Length(max=80))
    status = fields.String(validate=validate.OneOf(STATUSES))
    text = fields.String(validate=validate.Length(max=TEXT_LENGTH),
                         metadata={"description": "Words found in any message, ignoring case."})
    page = Page(metadata={"description": "50 conversations a page, newest first."})


class TranscriptRowSchema(Schema):
    id = fields.Integer(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    status = fields.String(dump_only=True, metadata={"enum": STATUSES})
    end_reason = fields.String(dump_only=True, allow_none=True)
    topic = fields.String(dump_only=True, allow_none=True)
    page_url = fields.String(dump_only=True, allow_none=True)
    expert_id = fields.Integer(dump_only=True, allow_none=True)
    expert_name = fields.String(dump_only=True, allow_none=True)
    accepted_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    first_reply_seconds = fields.Integer(dump_only=True, allow_none=True,
                                         metadata={"description": "From the expert's acceptance to their first "
                                                                  "message."})
    closed_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    rating = fields.Integer(dump_only=True, allow_none=True)
    rating_comment = fields.String(dump_only=True, allow_none=True)
    rate_cents = fields.Integer(dump_only=True, allow_none=True,
                                metadata={"description": "The brand's price for the chat, in minor units."})
    message_count = fields.Integer(dump_only=True)


class TranscriptPageSchema(Schema):
    conversations = fields.List(fields.Nested(TranscriptRowSchema), dump_only=True, attribute="rows")
    total = fields.Integer(dump_only=True, metadata={"description": "How many match, on every page."})
    page = fields.Integer(dump_only=True)
    per_page = fields.Integer(dump_only=True)
    pages = fields.Integer(dump_only=True)


class TranscriptMessageSchema(Schema):
    seq = fields.Integer(dump_only=True)
    sender = fields.String(dump_only=True, metadata={"enum": ["visitor", "expert", "system"]})
    body = fields.String(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)


class LeftMessageStateSchema(Schema):
    id = fields.Integer(dump_only=True)
    email = fields.String(dump_only=True)
    body = fields.String(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    reply = fields.String(dump_only=True, allow_none=True)
    replied_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    replied_by_name = fields.String(dump_only=True, allow_none=True)


class TranscriptSchema(Schema):
    conversation = fields.Nested(TranscriptRowSchema, dump_only=True)
    messages = fields.List(fields.Nested(TranscriptMessageSchema), dump_only=True)
    left_message = fields.Nested(LeftMessageStateSchema, dump_only=True, allow_none=True)


class LeftMessageReplyCreateSchema(Schema):
    body = fields.String(required=True, validate=validate.Length(1, REPLY_LENGTH),
                         metadata={"description": "Plain text, e-mailed to the visitor once."})
