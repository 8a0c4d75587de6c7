"""What the contact calls accept and answer: the brand's list, contact page and merge; the expert's history."""

from marshmallow import fields, validate

from marketplace.routing.contacts.history import SEARCH_LENGTH
from marketplace.web.schemas import Id, Page, Schema

STATUS = {"description": "The conversation's status (waiting, active, closed, ...)."}


class ContactSearchQuery(Schema):
    q = fields.String(validate=validate.Length(max=SEARCH_LENGTH),
                      metadata={"description": "Found in the address, the name or (4 digits or more) the phone "
                                               "number, ignoring case."})
    page = Page(metadata={"description": "50 contacts a page, latest seen first."})


class ContactSchema(Schema):
    id = fields.Integer(dump_only=True)
    email = fields.String(dump_only=True, allow_none=True, metadata={
        "description": "The address the contact proved (null for one known by WhatsApp only)."})
    phone = fields.String(dump_only=True, allow_none=True, metadata={
        "description": "The number WhatsApp verified, E.164 (null for one known by an address only).",
        "example": "+33612345678"})
    display_name = fields.String(dump_only=True, allow_none=True)
    first_seen = fields.AwareDateTime(dump_only=True, allow_none=True, metadata={
        "description": "When its first conversation with the brand started."})
    last_seen = fields.AwareDateTime(dump_only=True, allow_none=True)
    conversation_count = fields.Integer(dump_only=True)


class ContactPageSchema(Schema):
    contacts = fields.List(fields.Nested(ContactSchema), dump_only=True, attribute="rows")
    total = fields.Integer(dump_only=True)
    page = fields.Integer(dump_only=True)
    per_page = fields.Integer(dump_only=True)
    pages = fields.Integer(dump_only=True)


class ConversationLineSchema(Schema):
    id = fields.Integer(dump_only=True)
    channel = fields.String(dump_only=True, metadata={"enum": ["web", "whatsapp", "messenger"],
                                                      "description": "Where the customer wrote."})
    created_at = fields.AwareDateTime(dump_only=True)
    closed_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    status = fields.String(dump_only=True, metadata=STATUS)
    topic = fields.String(dump_only=True, allow_none=True)
    rating = fields.Integer(dump_only=True, allow_none=True)
    first_lines = fields.String(dump_only=True, metadata={"description": "The visitor's first message, cut."})
    message_count = fields.Integer(dump_only=True)


class ContactDetailSchema(ContactSchema):
    proved_at = fields.AwareDateTime(dump_only=True, metadata={
        "description": "When the address or the number was last proved."})
    merged_into_id = fields.Integer(dump_only=True, allow_none=True, metadata={
        "description": "The contact this one was merged into (its conversations went there)."})
    conversations = fields.List(fields.Nested(ConversationLineSchema), dump_only=True)


class MergeSchema(Schema):
    keep_id = Id(required=True, metadata={"description": "The contact that stays."})
    merge_id = Id(required=True, metadata={"description": "The contact whose conversations move to keep_id."})


class HistorySchema(Schema):
    known = fields.Boolean(dump_only=True, metadata={
        "description": "The visitor proved an address or a WhatsApp number to the brand."})
    conversations = fields.List(fields.Nested(ConversationLineSchema), dump_only=True, metadata={
        "description": "The contact's other conversations with the chat's brand, web and WhatsApp alike, newest "
                       "first (the latest 20)."})


class HistoryMessageSchema(Schema):
    seq = fields.Integer(dump_only=True)
    sender = fields.String(dump_only=True, metadata={"enum": ["visitor", "expert", "system", "bot"]})
    body = fields.String(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    attachment_name = fields.String(dump_only=True, allow_none=True)


class HistoryTranscriptSchema(Schema):
    messages = fields.List(fields.Nested(HistoryMessageSchema), dump_only=True)
