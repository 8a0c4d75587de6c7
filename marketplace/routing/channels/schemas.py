"""What the channel calls accept and answer: a brand connects a messaging account; its list never shows a secret."""

from marshmallow import fields

from marketplace.routing.channels.connections import ACCOUNT_ID_LENGTH, SECRET_LENGTH
from marketplace.web.schemas import Schema

SECRET = {"load_only": True, "metadata": {"description": "Sealed at rest, never shown again"}}


class ChannelCreateSchema(Schema):
    # Checked by the service (connections.py), which names the field it refuses; here only their shapes.
    kind = fields.String(required=True, metadata={"enum": ["whatsapp", "messenger"]})
    phone_number_id = fields.String(metadata={"description": "WhatsApp: the business number's id (digits)",
                                              "maxLength": ACCOUNT_ID_LENGTH})
    page_id = fields.String(metadata={"description": "Messenger: the Facebook Page's id (digits)",
                                      "maxLength": ACCOUNT_ID_LENGTH})
    display_phone_number = fields.String(allow_none=True, metadata={
        "description": "WhatsApp, optional: the number as customers dial it, country code first (digits; spaces, "
                       "dashes and a leading + are dropped). Asked of WhatsApp when not given; the widget's "
                       "\"Continue on WhatsApp\" link needs it", "maxLength": 24, "example": "33180000000"})
    access_token = fields.String(required=True, **SECRET)
    app_secret = fields.String(required=True, load_only=True, metadata={
        "description": "Meta app's secret, which signs every webhook (X-Hub-Signature-256); sealed, never shown",
        "maxLength": SECRET_LENGTH})
    verify_token = fields.String(required=True, load_only=True, metadata={
        "description": "What Meta's subscription check sends as hub.verify_token; sealed, never shown"})


class ChannelSchema(Schema):
    id = fields.Integer(dump_only=True)
    kind = fields.String(dump_only=True, metadata={"enum": ["whatsapp", "messenger"]})
    account_id = fields.String(dump_only=True, metadata={"description": "phone_number_id or page_id"})
    display_phone_number = fields.String(dump_only=True, allow_none=True, metadata={
        "description": "WhatsApp: the number's digits as customers dial it (null: not known, so the widget offers no "
                       "WhatsApp link)"})
    webhook_url = fields.String(dump_only=True, metadata={
        "description": "Where Meta's webhooks for this account go (the app's callback URL)"})
    created_at = fields.AwareDateTime(dump_only=True)
    last_inbound_at = fields.AwareDateTime(dump_only=True, allow_none=True, metadata={
        "description": "When a customer last wrote through it"})
    last_error = fields.String(dump_only=True, allow_none=True, metadata={"description": "The last error Meta gave"})
    last_error_at = fields.AwareDateTime(dump_only=True, allow_none=True)


class ChannelListSchema(Schema):
    channels = fields.List(fields.Nested(ChannelSchema), dump_only=True)


class ChannelFeeCreateSchema(Schema):
    # Checked by the service (fees.py), which names the field it refuses; here only their shapes.
    kind = fields.Raw(required=True, metadata={"type": "string", "enum": ["whatsapp", "messenger"]})
    category = fields.Raw(required=True, metadata={
        "type": "string", "enum": ["service", "utility", "marketing", "authentication"],
        "description": "service: a free reply inside the customer's window; otherwise a template's category"})
    amount_cents = fields.Raw(required=True, metadata={
        "type": "integer", "description": "Per message, integer cents in the brand's currency"})
    effective_from = fields.Date(required=True, metadata={
        "description": "A day in the brand's timezone, today or later"})


class ChannelFeeSchema(Schema):
    id = fields.Integer(attribute="fee.id", dump_only=True)
    kind = fields.String(attribute="fee.kind.value", dump_only=True)
    category = fields.String(attribute="fee.category.value", dump_only=True)
    amount_cents = fields.Integer(attribute="fee.amount_cents", dump_only=True)
    effective_from = fields.Date(attribute="fee.effective_from", dump_only=True)
    state = fields.String(dump_only=True, metadata={"enum": ["scheduled", "in_effect", "past"]})
    created_at = fields.AwareDateTime(attribute="fee.created_at", dump_only=True)


class ChannelFeeListSchema(Schema):
    currency = fields.String(dump_only=True)
    fees = fields.List(fields.Nested(ChannelFeeSchema), dump_only=True)


class TemplateCreateSchema(Schema):
    # Checked by the service (templates.py), which names the field it refuses; here only their shapes.
    name = fields.String(required=True, metadata={"description": "As WhatsApp Manager shows it", "maxLength": 512})
    language = fields.String(required=True, metadata={"description": "Meta's code: en_US, fr...", "maxLength": 16})
    category = fields.String(required=True, metadata={"enum": ["marketing", "utility", "authentication"]})
    body = fields.String(required=True, metadata={
        "description": "The template's text with its {{1}}, {{2}}... placeholders", "maxLength": 1024})
    status = fields.String(required=True, metadata={
        "enum": ["approved", "pending", "rejected"], "description": "Meta's review, as the brand records it; only "
                                                                    "an approved template is sent"})


class TemplateChangeSchema(TemplateCreateSchema):
    """The fields to change (used partial): the others stay."""


class TemplateSchema(TemplateCreateSchema):
    id = fields.Integer(dump_only=True)
    channel_id = fields.Integer(dump_only=True)
    parameters = fields.Integer(dump_only=True, metadata={"description": "How many placeholders the body has"})
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)


class TemplateListSchema(Schema):
    templates = fields.List(fields.Nested(TemplateSchema), dump_only=True)


class TemplateMessageSchema(Schema):
    template_id = fields.Integer(required=True, metadata={"description": "One of the number's approved templates"})
    parameters = fields.List(fields.String(), required=True, metadata={
        "description": "The text of each placeholder, {{1}} first; as many as the template takes"})
    client_id = fields.String(metadata={
        "description": "The sender's id for the message (a resend with it is not a duplicate); made up if absent",
        "maxLength": 64})
