"""What the widget frame's JSON calls accept and answer (door/api.py; its left message: left_messages/).

Each field is refused here, named, when it is not what it should be: a list where text is expected, text
longer than its column, a sequence number that is not one. What a value means (a topic the brand offers,
a page address on http or https, an e-mail address that can receive mail) the services decide.
Unknown fields are dropped rather than refused: a widget script still cached in a visitor's browser may send
fields this server no longer reads (or does not read yet).
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, fields, validate

from marketplace.database import INT64_MAX
from marketplace.routing.chat.messages import BODY_LENGTH, CLIENT_ID
from marketplace.routing.models import Conversation, ConversationStatus, EndReason
from marketplace.web.schemas import Schema

ASCII_INTEGER = re.compile(r"-?[0-9]+")


def length_of(column: so.InstrumentedAttribute) -> int:
    """The most characters the column stores: the bound of the field that fills it."""
    return column.property.columns[0].type.length


def at_most(count: int) -> validate.Length:
    return validate.Length(max=count, error=_l("Use at most %(count)d characters.", count=count))


PAGE_URL_LENGTH = length_of(Conversation.page_url)


class Text(fields.String):
    """Text without the spaces around it, which are dropped before its length is checked."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strip()


class QueryInteger(fields.Integer):
    """An integer written in ASCII digits: int() alone also reads "٣", " 3" and "1_000"."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if not isinstance(value, str) or not ASCII_INTEGER.fullmatch(value):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class WidgetSchema(Schema):
    """A widget call's input: unknown fields dropped, not refused."""

    class Meta:
        unknown = EXCLUDE


# What the calls accept.

class ConversationStartSchema(WidgetSchema):
    topic = Text(load_default=None, allow_none=True, validate=at_most(length_of(Conversation.topic)),
                 metadata={"description": "One of the brand's topics (GET /api/widget/{key}); null for none."})
    page_url = Text(load_default=None, allow_none=True, validate=at_most(PAGE_URL_LENGTH),
                    metadata={"description": "The brand's page the visitor is on (http or https)."})
    locale = Text(load_default=None, allow_none=True, validate=at_most(length_of(Conversation.locale)),
                  metadata={"description": "The visitor's language, e.g. fr or en-GB; ignored when not one."})


class VisitorMessageCreateSchema(WidgetSchema):
    client_id = fields.String(required=True, validate=validate.Regexp(
        CLIENT_ID, error=_l("The message has no valid client id.")), metadata={
        "description": "Made up by the widget; a resend with the same id is not a second message."})
    body = Text(required=True, validate=at_most(BODY_LENGTH), metadata={"description": "Plain text."})


class RatingCreateSchema(WidgetSchema):
    rating = fields.Integer(required=True, strict=True,
                            validate=validate.Range(1, 5, error=_l("Choose a rating from 1 to 5.")))
    comment = Text(load_default=None, allow_none=True,
                   validate=at_most(length_of(Conversation.rating_comment)))


class VisitorEmailSchema(WidgetSchema):
    email = Text(required=True, validate=at_most(length_of(Conversation.visitor_email)),
                 metadata={"description": "Where the answer goes if the visitor leaves before it comes."})
    consent = fields.Boolean(required=True, metadata={
        "description": "The visitor ticked that they agree to be written to at this address about this chat."})


class MessagesAfterQuery(WidgetSchema):
    after = QueryInteger(load_default=0, validate=validate.Range(0, INT64_MAX), metadata={
        "description": "The last sequence number the widget has; 0 for all."})


# What they answer.

class WidgetBrandSchema(Schema):
    name = fields.String(dump_only=True)


class WidgetInfoSchema(Schema):
    brand = fields.Nested(WidgetBrandSchema, dump_only=True)
    topics = fields.List(fields.String(), dump_only=True)
    open = fields.Boolean(dump_only=True, metadata={"description": "Within the brand's opening hours now."})
    attachment_max_bytes = fields.Integer(dump_only=True, metadata={
        "description": "The largest file the visitor may send, told before they choose one"})
    attachment_types = fields.List(fields.String(), dump_only=True, metadata={
        "description": "Content types taken (decided from the content): photos and PDF"})


class VisitorConversationSchema(Schema):
    """The conversation as the widget shows it (waits.visitor_view)."""

    id = fields.Integer(dump_only=True)
    status = fields.String(dump_only=True, metadata={"enum": [status.value for status in ConversationStatus]})
    end_reason = fields.String(dump_only=True, allow_none=True,
                               metadata={"enum": [reason.value for reason in EndReason]})
    topic = fields.String(dump_only=True, allow_none=True)
    position = fields.Integer(dump_only=True, allow_none=True,
                              metadata={"description": "1 for the next to be served; null once not queued."})
    estimated_wait_seconds = fields.Integer(dump_only=True, allow_none=True, metadata={
        "description": "Only a wait that can come true; null when there is none to give."})
    no_expert_available = fields.Boolean(dump_only=True, metadata={
        "description": "Queued, but nobody online can take the chat now."})
    expert_name = fields.String(dump_only=True, allow_none=True)
    last_seq = fields.Integer(dump_only=True)
    rating = fields.Integer(dump_only=True, allow_none=True)
    may_leave_message = fields.Boolean(dump_only=True)
    may_rate = fields.Boolean(dump_only=True)
    email_given = fields.Boolean(dump_only=True, metadata={
        "description": "The visitor gave an address with consent: if they leave, the chat continues by e-mail."})
    push_enabled = fields.Boolean(dump_only=True, metadata={
        "description": "A browser of the visitor takes Web Push for this chat: if they leave, replies reach it."})
    may_continue = fields.Boolean(dump_only=True, metadata={
        "description": "Closed, answered, and within the brand's reopen window: the visitor's next message continues "
                       "it (after the window they start a new conversation)."})
    whatsapp_link = fields.String(dump_only=True, allow_none=True, metadata={
        "description": "\"Continue on WhatsApp\": a wa.me link to the brand's WhatsApp number with a prefilled "
                       "message carrying this chat's code; sent from WhatsApp, it proves the visitor's number and "
                       "makes them one contact of the brand. Null when the brand has no WhatsApp number whose "
                       "display number is known.", "example": "https://wa.me/33180000000?text=Hello..."})
