"""Earnings pages: the expert's money, a brand's disputes, and finance and ops reviewing held earnings."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from marketplace.brands import services as brands
from marketplace.brands.console import brand_page
from marketplace.brands.services import BrandAccess
from marketplace.experts import services as experts
from marketplace.payouts.earnings import disputes
from marketplace.payouts.earnings import services as earnings
from marketplace.payouts.forms import ActionForm, DisputeForm
from marketplace.payouts.rails import connect
from marketplace.payouts.rails import gateway as gateways
from marketplace.payouts.tax import services as tax
from marketplace.web.forms import refusals_shown
from marketplace.web.roles import role_required

blueprint = Blueprint("earnings", __name__)


@blueprint.get("/expert/earnings")
@role_required("expert")
def own_earnings():
    summary = earnings.own_earnings(current_user)
    names = {brand.id: brand.name for brand in brands.brands_by_id({line.brand_id for line in summary.by_brand}
                                                                     | {e.brand_id for e in summary.recent}).values()}
    stripe_account = connect.refresh_own_account(current_user) if request.args.get("stripe") == "done" \
        else connect.own_account(current_user)
    return render_template("payouts/earnings.html", summary=summary, brand_names=names,
                           hold_days=current_app.config["PAYOUT_HOLD_DAYS"], stripe_account=stripe_account,
                           stripe_available=gateways.configured(), form=ActionForm(),
                           warnings=tax.own_ceiling_warnings(current_user))


# --- Disputes (brand admins) and reviews (finance, ops) ----------------------------------------------------

@blueprint.route("/brands/<slug>/disputes", methods=["GET", "POST"])
@brand_page()
def brand_disputes(access: BrandAccess):
    brand = access.brand
    form = DisputeForm()
    if form.validate_on_submit():
        with refusals_shown(form):
            disputes.dispute(current_user, brand.id, form.conversation_id.data, form.reason.data,
                             ip=request.remote_addr)
            flash(gettext("Chat %(id)d is disputed: its earning stays held until finance decides.",
                          id=form.conversation_id.data), "success")
            return redirect(url_for("earnings.brand_disputes", slug=brand.slug))
    return render_template("payouts/disputes.html", brand=brand, form=form,
                           disputes=disputes.brand_disputes(current_user, brand.id),
                           may_dispute=access.is_admin,
                           hold_days=current_app.config["PAYOUT_HOLD_DAYS"]), 422 if form.errors else 200


@blueprint.get("/finance/review")
@role_required("finance", "ops")
def review():
    waiting = disputes.waiting_review(current_user)
    names = {profile.id: profile.display_name for profile in
             experts.profiles_by_id({earning.expert_id for earning in waiting}).values()}
    brand_names = {brand.id: brand.name for brand in brands.brands_by_id({e.brand_id for e in waiting}).values()}
    return render_template("payouts/review.html", waiting=waiting, names=names, brand_names=brand_names,
                           form=ActionForm())


def _decide(earning_id: int, decide, done: str):
    if not ActionForm().validate_on_submit():
        abort(400, description=gettext("The form expired: open the page again."))
    with refusals_shown():
        decide(current_user, earning_id, request.form.get("note"), ip=request.remote_addr)
        flash(str(done), "success")
    return redirect(url_for("earnings.review"))


@blueprint.post("/finance/review/<int:earning_id>/release")
@role_required("finance", "ops")
def release_earning(earning_id: int):
    return _decide(earning_id, disputes.release, _l("Released: it is paid with the next batch after its hold."))


@blueprint.post("/finance/review/<int:earning_id>/reverse")
@role_required("finance", "ops")
def reverse_earning(earning_id: int):
    return _decide(earning_id, disputes.reverse, _l("Reversed: the expert is not paid for this chat and the brand "
                                                    "does not owe it."))
