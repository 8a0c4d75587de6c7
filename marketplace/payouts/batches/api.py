"""The payouts JSON API: the expert's own earnings, and finance's payout batches."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, request, url_for

from marketplace.accounts.models import Role
from marketplace.database import db
from marketplace.errors import DomainError, InvalidInput
from marketplace.extensions import csrf
from marketplace.payouts.batches import services as batches
from marketplace.payouts.batches import submission
from marketplace.payouts.batches.schemas import (
    BatchCreateSchema,
    DisputeCreateSchema,
    EarningDecisionSchema,
    EarningSchema,
    EarningsSummarySchema,
    PayoutBatchDetailSchema,
    PayoutBatchSchema,
    PayoutItemSchema,
    ReturnItemSchema,
    StripeAccountSchema,
    StripeOnboardingSchema,
)
from marketplace.payouts.earnings import disputes
from marketplace.payouts.earnings import services as earnings
from marketplace.payouts.models import PayoutBatch, PayoutItem
from marketplace.payouts.rails import connect, webhooks
from marketplace.web import downloads
from marketplace.web.api import api_blueprint, endpoint
from marketplace.web.problems import problem

api = api_blueprint("payouts_api", __name__)
hooks = Blueprint("payout_webhooks", __name__)
csrf.exempt(hooks)


@api.get("/experts/me/earnings")
@endpoint("The calling expert's earnings: held, payable, in transit and paid, per brand, and the latest chats",
          roles=[Role.EXPERT], response=EarningsSummarySchema(), tags=["payouts"])
def own_earnings(actor):
    return earnings.own_earnings(actor)


FINANCE = [Role.FINANCE]


@dataclass(frozen=True)
class BatchDetail:
    batch: PayoutBatch
    items: list[PayoutItem]

    def __getattr__(self, name: str):
        return getattr(self.batch, name)


@api.get("/payout-batches")
@endpoint("Payout batches, newest first", roles=FINANCE, response=PayoutBatchSchema(many=True), tags=["payouts"])
def list_batches(actor):
    return batches.list_batches(actor)


@api.post("/payout-batches")
@endpoint("Draft a batch of everything payable in a currency from a minimum up (one open batch per currency)",
          roles=FINANCE, body=BatchCreateSchema(), response=PayoutBatchSchema(), status=201, tags=["payouts"],
          errors=[409])
def create_batch(actor, body):
    return batches.create_draft(actor, body["currency"], body["minimum_cents"], ip=request.remote_addr)


@api.get("/payout-batches/<int:batch_id>")
@endpoint("A batch and its items", roles=FINANCE, response=PayoutBatchDetailSchema(), tags=["payouts"])
def get_batch(actor, batch_id: int):
    return BatchDetail(*batches.batch_items(actor, batch_id))


@api.post("/payout-batches/<int:batch_id>/approve")
@endpoint("Approve a draft (a finance user other than its creator)", roles=FINANCE, response=PayoutBatchSchema(),
          tags=["payouts"], errors=[409])
def approve_batch(actor, batch_id: int):
    return batches.approve(actor, batch_id, ip=request.remote_addr)


@api.post("/payout-batches/<int:batch_id>/cancel")
@endpoint("Cancel a batch not yet submitted", roles=FINANCE, response=PayoutBatchSchema(), tags=["payouts"],
          errors=[409])
def cancel_batch(actor, batch_id: int):
    return batches.cancel(actor, batch_id, ip=request.remote_addr)


@api.post("/payout-batches/<int:batch_id>/submit")
@endpoint("Submit an approved batch: each item is paid once, by Stripe transfer or in the SEPA file; what is not "
          "done within seconds is finished by the minute's job", roles=FINANCE, response=PayoutBatchSchema(),
          tags=["payouts"], errors=[409])
def submit_batch(actor, batch_id: int):
    return submission.submit(actor, batch_id, ip=request.remote_addr)


@api.post("/payout-batches/<int:batch_id>/close")
@endpoint("File a paid or partially failed batch away", roles=FINANCE, response=PayoutBatchSchema(),
          tags=["payouts"], errors=[409])
def close_batch(actor, batch_id: int):
    return submission.close(actor, batch_id, ip=request.remote_addr)


@api.get("/payout-batches/<int:batch_id>/sepa.xml")
@endpoint("The batch's SEPA credit-transfer file (pain.001.001.03), the same every time it is fetched",
          roles=FINANCE, tags=["payouts"], errors=[409])
def sepa_file(actor, batch_id: int):
    return downloads.attachment(submission.sepa_file(actor, batch_id, ip=request.remote_addr),
                                submission.sepa_filename(batch_id), "application/xml")


@api.post("/payout-batches/<int:batch_id>/sepa-confirmation")
@endpoint("The bank executed the SEPA file: its submitted lines are paid", roles=FINANCE,
          response=PayoutBatchSchema(), tags=["payouts"], errors=[409])
def confirm_sepa(actor, batch_id: int):
    submission.confirm_sepa(actor, batch_id, ip=request.remote_addr)
    return batches.batch_items(actor, batch_id)[0]


@api.post("/payout-items/<int:item_id>/return")
@endpoint("The bank returned a SEPA line: the item fails and its money is payable again", roles=FINANCE,
          body=ReturnItemSchema(), response=PayoutItemSchema(), tags=["payouts"], errors=[409])
def return_item(actor, body, item_id: int):
    return submission.return_item(actor, item_id, body["reason"], ip=request.remote_addr)


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
    return {"url": connect.start_onboarding(actor, refresh_url=url_for("earnings.stripe_onboarding", _external=True),
                                            return_url=back + "?stripe=done")}


@hooks.post("/webhooks/stripe")
def stripe_webhook():
    """Stripe's events: signature checked, each event applied once; 2xx tells Stripe not to send it again."""
    try:
        outcome = webhooks.handle(request.get_data(), request.headers.get("Stripe-Signature"))
    except DomainError as error:  # a bad signature is a 400, as Stripe's documentation has it
        db.session.rollback()  # the event is not recorded: Stripe sends it again
        return problem(400 if isinstance(error, InvalidInput) else error.status, error.title, str(error.message),
                       {error.field: [str(error.message)]} if error.field else None)
    return {"received": True, "outcome": outcome}


@api.post("/brands/<int:brand_id>/disputes")
@endpoint("Dispute one of the brand's answered chats while its earning is held (brand admins)",
          roles=[Role.BRAND, Role.OPS], body=DisputeCreateSchema(), response=EarningSchema(), status=201,
          tags=["payouts"], errors=[409])
def create_dispute(actor, body, brand_id: int):
    return disputes.dispute(actor, brand_id, body["conversation_id"], body["reason"], ip=request.remote_addr)


@api.get("/brands/<int:brand_id>/disputes")
@endpoint("The brand's disputes, newest first, with their outcome", roles=[Role.BRAND, Role.OPS, Role.FINANCE],
          response=EarningSchema(many=True), tags=["payouts"])
def list_disputes(actor, brand_id: int):
    return disputes.brand_disputes(actor, brand_id)


REVIEWERS = [Role.FINANCE, Role.OPS]


@api.get("/earnings/review")
@endpoint("Held earnings a fraud check flagged or a brand disputed, waiting for a decision", roles=REVIEWERS,
          response=EarningSchema(many=True), tags=["payouts"])
def earnings_to_review(actor):
    return disputes.waiting_review(actor)


@api.post("/earnings/<int:earning_id>/release")
@endpoint("Clear a flagged or disputed earning: payable at the end of its hold", roles=REVIEWERS,
          body=EarningDecisionSchema(), response=EarningSchema(), tags=["payouts"], errors=[409])
def release_earning(actor, body, earning_id: int):
    return disputes.release(actor, earning_id, body["note"], ip=request.remote_addr)


@api.post("/earnings/<int:earning_id>/reverse")
@endpoint("Reverse an earning (dispute upheld, fraud) by reversing ledger transactions", roles=REVIEWERS,
          body=EarningDecisionSchema(), response=EarningSchema(), tags=["payouts"], errors=[409])
def reverse_earning(actor, body, earning_id: int):
    return disputes.reverse(actor, earning_id, body["note"], ip=request.remote_addr)
