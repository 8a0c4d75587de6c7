"""The finance console's reports: pages and CSV downloads (`finance_reports`), and the same under /api/v1.

Exports, the reconciliation with the payment provider and the money audit log; `reports` does the work.
A bad date or filter gets the page again with the message by its field (422), or problem+json on the API.
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from flask_login import current_user
from marshmallow import fields, validate

from marketplace.accounts import audit as audit_names
from marketplace.accounts.models import Role
from marketplace.database import db, utcnow
from marketplace.errors import InvalidInput
from marketplace.payouts.batches import services as batches
from marketplace.payouts.reports import exports as reports
from marketplace.web import downloads
from marketplace.web.api import api_blueprint, endpoint
from marketplace.web.roles import role_required
from marketplace.web.schemas import Schema

blueprint = Blueprint("finance_reports", __name__, url_prefix="/finance")
api = api_blueprint("finance_reports_api", __name__)
FINANCE = [Role.FINANCE]
BIGGEST_ID = 2**63 - 1


def _download(export: reports.Export) -> Response:
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
    db.session.rollback()
    return {error.field or "": str(error.message)}


@blueprint.get("/exports")
@role_required("finance")
def exports():
    return _exports_page()


@blueprint.get("/exports/ledger.csv")
@role_required("finance")
def ledger_csv():
    try:
        return _download(reports.ledger_csv(current_user, request.args.get("from"), request.args.get("to")))
    except InvalidInput as error:
        return _exports_page(_refused(error), 422)


@blueprint.get("/exports/earnings.csv")
@role_required("finance")
def earnings_csv():
    try:
        return _download(reports.earnings_csv(current_user, request.args.get("from"), request.args.get("to")))
    except InvalidInput as error:
        return _exports_page(_refused(error), 422)


@blueprint.get("/batches/<int:batch_id>/items.csv")
@role_required("finance")
def batch_items_csv(batch_id: int):
    return _download(reports.batch_items_csv(current_user, batch_id))


@blueprint.get("/reconciliation")
@role_required("finance")
def reconciliation():
    since = request.args.get("since")
    try:
        report = reports.reconcile(current_user, since)
    except InvalidInput as error:
        return render_template("payouts/reconciliation.html", report=None, since=since, errors=_refused(error)), 422
    return render_template("payouts/reconciliation.html", report=report, since=report.since.isoformat(), errors={})


@blueprint.get("/reconciliation.csv")
@role_required("finance")
def reconciliation_csv():
    since = request.args.get("since")
    try:
        return _download(reports.reconciliation_csv(current_user, since))
    except InvalidInput as error:
        return render_template("payouts/reconciliation.html", report=None, since=since, errors=_refused(error)), 422


def _audit_filters() -> dict[str, str | None]:
    return {"kind": request.args.get("kind") or None, "batch_id": request.args.get("batch_id") or None}


@blueprint.get("/audit")
@role_required("finance")
def audit():
    filters = _audit_filters()
    try:
        page = reports.money_audit(current_user, **filters, before_id=request.args.get("before_id"))
    except InvalidInput as error:
        return render_template("payouts/audit.html", page=None, filters=filters, errors=_refused(error),
                               kinds=[]), 422
    return render_template("payouts/audit.html", page=page, filters=filters, errors={}, kinds=page.kinds)


@blueprint.get("/audit.csv")
@role_required("finance")
def audit_csv():
    filters = _audit_filters()
    try:
        return _download(reports.money_audit_csv(current_user, **filters))
    except InvalidInput as error:
        return render_template("payouts/audit.html", page=None, filters=filters, errors=_refused(error),
                               kinds=[]), 422


# --- The API ----------------------------------------------------------------------------------------------

class PeriodQuery(Schema):
    first = fields.String(data_key="from", required=True, metadata={
        "description": "The first day, in UTC (YYYY-MM-DD).", "example": "2026-03-01"})
    last = fields.String(data_key="to", required=True, metadata={
        "description": "The last day, included, in UTC (YYYY-MM-DD); at most 366 days after `from`.",
        "example": "2026-03-31"})


class ReconciliationQuery(Schema):
    since = fields.String(load_default=None, metadata={
        "description": "The window's first day, in UTC (YYYY-MM-DD); 30 days back when not given, at most 366.",
        "example": "2026-03-01"})


class PayoutAuditFilter(Schema):
    kind = fields.String(validate=validate.Length(max=40), metadata={"example": "payout_batch_approved"})
    batch_id = fields.Integer(validate=validate.Range(min=1, max=BIGGEST_ID))


class PayoutAuditQuery(PayoutAuditFilter):
    before_id = fields.Integer(validate=validate.Range(min=1, max=BIGGEST_ID), metadata={
        "description": "The `next_before_id` of the previous page."})


class ReconciliationLineSchema(Schema):
    finding = fields.String(dump_only=True, metadata={
        "description": "matched, amount_mismatch, missing_at_provider, unknown_at_provider, "
                       "reversed_at_provider_not_in_ledger, or unchecked (the provider could not be asked)"})
    note = fields.String(dump_only=True, allow_none=True, metadata={
        "description": "For unknown_at_provider: in_flight (our item is still submitted), not_recorded, not_ours."})
    item_id = fields.Integer(dump_only=True, allow_none=True)
    batch_id = fields.Integer(dump_only=True, allow_none=True)
    expert_id = fields.Integer(dump_only=True, allow_none=True)
    expert_name = fields.String(dump_only=True, allow_none=True)
    item_status = fields.String(dump_only=True, allow_none=True)
    transfer_id = fields.String(dump_only=True, allow_none=True)
    currency = fields.String(dump_only=True)
    ours_cents = fields.Integer(dump_only=True, allow_none=True)
    theirs_cents = fields.Integer(dump_only=True, allow_none=True)
    reversed_cents = fields.Integer(dump_only=True)


class ReconciliationTotalsSchema(Schema):
    currency = fields.String(dump_only=True)
    ledger_paid_cents = fields.Integer(dump_only=True, metadata={"description": "payout_paid postings, both rails."})
    ledger_sepa_cents = fields.Integer(dump_only=True)
    ledger_stripe_cents = fields.Integer(dump_only=True)
    ledger_returned_cents = fields.Integer(dump_only=True)
    in_transit_cents = fields.Integer(dump_only=True, metadata={"description": "Sent and not settled, now."})
    provider_cents = fields.Integer(dump_only=True, allow_none=True)
    provider_reversed_cents = fields.Integer(dump_only=True, allow_none=True)
    difference_cents = fields.Integer(dump_only=True, allow_none=True, metadata={
        "description": "The provider's transfers less our Stripe payouts."})


class SepaPaidLineSchema(Schema):
    item_id = fields.Integer(dump_only=True)
    batch_id = fields.Integer(dump_only=True)
    expert_id = fields.Integer(dump_only=True)
    expert_name = fields.String(dump_only=True, allow_none=True)
    currency = fields.String(dump_only=True)
    amount_cents = fields.Integer(dump_only=True)
    end_to_end_id = fields.String(dump_only=True)
    finished_at = fields.AwareDateTime(dump_only=True, allow_none=True)


class ReconciliationSchema(Schema):
    since = fields.Date(dump_only=True)
    provider = fields.String(dump_only=True, metadata={"description": "checked, not_configured or unreachable"})
    provider_message = fields.String(dump_only=True, allow_none=True)
    lines = fields.List(fields.Nested(ReconciliationLineSchema), dump_only=True)
    totals = fields.List(fields.Nested(ReconciliationTotalsSchema), dump_only=True)
    sepa = fields.List(fields.Nested(SepaPaidLineSchema), dump_only=True, metadata={
        "description": "SEPA lines paid in the window, to check against the bank statement."})


class PayoutAuditEventSchema(Schema):
    id = fields.Integer(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    kind = fields.String(dump_only=True)
    actor_id = fields.Integer(dump_only=True, allow_none=True)
    actor_name = fields.Function(lambda e: e.actor.full_name if e.actor else None, dump_only=True, allow_none=True)
    actor_email = fields.Function(lambda e: e.actor.email if e.actor else None, dump_only=True, allow_none=True)
    actor_label = fields.Function(lambda e: audit_names.actor_name(e.kind, e.actor, e.detail), dump_only=True,
                                  metadata={"description": "Who did it, always set: the person's name, or the "
                                                           "system, the payment provider, ..."})
    kind_name = fields.Function(lambda e: audit_names.kind_name(e.kind), dump_only=True, metadata={
        "description": "What happened, in the request's language."})
    subject_id = fields.Integer(dump_only=True, allow_none=True)
    ip = fields.String(dump_only=True, allow_none=True)
    detail = fields.Dict(dump_only=True)


class PayoutAuditPageSchema(Schema):
    events = fields.List(fields.Nested(PayoutAuditEventSchema), dump_only=True)
    kinds = fields.List(fields.String(), dump_only=True)
    next_before_id = fields.Integer(dump_only=True, allow_none=True)


@api.get("/reconciliation")
@endpoint("Our Stripe payouts since a day compared with the provider's transfers, totals per currency, and the "
          "SEPA lines to check against the bank statement", roles=FINANCE, query=ReconciliationQuery(),
          response=ReconciliationSchema(), tags=["finance reports"])
def api_reconciliation(actor, query):
    return reports.reconcile(actor, query["since"])


@api.get("/reconciliation.csv")
@endpoint("The reconciliation's lines as CSV (`;`, UTF-8, amounts in cents and as 12.50)", roles=FINANCE,
          query=ReconciliationQuery(), tags=["finance reports"])
def api_reconciliation_csv(actor, query):
    return _download(reports.reconciliation_csv(actor, query["since"]))


@api.get("/payout-batches/<int:batch_id>/items.csv")
@endpoint("A batch's items as CSV", roles=FINANCE, tags=["finance reports"])
def api_batch_items_csv(actor, batch_id: int):
    return _download(reports.batch_items_csv(actor, batch_id))


@api.get("/exports/ledger.csv")
@endpoint("The ledger's entries of the transactions recorded in a period (UTC days) as CSV", roles=FINANCE,
          query=PeriodQuery(), tags=["finance reports"])
def api_ledger_csv(actor, query):
    return _download(reports.ledger_csv(actor, query["first"], query["last"]))


@api.get("/exports/earnings.csv")
@endpoint("The earnings of the chats closed in a period (UTC days) as CSV", roles=FINANCE, query=PeriodQuery(),
          tags=["finance reports"])
def api_earnings_csv(actor, query):
    return _download(reports.earnings_csv(actor, query["first"], query["last"]))


@api.get("/payout-audit-events")
@endpoint("The audit events about money (payout_*), newest first, 50 a page", roles=FINANCE,
          query=PayoutAuditQuery(), response=PayoutAuditPageSchema(), tags=["finance reports"])
def api_audit(actor, query):
    return reports.money_audit(actor, kind=query.get("kind"), batch_id=query.get("batch_id"),
                               before_id=query.get("before_id"))


@api.get("/payout-audit-events.csv")
@endpoint("The audit events about money as CSV, with the same filters", roles=FINANCE, query=PayoutAuditFilter(),
          tags=["finance reports"])
def api_audit_csv(actor, query):
    return _download(reports.money_audit_csv(actor, kind=query.get("kind"), batch_id=query.get("batch_id")))
