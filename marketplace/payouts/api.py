"""The payouts JSON API: the expert's own earnings."""

from __future__ import annotations

from marketplace.accounts.models import Role
from marketplace.payouts import earnings
from marketplace.payouts.schemas import EarningsSummarySchema
from marketplace.web.api import api_blueprint, endpoint

api = api_blueprint("payouts_api", __name__)


@api.get("/experts/me/earnings")
@endpoint("The calling expert's earnings: held, payable, in transit and paid, per brand, and the latest chats",
          roles=[Role.EXPERT], response=EarningsSummarySchema(), tags=["payouts"])
def own_earnings(actor):
    return earnings.own_earnings(actor)
