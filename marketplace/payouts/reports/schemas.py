"""What the finance reports API reads (periods, filters) and answers (the reconciliation, the money audit log)."""

from __future__ import annotations

from marshmallow import fields, validate

from marketplace.accounts import audit as audit_names
from marketplace.database import ID_MAX
from marketplace.web.schemas import Schema


class PeriodQuery(Schema):
    first = fields.String(data_key="from", required=True, metadata={
        "description": "The first day, in UTC (YYYY-MM-DD).", "example": "2026-03-01"})
    last = fields.String(data_key="to", required=True, metadata={
        "description": "The last day, included, in UTC (YYYY-MM-DD); at most 366 days after `from`.",
        "example": "2026-03-31"})


class ReconciliationQuery(Schema):
    since = fields.String(load_default=None, metadata={
        "description": "The window's first day, in UTC (YYYY-MM-DD); 30 days back when not given, at most 366.",
        "example": "2026-03-01"})


class PayoutAuditFilter(Schema):
    kind = fields.String(validate=validate.Length(max=40), metadata={"example": "payout_batch_approved"})
    batch_id = fields.Integer(validate=validate.Range(min=1, max=ID_MAX))


class PayoutAuditQuery(PayoutAuditFilter):
    before_id = fields.Integer(validate=validate.Range(min=1, max=ID_MAX), metadata={
        "description": "The `next_before_id` of the previous page."})


class ReconciliationLineSchema(Schema):
    finding = fields.String(dump_only=True, metadata={
        "description": "matched, amount_mismatch, missing_at_provider, unknown_at_provider, "
                       "reversed_at_provider_not_in_ledger, or unchecked (the provider could not be asked)"})
    note = fields.String(dump_only=True, allow_none=True, metadata={
        "description": "For unknown_at_provider: in_flight (our item is still submitted), not_recorded, not_ours."})
    item_id = fields.Integer(dump_only=True, allow_none=True)
    batch_id = fields.Integer(dump_only=True, allow_none=True)
    expert_id = fields.Integer(dump_only=True, allow_none=True)
    expert_name = fields.String(dump_only=True, allow_none=True)
    item_status = fields.String(dump_only=True, allow_none=True)
    transfer_id = fields.String(dump_only=True, allow_none=True)
    currency = fields.String(dump_only=True)
    ours_cents = fields.Integer(dump_only=True, allow_none=True)
    theirs_cents = fields.Integer(dump_only=True, allow_none=True)
    reversed_cents = fields.Integer(dump_only=True)


class ReconciliationTotalsSchema(Schema):
    currency = fields.String(dump_only=True)
    ledger_paid_cents = fields.Integer(dump_only=True, metadata={"description": "payout_paid postings, both rails."})
    ledger_sepa_cents = fields.Integer(dump_only=True)
    ledger_stripe_cents = fields.Integer(dump_only=True)
    ledger_returned_cents = fields.Integer(dump_only=True)
    in_transit_cents = fields.Integer(dump_only=True, metadata={"description": "Sent and not settled, now."})
    provider_cents = fields.Integer(dump_only=True, allow_none=True)
    provider_reversed_cents = fields.Integer(dump_only=True, allow_none=True)
    difference_cents = fields.Integer(dump_only=True, allow_none=True, metadata={
        "description": "The provider's transfers less our Stripe payouts."})


class SepaPaidLineSchema(Schema):
    item_id = fields.Integer(dump_only=True)
    batch_id = fields.Integer(dump_only=True)
    expert_id = fields.Integer(dump_only=True)
    expert_name = fields.String(dump_only=True, allow_none=True)
    currency = fields.String(dump_only=True)
    amount_cents = fields.Integer(dump_only=True)
    end_to_end_id = fields.String(dump_only=True)
    finished_at = fields.AwareDateTime(dump_only=True, allow_none=True)


class ReconciliationSchema(Schema):
    since = fields.Date(dump_only=True)
    provider = fields.String(dump_only=True, metadata={"description": "checked, not_configured or unreachable"})
    provider_message = fields.String(dump_only=True, allow_none=True)
    lines = fields.List(fields.Nested(ReconciliationLineSchema), dump_only=True)
    totals = fields.List(fields.Nested(ReconciliationTotalsSchema), dump_only=True)
    sepa = fields.List(fields.Nested(SepaPaidLineSchema), dump_only=True, metadata={
        "description": "SEPA lines paid in the window, to check against the bank statement."})


class PayoutAuditEventSchema(Schema):
    id = fields.Integer(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    kind = fields.String(dump_only=True)
    actor_id = fields.Integer(dump_only=True, allow_none=True)
    actor_name = fields.Function(lambda e: e.actor.full_name if e.actor else None, dump_only=True, allow_none=True)
    actor_email = fields.Function(lambda e: e.actor.email if e.actor else None, dump_only=True, allow_none=True)
    actor_label = fields.Function(lambda e: audit_names.actor_name(e.kind, e.actor, e.detail), dump_only=True,
                                  metadata={"description": "Who did it, always set: the person's name, or the "
                                                           "system, the payment provider, ..."})
    kind_name = fields.Function(lambda e: audit_names.kind_name(e.kind), dump_only=True, metadata={
        "description": "What happened, in the request's language."})
    subject_id = fields.Integer(dump_only=True, allow_none=True)
    ip = fields.String(dump_only=True, allow_none=True)
    detail = fields.Dict(dump_only=True)


class PayoutAuditPageSchema(Schema):
    events = fields.List(fields.Nested(PayoutAuditEventSchema), dump_only=True)
    kinds = fields.List(fields.String(), dump_only=True)
    next_before_id = fields.Integer(dump_only=True, allow_none=True)
