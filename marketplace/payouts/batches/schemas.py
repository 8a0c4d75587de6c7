"""What the payout batches API reads and answers."""

from __future__ import annotations

from marshmallow import fields, validate

from marketplace.brands.schemas import Currency
from marketplace.payouts.batches.services import MAX_MINIMUM_CENTS
from marketplace.web.schemas import Schema


class BatchCreateSchema(Schema):
    currency = Currency(required=True, metadata={"example": "EUR"})
    minimum_cents = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=MAX_MINIMUM_CENTS),
                                   metadata={"description": "Experts owed less are carried forward."})


class PayoutItemSchema(Schema):
    id = fields.Integer(dump_only=True)
    expert_id = fields.Integer(dump_only=True)
    amount_cents = fields.Integer(dump_only=True)
    status = fields.Function(lambda item: item.status.value, dump_only=True,
                             metadata={"description": "pending, submitted, paid, failed or reversed"})
    rail = fields.Function(lambda item: item.rail.value, dump_only=True, metadata={"description": "stripe or sepa"})
    attempt = fields.Integer(dump_only=True)
    provider_ref = fields.String(dump_only=True, allow_none=True,
                                 metadata={"description": "The Stripe transfer, or the SEPA end-to-end id."})
    failure = fields.String(dump_only=True, allow_none=True)
    submitted_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    finished_at = fields.AwareDateTime(dump_only=True, allow_none=True)


class PayoutBatchSchema(Schema):
    id = fields.Integer(dump_only=True)
    currency = fields.String(dump_only=True)
    status = fields.Function(lambda batch: batch.status.value, dump_only=True)
    minimum_cents = fields.Integer(dump_only=True)
    created_by_id = fields.Integer(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    approved_by_id = fields.Integer(dump_only=True, allow_none=True)
    approved_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    submitted_by_id = fields.Integer(dump_only=True, allow_none=True)
    submitted_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    finished_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    carried_forward = fields.Dict(keys=fields.String(), values=fields.Integer(), dump_only=True)
    not_ready = fields.Dict(keys=fields.String(), values=fields.Integer(), dump_only=True)


class PayoutBatchDetailSchema(PayoutBatchSchema):
    items = fields.List(fields.Nested(PayoutItemSchema), dump_only=True)


class ReturnItemSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=3, max=300),
                           metadata={"example": "AC04 closed account"})
