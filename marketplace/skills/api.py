"""JSON API for the skill taxonomy."""

from __future__ import annotations

from marketplace.accounts.models import Role
from marketplace.skills import services
from marketplace.skills.schemas import SkillCreateSchema, SkillSchema
from marketplace.web.api import api_blueprint, endpoint

blueprint = api_blueprint("skills_api", __name__)


@blueprint.get("/skills")
@endpoint("The product-skill taxonomy", roles=list(Role), response=SkillSchema(many=True), tags=["skills"])
def list_skills(actor):
    return services.list_skills()


@blueprint.post("/skills")
@endpoint("Add a skill to the taxonomy", roles=[Role.OPS], body=SkillCreateSchema(), response=SkillSchema(),
          status=201, tags=["skills"], errors=[409])
def create_skill(actor, body):
    return services.create_skill(actor, body["name_en"], body["name_fr"], body["category"], slug=body.get("slug"))
