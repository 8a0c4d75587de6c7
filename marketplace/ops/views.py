"""Pages for ops staff."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role
from marketplace.brands import members as brand_members
from marketplace.brands import services as brands
from marketplace.experts import services as experts
from marketplace.experts import vetting
from marketplace.experts.forms import VettingDecisionForm
from marketplace.experts.models import ExpertStatus
from marketplace.ops.forms import BrandCreateForm, RoleForm
from marketplace.web.forms import refusals_shown
from marketplace.web.roles import role_required

blueprint = Blueprint("ops", __name__, url_prefix="/ops")


ROLE_NAMES = {Role.EXPERT: _l("Expert"), Role.BRAND: _l("Brand staff"), Role.FINANCE: _l("Finance"),
              Role.OPS: _l("Operations")}


@blueprint.get("/")
@role_required("ops")
def home():
    events = accounts.recent_audit_events(current_user, limit=20)
    return render_template(
        "ops/home.html",
        expert_counts=experts.count_by_status(),
        brand_count=len(brands.visible_brands(current_user)),
        events=events,
    )


@blueprint.get("/users")
@role_required("ops")
def users():
    return render_template("ops/users.html", users=accounts.list_users(current_user), form=RoleForm(),
                           roles=list(Role))


@blueprint.post("/users/role")
@role_required("ops")
def change_role():
    form = RoleForm()
    if form.validate_on_submit() and form.user_id.data.isdigit():
        user = accounts.change_role(current_user, int(form.user_id.data), Role(form.role.data),
                                    ip=request.remote_addr)
        flash(gettext("%(email)s is now %(role)s.", email=user.email, role=ROLE_NAMES[user.role]), "info")
    else:
        flash(gettext("Choose a user and a role."), "error")
    return redirect(url_for("ops.users"))


@blueprint.route("/brands", methods=["GET", "POST"], endpoint="brands")
@role_required("ops")
def brands_page():
    form = BrandCreateForm()
    if form.validate_on_submit():
        with refusals_shown(form):
            brand, invitation = brand_members.create_brand_with_admin(
                current_user, form.name.data, form.slug.data, form.timezone.data, form.currency.data,
                form.admin_email.data, ip=request.remote_addr)
            flash(gettext("%(brand)s is open; an invitation is on its way to %(email)s.", brand=brand.name,
                          email=invitation.email), "success")
            return redirect(url_for("ops.brands"))
    return render_template("ops/brands.html", brands=brands.visible_brands(current_user),
                           form=form), 422 if form.errors or form.form_errors else 200


# Vetting: the queue of applications and the decisions on one expert.

VETTING_TABS = ("applied", "approved", "suspended", "rejected")


@blueprint.get("/experts")
@role_required("ops")
def experts_queue():
    status = request.args.get("status", "applied")
    if status not in VETTING_TABS:
        status = "applied"
    return render_template("ops/experts.html", status=status, tabs=VETTING_TABS,
                           applications=vetting.list_applications(current_user, ExpertStatus(status)))


@blueprint.route("/experts/<int:expert_id>", methods=["GET", "POST"])
@role_required("ops")
def expert_detail(expert_id: int):
    form = VettingDecisionForm()
    if form.validate_on_submit():
        with refusals_shown(form):
            profile = vetting.decide(current_user, expert_id, form.action.data or "", form.reason.data or "",
                                     fields=form.concerns.data or None, ip=request.remote_addr)
            flash(gettext("Decision recorded: the expert is told by e-mail."), "success")
            return redirect(url_for("ops.experts_queue", status=profile.status.value))
    application = vetting.get_application(current_user, expert_id)
    field_labels = {choice.value: str(choice.label) for choice in form.concerns.choices}
    return render_template("ops/expert.html", application=application, form=form, field_labels=field_labels,
                           locale=str(get_locale() or "en")), 200 if not form.errors else 422
