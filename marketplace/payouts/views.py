"""Pages for finance staff."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length

from marketplace.accounts import services as accounts
from marketplace.brands import services as brands
from marketplace.database import db
from marketplace.errors import DomainError
from marketplace.experts import services as experts
from marketplace.experts.models import ExpertStatus
from marketplace.payouts import batches, earnings
from marketplace.web.forms import MoneyField, show_error
from marketplace.web.roles import role_required

blueprint = Blueprint("payouts", __name__, url_prefix="/finance")
expert_pages = Blueprint("earnings", __name__)


@expert_pages.get("/expert/earnings")
@role_required("expert")
def own_earnings():
    summary = earnings.own_earnings(current_user)
    names = {brand.id: brand.name for brand in brands.brands_by_id({line.brand_id for line in summary.by_brand}
                                                                     | {e.brand_id for e in summary.recent}).values()}
    return render_template("payouts/earnings.html", summary=summary, brand_names=names,
                           hold_days=current_app.config["PAYOUT_HOLD_DAYS"])


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
    people = accounts.users_by_id({found.created_by_id} | ({found.approved_by_id} if found.approved_by_id else set()))
    return render_template("payouts/batch.html", batch=found, items=items, names=names, people=people,
                           form=BatchActionForm(), may_approve=found.created_by_id != current_user.id)


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
