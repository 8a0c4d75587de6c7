"""JSON API for experts: their own profile."""

from __future__ import annotations

from marketplace.accounts.models import Role
from marketplace.experts import services
from marketplace.experts.schemas import ExpertProfileSchema, ExpertProfileUpdateSchema
from marketplace.web.api import api_blueprint, endpoint

blueprint = api_blueprint("experts_api", __name__)


@blueprint.get("/experts/me")
@endpoint("The calling expert's profile", roles=[Role.EXPERT], response=ExpertProfileSchema(), tags=["experts"])
def own_profile(actor):
    return services.own_profile(actor)


@blueprint.patch("/experts/me")
@endpoint("Change the calling expert's profile", roles=[Role.EXPERT], body=ExpertProfileUpdateSchema(),
          response=ExpertProfileSchema(), tags=["experts"])
def update_own_profile(actor, body):
    return services.update_own_profile(actor, body)
