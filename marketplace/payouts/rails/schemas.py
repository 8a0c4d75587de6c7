"""What the Stripe Connect API answers: the expert's connected account and where its onboarding is."""

from __future__ import annotations

from marshmallow import fields

from marketplace.web.schemas import Schema


class StripeAccountSchema(Schema):
    account_id = fields.String(dump_only=True, allow_none=True)
    transfers_enabled = fields.Boolean(dump_only=True)
    details_submitted = fields.Boolean(dump_only=True)


class StripeOnboardingSchema(Schema):
    url = fields.String(dump_only=True, metadata={"description": "Stripe's onboarding page for this expert."})
