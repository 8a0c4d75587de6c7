"""What the API shows of conversations and accepts; the same shapes as the socket events (README.md)."""

from marshmallow import Schema, fields, validate

from marketplace.routing.chat import BODY_LENGTH


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
    after = fields.Integer(load_default=0, validate=validate.Range(min=0),
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
    answers = fields.List(fields.Nested(CannedAnswerSchema), required=True)


class ProgramSchema(Schema):
    """The brand's chat program; every field is optional on PATCH. Caps are null for no cap."""

    widget_key = fields.String(dump_only=True)
    widget_origins = fields.List(fields.String(), metadata={"description": "Origins that may embed the widget."})
    topics = fields.List(fields.String())
    languages = fields.List(fields.String(), metadata={"description": "ISO 639-1 codes, e.g. fr, en."})
    opening_hours = fields.Dict(allow_none=True, metadata={
        "description": 'Per weekday, e.g. {"mon": [["09:00", "18:00"]]}; null for always open.'})
    holiday_country = fields.String(allow_none=True, metadata={
        "description": "Closed on this country's public holidays (ISO 3166-1 alpha-2); null for none."})
    holiday_subdivision = fields.String(allow_none=True, metadata={"description": "A region with its own holidays."})
    service_level_percent = fields.Integer(strict=True, metadata={
        "description": "The share of chats to get a first expert reply within service_level_seconds."})
    service_level_seconds = fields.Integer(strict=True)
    offer_timeout_seconds = fields.Integer(strict=True)
    max_wait_seconds = fields.Integer(strict=True)
    inactivity_close_minutes = fields.Integer(strict=True)
    expert_concurrency = fields.Integer(strict=True)
    enrolment_approval = fields.String(metadata={"description": "manual or automatic"})
    allow_unbooked_online = fields.Boolean()
    max_concurrent = fields.Integer(strict=True, allow_none=True)
    max_active_experts = fields.Integer(strict=True, allow_none=True)
    daily_cap = fields.Integer(strict=True, allow_none=True)
    monthly_budget_cents = fields.Integer(strict=True, allow_none=True)


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
