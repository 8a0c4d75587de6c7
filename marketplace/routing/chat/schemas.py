"""What the expert's API shows of their offers and chats, and accepts; the shapes of the socket events (README.md)."""

from marshmallow import fields, validate

from marketplace.database import INT64_MAX
from marketplace.routing.chat.messages import BODY_LENGTH, CLIENT_ID
from marketplace.routing.schemas import BrandRefSchema, CannedAnswerSchema
from marketplace.web.schemas import Schema


class MessageCreateSchema(Schema):
    client_id = fields.String(required=True, validate=validate.Regexp(CLIENT_ID),
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
    channel = fields.String(dump_only=True, metadata={
        "enum": ["web", "whatsapp", "messenger"], "description": "Where the customer writes from: the brand's site "
                                                                 "or a messaging app"})
    topic = fields.String(dump_only=True, allow_none=True)
    page_url = fields.String(dump_only=True, allow_none=True)
    expires_at = fields.String(dump_only=True, metadata={"format": "date-time"})
    timeout_seconds = fields.Integer(dump_only=True)


class LastMessageSchema(Schema):
    sender = fields.String(dump_only=True, metadata={"enum": ["visitor", "expert", "system", "bot"]})
    body = fields.String(dump_only=True, metadata={"description": "The message's first 140 characters."})
    created_at = fields.String(dump_only=True, metadata={"format": "date-time"})


class ChatSchema(Schema):
    conversation_id = fields.Integer(dump_only=True)
    status = fields.String(dump_only=True)
    end_reason = fields.String(dump_only=True, allow_none=True, metadata={
        "description": "Why a closed chat ended: expert, visitor, inactivity..."})
    channel = fields.String(dump_only=True, metadata={"enum": ["web", "whatsapp", "messenger"]})
    window_closes_at = fields.String(dump_only=True, allow_none=True, metadata={
        "format": "date-time", "description": "WhatsApp or Messenger: when the expert's free reply stops being "
                                              "allowed (Meta's window since the customer's last message)"})
    brand = fields.Nested(BrandRefSchema, dump_only=True)
    attachment_max_bytes = fields.Integer(dump_only=True, metadata={
        "description": "The largest file the expert may send in this chat (the brand's limit)"})
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
    reply_due_at = fields.String(dump_only=True, allow_none=True, metadata={
        "format": "date-time", "description": "Asynchronous (the visitor away) and the visitor wrote last: the "
                                              "first reply the brand promised is due then."})
    visitor_rating = fields.Integer(dump_only=True, allow_none=True)
    visitor_comment = fields.String(dump_only=True, allow_none=True)


class InboxSchema(Schema):
    offers = fields.List(fields.Nested(OfferSchema), dump_only=True)
    chats = fields.List(fields.Nested(ChatSchema), dump_only=True)
    canned_answers = fields.Dict(keys=fields.String(), values=fields.List(fields.Nested(CannedAnswerSchema)),
                                 dump_only=True, metadata={"description": "Keyed by brand id."})
    attachment_types = fields.List(fields.String(), dump_only=True, metadata={
        "description": "Content types a chat takes (decided from the content); each chat has its size limit"})
