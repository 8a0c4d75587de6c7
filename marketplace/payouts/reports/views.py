"""The finance console's reports: pages and CSV downloads (`finance_reports`), and the same under /api/v1.

Exports, the reconciliation with the payment provider and the money audit log; `exports`, `reconciliation`
and `audit_log` do the work. A bad date or filter gets the page again with the message by its field (422), or
problem+json on the API.
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from flask_login import current_user

from marketplace.accounts.models import Role
from marketplace.database import utcnow
from marketplace.errors import InvalidInput
from marketplace.payouts.batches import services as batches
from marketplace.payouts.reports import audit_log, exports, reconciliation
from marketplace.payouts.reports.schemas import (
    PayoutAuditFilter,
    PayoutAuditPageSchema,
    PayoutAuditQuery,
    PeriodQuery,
    ReconciliationQuery,
    ReconciliationSchema,
)
from marketplace.web import downloads
from marketplace.web.api import api_blueprint, endpoint
from marketplace.web.roles import role_required

blueprint = Blueprint("finance_reports", __name__, url_prefix="/finance")
api = api_blueprint("finance_reports_api", __name__)
FINANCE = [Role.FINANCE]


def _download(export: exports.Export) -> Response:
    """The export streamed as it is read (text/csv is sent as UTF-8); no shared cache keeps it."""
    return downloads.attachment(export.lines, export.filename, "text/csv")


# --- Pages ------------------------------------------------------------------------------------------------

def _exports_page(errors: dict[str, str] | None = None, status: int = 200):
    today = utcnow().date()
    values = {"from": request.args.get("from", today.replace(day=1).isoformat()),
              "to": request.args.get("to", today.isoformat())}
    return render_template("payouts/exports.html", values=values, errors=errors or {},
                           batches=batches.list_batches(current_user)), status


def _refused(error: InvalidInput) -> dict[str, str]:
    return {error.field or "": str(error.message)}


@blueprint.get("/exports", endpoint="exports")  # the function's name would hide the `exports` module
@role_required("finance")
def exports_page():
    return _exports_page()


@blueprint.get("/exports/ledger.csv")
@role_required("finance")
def ledger_csv():
    try:
        return _download(exports.ledger_csv(current_user, request.args.get("from"), request.args.get("to")))
    except InvalidInput as error:
        return _exports_page(_refused(error), 422)


@blueprint.get("/exports/earnings.csv")
@role_required("finance")
def earnings_csv():
    try:
        return _download(exports.earnings_csv(current_user, request.args.get("from"), request.args.get("to")))
    except InvalidInput as error:
        return _exports_page(_refused(error), 422)


@blueprint.get("/batches/<int:batch_id>/items.csv")
@role_required("finance")
def batch_items_csv(batch_id: int):
    return _download(exports.batch_items_csv(current_user, batch_id))


@blueprint.get("/reconciliation", endpoint="reconciliation")  # likewise the `reconciliation` module
@role_required("finance")
def reconciliation_page():
    since = request.args.get("since")
    try:
        report = reconciliation.reconcile(current_user, since)
    except InvalidInput as error:
        return render_template("payouts/reconciliation.html", report=None, since=since, errors=_refused(error)), 422
    return render_template("payouts/reconciliation.html", report=report, since=report.since.isoformat(), errors={})


@blueprint.get("/reconciliation.csv")
@role_required("finance")
def reconciliation_csv():
    since = request.args.get("since")
    try:
        return _download(reconciliation.reconciliation_csv(current_user, since))
    except InvalidInput as error:
        return render_template("payouts/reconciliation.html", report=None, since=since, errors=_refused(error)), 422


def _audit_filters() -> dict[str, str | None]:
    return {"kind": request.args.get("kind") or None, "batch_id": request.args.get("batch_id") or None}


@blueprint.get("/audit")
@role_required("finance")
def audit():
    filters = _audit_filters()
    try:
        page = audit_log.money_audit(current_user, **filters, before_id=request.args.get("before_id"))
    except InvalidInput as error:
        return render_template("payouts/audit.html", page=None, filters=filters, errors=_refused(error),
                               kinds=[]), 422
    return render_template("payouts/audit.html", page=page, filters=filters, errors={}, kinds=page.kinds)


@blueprint.get("/audit.csv")
@role_required("finance")
def audit_csv():
    filters = _audit_filters()
    try:
        return _download(audit_log.money_audit_csv(current_user, **filters))
    except InvalidInput as error:
        return render_template("payouts/audit.html", page=None, filters=filters, errors=_refused(error),
                               kinds=[]), 422


# --- The API ----------------------------------------------------------------------------------------------

@api.get("/reconciliation")
@endpoint("Our Stripe payouts since a day compared with the provider's transfers, totals per currency, and the "
          "SEPA lines to check against the bank statement", roles=FINANCE, query=ReconciliationQuery(),
          response=ReconciliationSchema(), tags=["finance reports"])
def api_reconciliation(actor, query):
    return reconciliation.reconcile(actor, query["since"])


@api.get("/reconciliation.csv")
@endpoint("The reconciliation's lines as CSV (`;`, UTF-8, amounts in cents and as 12.50)", roles=FINANCE,
          query=ReconciliationQuery(), tags=["finance reports"])
def api_reconciliation_csv(actor, query):
    return _download(reconciliation.reconciliation_csv(actor, query["since"]))


@api.get("/payout-batches/<int:batch_id>/items.csv")
@endpoint("A batch's items as CSV", roles=FINANCE, tags=["finance reports"])
def api_batch_items_csv(actor, batch_id: int):
    return _download(exports.batch_items_csv(actor, batch_id))


@api.get("/exports/ledger.csv")
@endpoint("The ledger's entries of the transactions recorded in a period (UTC days) as CSV", roles=FINANCE,
          query=PeriodQuery(), tags=["finance reports"])
def api_ledger_csv(actor, query):
    return _download(exports.ledger_csv(actor, query["first"], query["last"]))


@api.get("/exports/earnings.csv")
@endpoint("The earnings of the chats closed in a period (UTC days) as CSV", roles=FINANCE, query=PeriodQuery(),
          tags=["finance reports"])
def api_earnings_csv(actor, query):
    return _download(exports.earnings_csv(actor, query["first"], query["last"]))


@api.get("/payout-audit-events")
@endpoint("The audit events about money (payout_*), newest first, 50 a page", roles=FINANCE,
          query=PayoutAuditQuery(), response=PayoutAuditPageSchema(), tags=["finance reports"])
def api_audit(actor, query):
    return audit_log.money_audit(actor, kind=query.get("kind"), batch_id=query.get("batch_id"),
                                 before_id=query.get("before_id"))


@api.get("/payout-audit-events.csv")
@endpoint("The audit events about money as CSV, with the same filters", roles=FINANCE, query=PayoutAuditFilter(),
          tags=["finance reports"])
def api_audit_csv(actor, query):
    return _download(audit_log.money_audit_csv(actor, kind=query.get("kind"), batch_id=query.get("batch_id")))
