"""What the earnings API reads and answers: the expert's money, disputes and review decisions."""

from __future__ import annotations

from marshmallow import fields, validate

from marketplace.payouts.earnings import services as earnings
from marketplace.web.schemas import Id, Schema


class EarningSchema(Schema):
    id = fields.Integer(dump_only=True)
    conversation_id = fields.Integer(dump_only=True)
    brand_id = fields.Integer(dump_only=True)
    currency = fields.String(dump_only=True)
    price_cents = fields.Integer(dump_only=True, metadata={"description": "The brand's price at acceptance."})
    commission_cents = fields.Integer(dump_only=True)
    bonus_cents = fields.Integer(dump_only=True)
    expert_cents = fields.Integer(dump_only=True, metadata={"description": "price + bonus - commission"})
    closed_at = fields.AwareDateTime(dump_only=True)
    hold_until = fields.AwareDateTime(dump_only=True)
    status = fields.Function(lambda earning: earning.status.value, dump_only=True,
                             metadata={"description": "held, payable or reversed"})
    flags = fields.List(fields.String(), dump_only=True, metadata={
        "description": "Fraud checks that fired (short_chat, repeat_pair, same_network): the earning waits for a "
                       "review."})
    flag_reasons = fields.Function(earnings.flag_reasons, dump_only=True, metadata={
        "description": "Each fired check's code, its figures (params) and why in words (text), in the request's "
                       "language."})
    disputed_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    dispute_reason = fields.String(dump_only=True, allow_none=True)
    decision = fields.String(dump_only=True, allow_none=True, metadata={"description": "released or reversed"})
    decision_note = fields.String(dump_only=True, allow_none=True)
    decided_at = fields.AwareDateTime(dump_only=True, allow_none=True)


class BrandLineSchema(Schema):
    brand_id = fields.Integer(dump_only=True)
    currency = fields.String(dump_only=True)
    chats = fields.Integer(dump_only=True)
    earned_cents = fields.Integer(dump_only=True)


class TotalsSchema(Schema):
    currency = fields.String(dump_only=True)
    held_cents = fields.Integer(dump_only=True)
    payable_cents = fields.Integer(dump_only=True)
    in_transit_cents = fields.Integer(dump_only=True)
    paid_cents = fields.Integer(dump_only=True)


class FaqCreditTotalsSchema(Schema):
    currency = fields.String(dump_only=True)
    resolutions = fields.Integer(dump_only=True, metadata={
        "description": "Conversations the FAQ bot resolved with an entry the expert wrote."})
    credited_cents = fields.Integer(dump_only=True, metadata={
        "description": "What they earned: each brand's credit per resolution, held then paid as earnings are."})


class EarningsSummarySchema(Schema):
    totals = fields.List(fields.Nested(TotalsSchema), dump_only=True, metadata={
        "description": "One line per currency the expert earned in."})
    by_brand = fields.List(fields.Nested(BrandLineSchema), dump_only=True)
    recent = fields.List(fields.Nested(EarningSchema), dump_only=True)
    next_payout = fields.Date(dump_only=True, metadata={"description": "The next payout day: payable money is "
                                                                      "paid then."})
    faq_credits = fields.List(fields.Nested(FaqCreditTotalsSchema), dump_only=True, metadata={
        "description": "FAQ credits, one line per currency: counted in the totals above, never in by_brand or "
                       "recent (a resolved conversation is no answered chat)."})


class DisputeCreateSchema(Schema):
    conversation_id = Id(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=3, max=500))


class EarningDecisionSchema(Schema):
    note = fields.String(required=True, validate=validate.Length(min=3, max=500),
                         metadata={"description": "Why: kept in the audit log."})
