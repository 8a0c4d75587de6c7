"""Pages for finance staff."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange

from marketplace.accounts import services as accounts
from marketplace.brands import services as brands
from marketplace.brands.models import BrandRole
from marketplace.database import db
from marketplace.errors import DomainError
from marketplace.experts import services as experts
from marketplace.experts.models import ExpertStatus
from marketplace.payouts.batches import services as batches
from marketplace.payouts.batches import submission
from marketplace.payouts.earnings import disputes
from marketplace.payouts.earnings import services as earnings
from marketplace.payouts.rails import connect
from marketplace.payouts.rails import gateway as gateways
from marketplace.web import downloads
from marketplace.web.forms import MoneyField, show_error
from marketplace.web.params import IntegerField
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
expert_pages = Blueprint("earnings", __name__)


@expert_pages.get("/expert/earnings")
@role_required("expert")
def own_earnings():
    summary = earnings.own_earnings(current_user)
    names = {brand.id: brand.name for brand in brands.brands_by_id({line.brand_id for line in summary.by_brand}
                                                                     | {e.brand_id for e in summary.recent}).values()}
    stripe_account = connect.refresh_own_account(current_user) if request.args.get("stripe") == "done" \
        else connect.own_account(current_user)
    return render_template("payouts/earnings.html", summary=summary, brand_names=names,
                           hold_days=current_app.config["PAYOUT_HOLD_DAYS"], stripe_account=stripe_account,
                           stripe_available=gateways.configured(), form=BatchActionForm())


@expert_pages.route("/expert/earnings/stripe", methods=["GET", "POST"])
@role_required("expert")
def stripe_onboarding():
    """Send the expert to Stripe's onboarding (a POST from the page; a GET when Stripe's link expired)."""
    if request.method == "POST" and not BatchActionForm().validate_on_submit():
        abort(400, description=gettext("The form expired: open the page again."))
    if request.method == "GET" and connect.own_account(current_user) is None:  # a link only resumes
        return redirect(url_for("earnings.own_earnings"))
    try:
        address = connect.start_onboarding(
            current_user, refresh_url=url_for("earnings.stripe_onboarding", _external=True),
            return_url=url_for("earnings.own_earnings", stripe="done", _external=True))
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(url_for("earnings.own_earnings"))
    return redirect(address)


class DraftForm(FlaskForm):
    currency = StringField(_l("Currency"), default="EUR", validators=[DataRequired(), Length(min=3, max=3)],
                           description=_l("ISO 4217 code, e.g. EUR, CHF or GBP."))
    minimum = MoneyField(_l("Minimum payout"), max_cents=batches.MAX_MINIMUM_CENTS,
                         description=_l("Experts owed less are carried forward to the next batch."))
    submit = SubmitField(_l("Draft a batch"))


class BatchActionForm(FlaskForm):
    """Approve or cancel: the CSRF token is the only field."""


@blueprint.route("/", methods=["GET", "POST"])
@role_required("finance")
def home():
    form = DraftForm()
    form.minimum.currency = (form.currency.data or "EUR").upper()
    if form.validate_on_submit():
        try:
            batch = batches.create_draft(current_user, form.currency.data, form.minimum.cents or 0,
                                         ip=request.remote_addr)
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
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
                           form=BatchActionForm(), may_approve=found.created_by_id != current_user.id,
                           sepa_waiting=any(i.rail.value == "sepa" and i.status.value == "submitted" for i in items),
                           has_sepa=any(i.rail.value == "sepa" and i.status.value in ("submitted", "paid")
                                        for i in items),
                           sepa_preparing=found.status.value == "submitting" and any(
                               i.rail.value == "sepa" and i.status.value == "pending" for i in items))


def _act(batch_id: int, action, done: str):
    if not BatchActionForm().validate_on_submit():
        abort(400, description=gettext("The form expired: open the batch again."))
    try:
        action(current_user, batch_id, ip=request.remote_addr)
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
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
    return _act(batch_id, submission.close, _l("Batch closed."))


@blueprint.post("/batches/<int:batch_id>/sepa-confirmation")
@role_required("finance")
def confirm_sepa(batch_id: int):
    return _act(batch_id, submission.confirm_sepa, _l("The SEPA transfers are recorded as paid."))


@blueprint.get("/batches/<int:batch_id>/sepa.xml")
@role_required("finance")
def sepa_file(batch_id: int):
    try:
        document = submission.sepa_file(current_user, batch_id, ip=request.remote_addr)
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(url_for("payouts.batch", batch_id=batch_id))
    return downloads.attachment(document, submission.sepa_filename(batch_id), "application/xml")


@blueprint.post("/items/<int:item_id>/return")
@role_required("finance")
def return_item(item_id: int):
    if not BatchActionForm().validate_on_submit():
        abort(400, description=gettext("The form expired: open the batch again."))
    try:
        item = submission.return_item(current_user, item_id, request.form.get("reason"), ip=request.remote_addr)
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        batch_id = request.form.get("batch_id", type=int)
        return redirect(url_for("payouts.batch", batch_id=batch_id) if batch_id else url_for("payouts.home"))
    flash(gettext("The line is recorded as returned: its money is payable again."), "success")
    return redirect(url_for("payouts.batch", batch_id=item.batch_id))


# --- Disputes (brand admins) and reviews (finance, ops) ----------------------------------------------------

class DisputeForm(FlaskForm):
    conversation_id = IntegerField(_l("Conversation number"),
                                   validators=[DataRequired(), NumberRange(min=1, max=2**63 - 1)],
                                   description=_l("As shown in the Conversations tab."))
    reason = TextAreaField(_l("What went wrong"), validators=[DataRequired(), Length(min=3, max=500)])
    submit = SubmitField(_l("Dispute the chat"))


@expert_pages.route("/brands/<slug>/disputes", methods=["GET", "POST"])
@role_required("brand", "ops", "finance")
def brand_disputes(slug: str):
    brand = brands.get_brand_by_slug(current_user, slug)
    may_dispute = brands.brand_role(current_user, brand.id) == BrandRole.ADMIN
    if request.method == "POST" and not may_dispute:
        abort(403)
    form = DisputeForm()
    if form.validate_on_submit():
        try:
            disputes.dispute(current_user, brand.id, form.conversation_id.data, form.reason.data,
                             ip=request.remote_addr)
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            flash(gettext("Chat %(id)d is disputed: its earning stays held until finance decides.",
                          id=form.conversation_id.data), "success")
            return redirect(url_for("earnings.brand_disputes", slug=slug))
    return render_template("payouts/disputes.html", brand=brand, form=form,
                           disputes=disputes.brand_disputes(current_user, brand.id),
                           may_dispute=may_dispute,
                           hold_days=current_app.config["PAYOUT_HOLD_DAYS"]), 422 if form.errors else 200


@blueprint.get("/review")
@role_required("finance", "ops")
def review():
    waiting = disputes.waiting_review(current_user)
    names = {profile.id: profile.display_name for profile in
             experts.profiles_by_id({earning.expert_id for earning in waiting}).values()}
    brand_names = {brand.id: brand.name for brand in brands.brands_by_id({e.brand_id for e in waiting}).values()}
    return render_template("payouts/review.html", waiting=waiting, names=names, brand_names=brand_names,
                           form=BatchActionForm())


def _decide(earning_id: int, decide, done: str):
    if not BatchActionForm().validate_on_submit():
        abort(400, description=gettext("The form expired: open the page again."))
    try:
        decide(current_user, earning_id, request.form.get("note"), ip=request.remote_addr)
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        flash(str(done), "success")
    return redirect(url_for("payouts.review"))


@blueprint.post("/review/<int:earning_id>/release")
@role_required("finance", "ops")
def release_earning(earning_id: int):
    return _decide(earning_id, disputes.release, _l("Released: it is paid with the next batch after its hold."))


@blueprint.post("/review/<int:earning_id>/reverse")
@role_required("finance", "ops")
def reverse_earning(earning_id: int):
    return _decide(earning_id, disputes.reverse, _l("Reversed: the expert is not paid for this chat and the brand "
                                                    "does not owe it."))
