"""What the API shows of conversations and accepts; the same shapes as the socket events (README.md)."""

from marshmallow import fields, validate

from marketplace.brands.models import Brand
from marketplace.brands.program import MAX_CANNED, MAX_LANGUAGES, MAX_ORIGIN_LENGTH, MAX_ORIGINS, MAX_TOPICS, NUMBERS
from marketplace.brands.schemas import APPROVALS
from marketplace.routing.chat import BODY_LENGTH
from marketplace.web.schemas import INT64_MAX, Schema


class BrandRefSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(dump_only=True)


class MessageSchema(Schema):
    conversation_id = fields.Integer(dump_only=True)
    seq = fields.Integer(dump_only=True)
    sender = fields.String(dump_only=True, metadata={"enum": ["visitor", "expert", "system"]})
    client_id = fields.String(dump_only=True)
    body = fields.String(dump_only=True)
    created_at = fields.String(dump_only=True, metadata={"format": "date-time"})


class MessageListSchema(Schema):
    messages = fields.List(fields.Nested(MessageSchema), dump_only=True)


class MessageCreateSchema(Schema):
    client_id = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,64}$"),
                              metadata={"description": "Made up by the sender; a resend with the same id is not "
                                                       "a second message."})
    body = fields.String(required=True, validate=validate.Length(1, BODY_LENGTH))


class AfterQuery(Schema):
    after = fields.Integer(load_default=0, validate=validate.Range(0, INT64_MAX),
                           metadata={"description": "The last sequence number the caller has."})


class OfferSchema(Schema):
    offer_id = fields.Integer(dump_only=True)
    conversation_id = fields.Integer(dump_only=True)
    brand = fields.Nested(BrandRefSchema, dump_only=True)
    topic = fields.String(dump_only=True, allow_none=True)
    page_url = fields.String(dump_only=True, allow_none=True)
    expires_at = fields.String(dump_only=True, metadata={"format": "date-time"})
    timeout_seconds = fields.Integer(dump_only=True)


class LastMessageSchema(Schema):
    sender = fields.String(dump_only=True, metadata={"enum": ["visitor", "expert", "system"]})
    body = fields.String(dump_only=True, metadata={"description": "The message's first 140 characters."})
    created_at = fields.String(dump_only=True, metadata={"format": "date-time"})


class ChatSchema(Schema):
    conversation_id = fields.Integer(dump_only=True)
    status = fields.String(dump_only=True)
    end_reason = fields.String(dump_only=True, allow_none=True, metadata={
        "description": "Why a closed chat ended: expert, visitor, inactivity..."})
    brand = fields.Nested(BrandRefSchema, dump_only=True)
    topic = fields.String(dump_only=True, allow_none=True)
    page_url = fields.String(dump_only=True, allow_none=True)
    started_at = fields.String(dump_only=True, allow_none=True, metadata={"format": "date-time"})
    closed_at = fields.String(dump_only=True, allow_none=True, metadata={"format": "date-time"})
    last_seq = fields.Integer(dump_only=True)
    read_seq = fields.Integer(dump_only=True)
    unread = fields.Integer(dump_only=True, metadata={"description": "The visitor's messages after read_seq."})
    visitor_label = fields.String(dump_only=True, metadata={
        "description": "Four letters or digits telling this chat's visitor from others, the same for the whole "
                       "conversation (shown as 'Visitor 4F2A')."})
    visitor_locale = fields.String(dump_only=True, allow_none=True, metadata={
        "description": "The visitor's browser language (e.g. fr-FR), when known."})
    waited_seconds = fields.Integer(dump_only=True, allow_none=True, metadata={
        "description": "How long the visitor waited in the queue before the expert accepted."})
    last_message = fields.Nested(LastMessageSchema, dump_only=True, allow_none=True)
    last_visitor_message_at = fields.String(dump_only=True, allow_none=True, metadata={"format": "date-time"})
    visitor_left_at = fields.String(dump_only=True, allow_none=True, metadata={
        "format": "date-time", "description": "Set while the visitor's page has stopped checking in."})
    visitor_rating = fields.Integer(dump_only=True, allow_none=True)
    visitor_comment = fields.String(dump_only=True, allow_none=True)


class CannedAnswerSchema(Schema):
    title = fields.String(required=True, validate=validate.Length(1, 80))
    body = fields.String(required=True, validate=validate.Length(1, 2000))


class InboxSchema(Schema):
    offers = fields.List(fields.Nested(OfferSchema), dump_only=True)
    chats = fields.List(fields.Nested(ChatSchema), dump_only=True)
    canned_answers = fields.Dict(keys=fields.String(), values=fields.List(fields.Nested(CannedAnswerSchema)),
                                 dump_only=True, metadata={"description": "Keyed by brand id."})


class LiveRowSchema(Schema):
    id = fields.Integer(dump_only=True)
    status = fields.String(dump_only=True)
    topic = fields.String(dump_only=True, allow_none=True)
    page_url = fields.String(dump_only=True, allow_none=True)
    created_at = fields.String(dump_only=True, metadata={"format": "date-time"})
    started_at = fields.String(dump_only=True, allow_none=True, metadata={"format": "date-time"})
    waited_seconds = fields.Integer(dump_only=True)
    expert_name = fields.String(dump_only=True, allow_none=True)
    last_seq = fields.Integer(dump_only=True)


class LiveSchema(Schema):
    waiting = fields.List(fields.Nested(LiveRowSchema), dump_only=True)
    active = fields.List(fields.Nested(LiveRowSchema), dump_only=True)
    experts_online = fields.Integer(dump_only=True)


class LeftMessageSchema(Schema):
    id = fields.Integer(dump_only=True)
    email = fields.String(dump_only=True)
    body = fields.String(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    conversation_topic = fields.String(dump_only=True, allow_none=True)


class CannedAnswersSchema(Schema):
    answers = fields.List(fields.Nested(CannedAnswerSchema), required=True, validate=validate.Length(max=MAX_CANNED))


def _setting(name: str, **kwargs) -> fields.Integer:
    """One of the program's numbers, within the bounds brands.program checks (null: no cap, where allowed)."""
    low, high, optional = NUMBERS[name]
    return fields.Integer(strict=True, allow_none=optional, validate=validate.Range(low, high), **kwargs)


class ProgramSchema(Schema):
    """The brand's chat program; every field is optional on PATCH. Caps are null for no cap."""

    widget_key = fields.String(dump_only=True)
    widget_origins = fields.List(fields.String(validate=validate.Length(max=MAX_ORIGIN_LENGTH)),
                                 validate=validate.Length(max=MAX_ORIGINS),
                                 metadata={"description": "Origins that may embed the widget, e.g. "
                                                          "https://www.example.com (a port may be *)."})
    topics = fields.List(fields.String(validate=validate.Length(max=80)), validate=validate.Length(max=MAX_TOPICS))
    languages = fields.List(fields.String(validate=validate.Regexp(r"^[A-Za-z]{2}$")),
                            validate=validate.Length(max=MAX_LANGUAGES),
                            metadata={"description": "ISO 639-1 codes, e.g. fr, en."})
    opening_hours = fields.Dict(allow_none=True, validate=validate.Length(max=7), metadata={
        "description": 'Per weekday, e.g. {"mon": [["09:00", "18:00"]]}; null for always open.'})
    holiday_country = fields.String(allow_none=True, validate=validate.Length(
        max=Brand.__table__.c.holiday_country.type.length), metadata={
        "description": "Closed on this country's public holidays (ISO 3166-1 alpha-2); null for none."})
    holiday_subdivision = fields.String(allow_none=True, validate=validate.Length(
        max=Brand.__table__.c.holiday_subdivision.type.length), metadata={
        "description": "A region with its own holidays."})
    service_level_percent = _setting("service_level_percent", metadata={
        "description": "The share of chats to get a first expert reply within service_level_seconds."})
    service_level_seconds = _setting("service_level_seconds")
    offer_timeout_seconds = _setting("offer_timeout_seconds")
    max_wait_seconds = _setting("max_wait_seconds")
    inactivity_close_minutes = _setting("inactivity_close_minutes")
    expert_concurrency = _setting("expert_concurrency")
    enrolment_approval = fields.String(validate=validate.OneOf(APPROVALS))
    allow_unbooked_online = fields.Boolean()
    max_concurrent = _setting("max_concurrent")
    max_active_experts = _setting("max_active_experts")
    daily_cap = _setting("daily_cap")
    monthly_budget_cents = _setting("monthly_budget_cents")


class ProgramChangeSchema(ProgramSchema):
    """What PATCH accepts: any of the program's fields."""


class CapUseSchema(Schema):
    name = fields.String(dump_only=True, metadata={
        "description": "max_concurrent, max_active_experts, daily_cap or monthly_budget_cents"})
    used = fields.Integer(dump_only=True)
    cap = fields.Integer(dump_only=True, allow_none=True, metadata={"description": "null: no cap"})


class CapUsageSchema(Schema):
    caps = fields.List(fields.Nested(CapUseSchema), dump_only=True)
    refusals_today = fields.Dict(keys=fields.String(), values=fields.Integer(), dump_only=True,
                                 metadata={"description": "Conversations refused at the door today, by reason"})
    refusals_total = fields.Integer(dump_only=True)
