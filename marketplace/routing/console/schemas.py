"""What the brand console's API shows and accepts: live view, program and caps, dashboard, past conversations."""

from marshmallow import fields, validate

from marketplace.brands.models import RETENTION_MONTHS, Brand
from marketplace.brands.program import MAX_CANNED, MAX_LANGUAGES, MAX_ORIGIN_LENGTH, MAX_ORIGINS, MAX_TOPICS, NUMBERS
from marketplace.brands.schemas import APPROVALS
from marketplace.database import ID_MAX
from marketplace.routing.console.transcripts import TEXT_LENGTH
from marketplace.routing.left_messages.schemas import LeftMessageStateSchema
from marketplace.routing.models import Channel, ConversationStatus
from marketplace.routing.schemas import AttachmentSchema, CannedAnswerSchema
from marketplace.web.schemas import NOT_AN_ID, Page, Schema

STATUSES = [status.value for status in ConversationStatus]
CHANNELS = [channel.value for channel in Channel]


# The live view.

class LiveRowSchema(Schema):
    id = fields.Integer(dump_only=True)
    status = fields.String(dump_only=True)
    channel = fields.String(dump_only=True, metadata={"enum": CHANNELS})
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


# The chat program and its caps.

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
    async_expert_limit = _setting("async_expert_limit", metadata={
        "description": "Asynchronous conversations (the visitor left an address and went) one expert holds for the "
                       "brand besides their live chats; 0 for none."})
    async_first_reply_minutes = _setting("async_first_reply_minutes", metadata={
        "description": "The first reply promised when the visitor of an asynchronous conversation writes."})
    async_quiet_hours = _setting("async_quiet_hours", metadata={
        "description": "An asynchronous conversation closes after this long without a message."})
    reopen_window_hours = _setting("reopen_window_hours", metadata={
        "description": "A visitor's message on an answered closed conversation continues it this long after the "
                       "close; 0 for never."})
    enrolment_approval = fields.String(validate=validate.OneOf(APPROVALS))
    allow_unbooked_online = fields.Boolean()
    retention_months = fields.Integer(strict=True, validate=validate.Range(*RETENTION_MONTHS), metadata={
        "description": "Months a conversation's text, files, visitor contacts and network fingerprints are kept "
                       "after it ended, then anonymised (1 to 120; 12 by default)."})
    max_concurrent = _setting("max_concurrent")
    max_active_experts = _setting("max_active_experts")
    daily_cap = _setting("daily_cap")
    monthly_budget_cents = _setting("monthly_budget_cents")
    attachment_max_bytes = _setting("attachment_max_bytes", metadata={
        "description": "The largest photo or PDF sent in a chat, in bytes (1 MB to 25 MB; 10 MB by default)."})


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


# The dashboard.

class ServiceLevelSchema(Schema):
    within = fields.Integer(dump_only=True, metadata={
        "description": "Today's let-in chats whose first expert reply came within target_seconds of arrival."})
    decided = fields.Integer(dump_only=True, metadata={
        "description": "Today's let-in chats answered, waiting past the target, or ended unanswered."})
    share = fields.Float(dump_only=True, allow_none=True, metadata={
        "description": "within / decided, 0 to 1; null when nothing is decided yet."})
    met = fields.Boolean(dump_only=True, allow_none=True)
    target_percent = fields.Integer(dump_only=True)
    target_seconds = fields.Integer(dump_only=True)


class RatingSchema(Schema):
    average = fields.Float(dump_only=True, allow_none=True, metadata={"description": "1 to 5; null: no rating"})
    count = fields.Integer(dump_only=True)


class CapSchema(Schema):
    name = fields.String(dump_only=True, metadata={
        "description": "max_concurrent, max_active_experts, daily_cap or monthly_budget_cents"})
    used = fields.Integer(dump_only=True, metadata={"description": "Integer cents for monthly_budget_cents."})
    cap = fields.Integer(dump_only=True, allow_none=True, metadata={"description": "null: no cap"})
    share = fields.Float(dump_only=True, allow_none=True, metadata={"description": "used / cap; null: no cap"})


class IntervalSchema(Schema):
    start = fields.AwareDateTime(dump_only=True)
    arrivals = fields.Integer(dump_only=True, allow_none=True, metadata={"description": "null: not begun yet"})
    answered_within_target = fields.Integer(dump_only=True, allow_none=True)
    experts_online = fields.Integer(dump_only=True, allow_none=True)


class FailingEntrySchema(Schema):
    entry_id = fields.Integer(dump_only=True)
    ref = fields.String(dump_only=True, metadata={"description": "The brand's own key for the entry."})
    question = fields.String(dump_only=True, metadata={"description": "Its first way of asking."})
    failures = fields.Integer(dump_only=True, metadata={
        "description": "Its answers today the visitor said did not help, or after which a person was needed."})
    answers = fields.Integer(dump_only=True, metadata={"description": "The bot's answers with it today."})
    share = fields.Float(dump_only=True, metadata={"description": "failures / answers, 0 to 1"})


class BotFiguresSchema(Schema):
    bot_enabled = fields.Boolean(dump_only=True)
    conversations = fields.Integer(dump_only=True, metadata={
        "description": "Today's conversations, refused ones included."})
    involved = fields.Integer(dump_only=True, metadata={
        "description": "Today's conversations the FAQ bot answered at least once."})
    involvement_share = fields.Float(dump_only=True, allow_none=True, metadata={
        "description": "involved / conversations, 0 to 1; null without a conversation."})
    resolved = fields.Integer(dump_only=True, metadata={
        "description": "Involved conversations the bot ended without a person (confirmed + unconfirmed)."})
    resolved_confirmed = fields.Integer(dump_only=True, metadata={
        "description": "Resolved: the visitor said the bot's answer helped."})
    resolved_unconfirmed = fields.Integer(dump_only=True, metadata={
        "description": "Resolved: the visitor asked nothing more after the bot's answer."})
    resolution_share = fields.Float(dump_only=True, allow_none=True, metadata={
        "description": "resolved / involved, 0 to 1; null without an involved conversation."})
    confirmed_share = fields.Float(dump_only=True, allow_none=True, metadata={
        "description": "resolved_confirmed / involved"})
    unconfirmed_share = fields.Float(dump_only=True, allow_none=True, metadata={
        "description": "resolved_unconfirmed / involved"})
    with_bot_now = fields.Integer(dump_only=True, metadata={"description": "Conversations with the bot now."})
    handed_over = fields.Integer(dump_only=True, metadata={"description": "The bot's hand-overs today."})
    handovers = fields.Dict(keys=fields.String(), values=fields.Integer(), dump_only=True, metadata={
        "description": "Hand-overs today by reason: low_confidence, asked_for_person, order_specific, complaint, "
                       "chit_chat, off_topic, empty_base, not_helpful, second_unanswered, visitor_asked, error"})
    failing_entries = fields.List(fields.Nested(FailingEntrySchema), dump_only=True, metadata={
        "description": "The entries whose answers failed most today, most failures first (at most 10)."})


class DashboardSchema(Schema):
    brand_id = fields.Integer(dump_only=True)
    day = fields.Date(dump_only=True, metadata={"description": "Today on the brand's clock."})
    timezone = fields.String(dump_only=True)
    currency = fields.String(dump_only=True)
    as_of = fields.AwareDateTime(dump_only=True)
    waiting = fields.Integer(dump_only=True, metadata={"description": "Waiting or being offered now."})
    active = fields.Integer(dump_only=True)
    away = fields.Integer(dump_only=True, metadata={
        "description": "Asynchronous conversations: the visitor left an address and went (no live place)."})
    experts_online = fields.Integer(dump_only=True, metadata={"description": "Available and approved now."})
    arrivals = fields.Integer(dump_only=True, metadata={
        "description": "Let in today (refusals, and conversations with the FAQ bot or ended by it, not counted)."})
    answered = fields.Integer(dump_only=True)
    missed = fields.Integer(dump_only=True)
    abandoned = fields.Integer(dump_only=True)
    abandonment_share = fields.Float(dump_only=True, allow_none=True, metadata={
        "description": "abandoned / arrivals, 0 to 1"})
    refused = fields.Integer(dump_only=True)
    refusals = fields.Dict(keys=fields.String(), values=fields.Integer(), dump_only=True, metadata={
        "description": "Refused at the door today, by reason"})
    service_level = fields.Nested(ServiceLevelSchema, dump_only=True)
    rating = fields.Nested(RatingSchema, dump_only=True)
    caps = fields.List(fields.Nested(CapSchema), dump_only=True)
    intervals = fields.List(fields.Nested(IntervalSchema), dump_only=True, metadata={
        "description": "The brand's day in quarters of an hour (96; 92 or 100 when the clocks change)."})
    channel_fees_cents = fields.Integer(dump_only=True, metadata={
        "description": "Messaging apps' fees charged this month, integer cents (part of monthly_budget_cents' use)"})
    channel_messages_held = fields.Integer(dump_only=True, metadata={
        "description": "Experts' messaging-app replies held this month because the monthly budget was reached"})
    bot = fields.Nested(BotFiguresSchema, dump_only=True, allow_none=True, metadata={
        "description": "The FAQ bot's figures of today's conversations; null for a brand that never used the bot. "
                       "Conversations with the bot or ended by it are not in arrivals, answered or abandoned."})


# Past conversations.

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
    channel = fields.String(dump_only=True, metadata={"enum": CHANNELS})
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
    rating_removed = fields.Boolean(dump_only=True, metadata={
        "description": "The brand removed the visitor's rating after the expert contested it: `rating` is null."})
    reported = fields.Boolean(dump_only=True, metadata={"description": "The expert reported the visitor as abusive."})
    anonymised_at = fields.AwareDateTime(dump_only=True, allow_none=True, metadata={
        "description": "When its text, files and the visitor's identifiers were removed under the brand's retention "
                       "policy (or the contact's erasure); null while kept."})


class TranscriptPageSchema(Schema):
    conversations = fields.List(fields.Nested(TranscriptRowSchema), dump_only=True, attribute="rows")
    total = fields.Integer(dump_only=True, metadata={"description": "How many match, on every page."})
    page = fields.Integer(dump_only=True)
    per_page = fields.Integer(dump_only=True)
    pages = fields.Integer(dump_only=True)


class TranscriptMessageSchema(Schema):
    seq = fields.Integer(dump_only=True)
    sender = fields.String(dump_only=True, metadata={"enum": ["visitor", "expert", "system", "bot"]})
    body = fields.String(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    attachment = fields.Nested(AttachmentSchema, dump_only=True, allow_none=True, metadata={
        "description": "Its file; links from GET /api/v1/attachments/{id}/link"})


class TranscriptSchema(Schema):
    conversation = fields.Nested(TranscriptRowSchema, dump_only=True)
    messages = fields.List(fields.Nested(TranscriptMessageSchema), dump_only=True)
    left_message = fields.Nested(LeftMessageStateSchema, dump_only=True, allow_none=True)
