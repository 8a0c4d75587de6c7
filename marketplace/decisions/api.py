"""JSON API: an expert's decisions and their requests for a human review."""

from __future__ import annotations

from typing import Any

from flask import request

from marketplace.accounts.models import Role
from marketplace.decisions import services
from marketplace.decisions.schemas import AutomatedDecisionListSchema, DecisionReviewRequestSchema, DecisionReviewSchema
from marketplace.web.api import api_blueprint, endpoint

blueprint = api_blueprint("decisions_api", __name__)


@blueprint.get("/experts/me/decisions")
@endpoint("The automated decisions about the calling expert's work and pay, newest first, each with its reason "
          "and any review", roles=[Role.EXPERT], response=AutomatedDecisionListSchema(), tags=["decisions"])
def my_decisions(actor) -> dict[str, Any]:
    return {"decisions": services.own_decisions(actor)}


@blueprint.post("/experts/me/decisions/<int:decision_id>/review")
@endpoint("Ask for a person to review one decision about the caller, with an optional comment; answered in "
          "writing within two weeks", roles=[Role.EXPERT], body=DecisionReviewRequestSchema(),
          response=DecisionReviewSchema(), status=201, errors=(409,), tags=["decisions"])
def ask_review(actor, decision_id: int, body):
    return services.request_review(actor, decision_id, body.get("comment") or "", ip=request.remote_addr)
