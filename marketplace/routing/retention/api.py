"""JSON call to erase one of the brand's contacts on their request."""

from __future__ import annotations

from flask import request

from marketplace.accounts.models import Role
from marketplace.routing.retention import services as retention
from marketplace.routing.retention.schemas import ErasedSchema
from marketplace.web.api import api_blueprint, endpoint

blueprint = api_blueprint("retention_api", __name__)


@blueprint.post("/brands/<int:brand_id>/contacts/<int:contact_id>/erase")
@endpoint("Erase one of the brand's contacts at once (admins): the text, files and identifiers of all the brand's "
          "conversations with them are removed and the contact deleted; audited. 409 while one of those "
          "conversations is still open", roles=[Role.OPS, Role.BRAND], response=ErasedSchema(), tags=["contacts"],
          errors=[409])
def erase(actor, brand_id: int, contact_id: int):
    return retention.erase_contact(actor, brand_id, contact_id, ip=request.remote_addr)
