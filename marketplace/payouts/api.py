"""The payouts JSON API: the expert's own earnings, and finance's payout batches."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request

from marketplace.accounts.models import Role
from marketplace.payouts import batches, earnings
from marketplace.payouts.models import PayoutBatch, PayoutItem
from marketplace.payouts.schemas import (
    BatchCreateSchema,
    EarningsSummarySchema,
    PayoutBatchDetailSchema,
    PayoutBatchSchema,
)
from marketplace.web.api import api_blueprint, endpoint

api = api_blueprint("payouts_api", __name__)


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
          roles=FINANCE, body=BatchCreateSchema(), response=PayoutBatchSchema(), status=201, tags=["payouts"])
def create_batch(actor, body):
    return batches.create_draft(actor, body["currency"], body["minimum_cents"], ip=request.remote_addr)


@api.get("/payout-batches/<int:batch_id>")
@endpoint("A batch and its items", roles=FINANCE, response=PayoutBatchDetailSchema(), tags=["payouts"])
def get_batch(actor, batch_id: int):
    return BatchDetail(*batches.batch_items(actor, batch_id))


@api.post("/payout-batches/<int:batch_id>/approve")
@endpoint("Approve a draft (a finance user other than its creator)", roles=FINANCE, response=PayoutBatchSchema(),
          tags=["payouts"])
def approve_batch(actor, batch_id: int):
    return batches.approve(actor, batch_id, ip=request.remote_addr)


@api.post("/payout-batches/<int:batch_id>/cancel")
@endpoint("Cancel a batch not yet submitted", roles=FINANCE, response=PayoutBatchSchema(), tags=["payouts"])
def cancel_batch(actor, batch_id: int):
    return batches.cancel(actor, batch_id, ip=request.remote_addr)
