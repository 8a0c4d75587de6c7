"""What the tax API answers: the expert's yearly summary (art. 242 bis CGI)."""

from __future__ import annotations

from marshmallow import fields

from marketplace.web.schemas import Schema


class SummaryTotalsSchema(Schema):
    currency = fields.String(dump_only=True)
    transactions = fields.Integer(dump_only=True, metadata={"description": "Answered chats and FAQ credits paid"})
    chats = fields.Integer(dump_only=True)
    faq_credits = fields.Integer(dump_only=True)
    gross_cents = fields.Integer(dump_only=True, metadata={"description": "Brands' prices and bonuses, before fees"})
    fees_cents = fields.Integer(dump_only=True, metadata={"description": "The platform's commission"})
    net_cents = fields.Integer(dump_only=True, metadata={"description": "What the expert received: gross - fees"})


class NoticeSchema(Schema):
    title = fields.String(dump_only=True)
    paragraphs = fields.List(fields.String(), dump_only=True)
    links = fields.Function(lambda notice: [{"label": label, "url": url} for label, url in notice.links],
                            dump_only=True)
    legal_basis = fields.String(dump_only=True)


class YearSummarySchema(Schema):
    year = fields.Integer(dump_only=True)
    complete = fields.Boolean(dump_only=True, metadata={"description": "False while the year is under way"})
    legal_name = fields.String(dump_only=True)
    business_id = fields.String(dump_only=True, allow_none=True, metadata={"description": "SIRET in France"})
    country = fields.String(dump_only=True, allow_none=True)
    totals = fields.List(fields.Nested(SummaryTotalsSchema), dump_only=True, metadata={
        "description": "Per currency: what was paid in the calendar year (the payout date, platform's clock)"})
    bank_accounts = fields.List(fields.String(), dump_only=True, metadata={
        "description": "The accounts paid into: IBAN masked but its last 4 characters, or the Stripe account"})
    notice = fields.Nested(NoticeSchema, dump_only=True, metadata={
        "description": "The expert's tax and social obligations, with the official links (art. 242 bis CGI)"})
