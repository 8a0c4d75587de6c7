"""The payout batches JSON API: finance drafts, approves, submits and closes batches and follows their SEPA lines."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request

from marketplace.accounts.models import Role
from marketplace.payouts.batches import services as batches
from marketplace.payouts.batches import settlement, submission
from marketplace.payouts.batches.schemas import (
    BatchCreateSchema,
    PayoutBatchDetailSchema,
    PayoutBatchSchema,
    PayoutItemSchema,
    ReturnItemSchema,
)
from marketplace.payouts.models import PayoutBatch, PayoutItem
from marketplace.payouts.rails import sepa
from marketplace.web import downloads
from marketplace.web.api import api_blueprint, endpoint

api = api_blueprint("payouts_api", __name__)
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
    return batches.close(actor, batch_id, ip=request.remote_addr)


@api.get("/payout-batches/<int:batch_id>/sepa.xml")
@endpoint("The batch's SEPA credit-transfer file (pain.001.001.03), the same every time it is fetched",
          roles=FINANCE, tags=["payouts"], errors=[409])
def sepa_file(actor, batch_id: int):
    return downloads.attachment(settlement.sepa_file(actor, batch_id, ip=request.remote_addr),
                                sepa.filename(batch_id), "application/xml")


@api.post("/payout-batches/<int:batch_id>/sepa-confirmation")
@endpoint("The bank executed the SEPA file: its submitted lines are paid", roles=FINANCE,
          response=PayoutBatchSchema(), tags=["payouts"], errors=[409])
def confirm_sepa(actor, batch_id: int):
    settlement.confirm_sepa(actor, batch_id, ip=request.remote_addr)
    return batches.batch_items(actor, batch_id)[0]


@api.post("/payout-items/<int:item_id>/return")
@endpoint("The bank returned a SEPA line: the item fails and its money is payable again", roles=FINANCE,
          body=ReturnItemSchema(), response=PayoutItemSchema(), tags=["payouts"], errors=[409])
def return_item(actor, body, item_id: int):
    return settlement.return_item(actor, item_id, body["reason"], ip=request.remote_addr)
