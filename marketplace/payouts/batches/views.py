"""Finance's payout pages: draft a batch, review and approve it, submit it, and follow its SEPA lines."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from marketplace.accounts import services as accounts
from marketplace.brands import services as brands
from marketplace.experts import services as experts
from marketplace.experts.models import ExpertStatus
from marketplace.payouts.batches import services as batches
from marketplace.payouts.batches import settlement, submission
from marketplace.payouts.forms import ActionForm, DraftForm
from marketplace.payouts.rails import sepa
from marketplace.web import downloads
from marketplace.web.forms import refusals_shown
from marketplace.web.roles import role_required

blueprint = Blueprint("payouts", __name__, url_prefix="/finance")
# Batch and item statuses as people read them (the API keeps the codes).
STATUS_LABELS = {
    "draft": _l("draft"), "approved": _l("approved"), "submitting": _l("submitting"), "paid": _l("paid"),
    "partially_failed": _l("partially failed"), "closed": _l("closed"), "cancelled": _l("cancelled"),
    "pending": _l("pending"), "submitted": _l("submitted"), "failed": _l("failed"), "reversed": _l("reversed"),
}


def status_label(status: object) -> str:
    code = getattr(status, "value", status)
    return str(STATUS_LABELS.get(code, code))


@blueprint.route("/", methods=["GET", "POST"])
@role_required("finance")
def home():
    form = DraftForm()
    form.minimum.currency = (form.currency.data or "EUR").upper()
    if form.validate_on_submit():
        with refusals_shown(form):
            batch = batches.create_draft(current_user, form.currency.data, form.minimum.cents or 0,
                                         ip=request.remote_addr)
            flash(gettext("Batch %(id)d drafted: another finance user reviews and approves it.", id=batch.id),
                  "success")
            return redirect(url_for("payouts.batch", batch_id=batch.id))
    return render_template(
        "payouts/home.html", form=form, batches=batches.list_batches(current_user),
        brands=brands.visible_brands(current_user),
        approved_experts=experts.count_by_status()[ExpertStatus.APPROVED],
    ), 422 if form.errors or form.form_errors else 200


@blueprint.get("/batches/<int:batch_id>")
@role_required("finance")
def batch(batch_id: int):
    found, items = batches.batch_items(current_user, batch_id)
    names = {profile.id: profile.display_name for profile in experts.profiles_by_id(
        {item.expert_id for item in items} | {int(k) for k in found.carried_forward} | {int(k) for k in found.not_ready}
    ).values()}
    people = accounts.users_by_id({found.created_by_id} | {found.approved_by_id, found.submitted_by_id} - {None})
    return render_template("payouts/batch.html", batch=found, items=items, names=names, people=people,
                           form=ActionForm(), may_approve=found.created_by_id != current_user.id,
                           sepa_waiting=any(i.rail.value == "sepa" and i.status.value == "submitted" for i in items),
                           has_sepa=any(i.rail.value == "sepa" and i.status.value in ("submitted", "paid")
                                        for i in items),
                           sepa_preparing=found.status.value == "submitting" and any(
                               i.rail.value == "sepa" and i.status.value == "pending" for i in items))


def _act(batch_id: int, action, done: str):
    if not ActionForm().validate_on_submit():
        abort(400, description=gettext("The form expired: open the batch again."))
    with refusals_shown():
        action(current_user, batch_id, ip=request.remote_addr)
        flash(str(done), "success")
    return redirect(url_for("payouts.batch", batch_id=batch_id))


@blueprint.post("/batches/<int:batch_id>/approve")
@role_required("finance")
def approve(batch_id: int):
    return _act(batch_id, batches.approve, _l("Batch approved: it can be submitted."))


@blueprint.post("/batches/<int:batch_id>/cancel")
@role_required("finance")
def cancel(batch_id: int):
    return _act(batch_id, batches.cancel, _l("Batch cancelled: its money stays payable for the next one."))


@blueprint.post("/batches/<int:batch_id>/submit")
@role_required("finance")
def submit(batch_id: int):
    return _act(batch_id, submission.submit, _l("Batch submitted: the transfers are on their way."))


@blueprint.post("/batches/<int:batch_id>/close")
@role_required("finance")
def close(batch_id: int):
    return _act(batch_id, batches.close, _l("Batch closed."))


@blueprint.post("/batches/<int:batch_id>/sepa-confirmation")
@role_required("finance")
def confirm_sepa(batch_id: int):
    return _act(batch_id, settlement.confirm_sepa, _l("The SEPA transfers are recorded as paid."))


@blueprint.get("/batches/<int:batch_id>/sepa.xml")
@role_required("finance")
def sepa_file(batch_id: int):
    with refusals_shown():
        document = settlement.sepa_file(current_user, batch_id, ip=request.remote_addr)
        return downloads.attachment(document, sepa.filename(batch_id), "application/xml")
    return redirect(url_for("payouts.batch", batch_id=batch_id))


@blueprint.post("/items/<int:item_id>/return")
@role_required("finance")
def return_item(item_id: int):
    if not ActionForm().validate_on_submit():
        abort(400, description=gettext("The form expired: open the batch again."))
    with refusals_shown():
        item = settlement.return_item(current_user, item_id, request.form.get("reason"), ip=request.remote_addr)
        flash(gettext("The line is recorded as returned: its money is payable again."), "success")
        return redirect(url_for("payouts.batch", batch_id=item.batch_id))
    batch_id = request.form.get("batch_id", type=int)
    return redirect(url_for("payouts.batch", batch_id=batch_id) if batch_id else url_for("payouts.home"))
