"""Stripe Connect over HTTP: the expert's connected account and onboarding (JSON API), and Stripe's webhooks."""

from __future__ import annotations

from flask import Blueprint, request, url_for

from marketplace.accounts.models import Role
from marketplace.errors import DomainError, InvalidInput
from marketplace.extensions import csrf
from marketplace.payouts.rails import connect, webhooks
from marketplace.payouts.rails.schemas import StripeAccountSchema, StripeOnboardingSchema
from marketplace.web.api import api_blueprint, endpoint
from marketplace.web.problems import problem

api = api_blueprint("rails_api", __name__)
hooks = Blueprint("payout_webhooks", __name__)
csrf.exempt(hooks)


@api.get("/experts/me/stripe-account")
@endpoint("The calling expert's Stripe connected account, if any, and whether it can receive transfers",
          roles=[Role.EXPERT], response=StripeAccountSchema(), tags=["payouts"], errors=[409])
def own_stripe_account(actor):
    found = connect.refresh_own_account(actor)
    return found or {"account_id": None, "transfers_enabled": False, "details_submitted": False}


@api.post("/experts/me/stripe-account")
@endpoint("Start (or resume) Stripe onboarding: the address to send the expert to", roles=[Role.EXPERT],
          response=StripeOnboardingSchema(), tags=["payouts"], errors=[409])
def start_stripe_onboarding(actor):
    back = url_for("earnings.own_earnings", _external=True)
    return {"url": connect.start_onboarding(actor, refresh_url=url_for("rails.stripe_onboarding", _external=True),
                                            return_url=back + "?stripe=done")}


@hooks.post("/webhooks/stripe")
def stripe_webhook():
    """Stripe's events: signature checked, each event applied once; 2xx tells Stripe not to send it again."""
    try:
        outcome = webhooks.handle(request.get_data(), request.headers.get("Stripe-Signature"))
    except DomainError as error:  # a bad signature is a 400, as Stripe's documentation has it; nothing is recorded
        return problem(400 if isinstance(error, InvalidInput) else error.status, error.title, str(error.message),
                       {error.field: [str(error.message)]} if error.field else None)
    return {"received": True, "outcome": outcome}
