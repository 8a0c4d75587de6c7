"""The expert's own data over the API: the export archive, and closing the account."""

from __future__ import annotations

from flask import request

from marketplace.accounts.models import Role
from marketplace.experts.own_data import closure, export
from marketplace.experts.own_data.schemas import CloseAccountSchema, ClosedSchema
from marketplace.web.api import api_blueprint, endpoint
from marketplace.web.downloads import attachment

blueprint = api_blueprint("expert_own_data_api", __name__)


@blueprint.get("/experts/me/export")
@endpoint("Everything held about the calling expert, as a zip (everything.json and a CSV per table); holding their "
          "bank details in full, it is audited as a read of them", roles=[Role.EXPERT], tags=["experts"],
          produces="application/zip")
def export_own_data(actor):
    archive = export.export_own_data(actor, ip=request.remote_addr)
    return attachment(archive.content, archive.filename, "application/zip")


@blueprint.post("/experts/me/close")
@endpoint("Close the calling expert's account for good (confirmed with their password): offline, open chats and "
          "future shifts handled, devices and sessions ended, personal data erased or pseudonymised; money already "
          "earned is still paid and invoiced", roles=[Role.EXPERT], body=CloseAccountSchema(),
          response=ClosedSchema(), tags=["experts"], errors=[409])
def close_account(actor, body):
    return closure.close_account(actor, body["password"], ip=request.remote_addr)
