"""The earnings JSON API: the expert's own money, a brand's disputes, and the review of held earnings."""

from __future__ import annotations

from flask import request

from marketplace.accounts.models import Role
from marketplace.payouts.earnings import disputes
from marketplace.payouts.earnings import services as earnings
from marketplace.payouts.earnings.schemas import (
    DisputeCreateSchema,
    EarningDecisionSchema,
    EarningSchema,
    EarningsSummarySchema,
)
from marketplace.web.api import api_blueprint, endpoint

api = api_blueprint("earnings_api", __name__)
REVIEWERS = [Role.FINANCE, Role.OPS]


@api.get("/experts/me/earnings")
@endpoint("The calling expert's earnings: held, payable, in transit and paid, per brand, and the latest chats",
          roles=[Role.EXPERT], response=EarningsSummarySchema(), tags=["payouts"])
def own_earnings(actor):
    return earnings.own_earnings(actor)


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
