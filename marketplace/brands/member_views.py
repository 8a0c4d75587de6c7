"""A brand's people: members, invitations by e-mail, and accepting an invitation."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user
from flask_wtf import FlaskForm

from marketplace.accounts.language import browser_language
from marketplace.accounts.models import Role
from marketplace.brands import members, services
from marketplace.brands.console import brand_page
from marketplace.brands.forms import InvitationActionForm, InviteForm, JoinForm, MemberForm, SignUpForm
from marketplace.brands.schemas import InvitationSchema, InviteSchema, MemberRoleSchema, MemberSchema
from marketplace.brands.services import BrandAccess
from marketplace.errors import Conflict, InvalidInput
from marketplace.extensions import limiter
from marketplace.web.api import api_blueprint, endpoint
from marketplace.web.forms import refusals_shown

blueprint = Blueprint("members", __name__)
api = api_blueprint("members_api", __name__)


# The members page: everyone of the brand sees who is in it; admins invite, change roles and remove.

@blueprint.route("/brands/<slug>/members", methods=["GET", "POST"], endpoint="members")
@brand_page()
def members_page(access: BrandAccess):
    brand = access.brand
    form = InviteForm()
    if form.validate_on_submit():
        with refusals_shown(form):
            invitation = members.invite_member(current_user, brand.id, form.email.data, form.role.data,
                                               ip=request.remote_addr)
            flash(gettext("An invitation is on its way to %(email)s.", email=invitation.email), "success")
            return redirect(url_for("members.members", slug=brand.slug))
    return render_template(
        "brands/members.html", brand=brand, form=form, is_admin=access.is_admin,
        members=services.list_members(current_user, brand.id),
        invitations=members.list_invitations(current_user, brand.id) if access.is_admin else [],
    ), 422 if form.errors or form.form_errors else 200


def _posted_id(form: FlaskForm, name: str) -> int:
    value = getattr(form, name).data or ""
    if not form.validate_on_submit() or not value.isdigit():
        abort(400, description=gettext("Choose whom this applies to."))
    return int(value)


@blueprint.post("/brands/<slug>/members/role")
@brand_page(admins_only=True)
def change_role(access: BrandAccess):
    form = MemberForm()
    user_id = _posted_id(form, "user_id")
    with refusals_shown(refusals=(Conflict, InvalidInput)):
        member = members.change_member_role(current_user, access.brand.id, user_id, form.role.data or "",
                                            ip=request.remote_addr)
        flash(gettext("%(name)s is now %(role)s.", name=member.full_name or member.email,
                      role=members.ROLE_IN_MAIL[member.role]), "success")
    return redirect(url_for("members.members", slug=access.brand.slug))


@blueprint.post("/brands/<slug>/members/remove")
@brand_page(admins_only=True)
def remove(access: BrandAccess):
    brand = access.brand
    user_id = _posted_id(MemberForm(), "user_id")
    with refusals_shown(refusals=Conflict):
        members.remove_member(current_user, brand.id, user_id, ip=request.remote_addr)
        if user_id == current_user.id:
            flash(gettext("You left %(brand)s.", brand=brand.name), "info")
            return redirect(url_for("web.index"))
        flash(gettext("The member is removed: they no longer see %(brand)s.", brand=brand.name), "success")
    return redirect(url_for("members.members", slug=brand.slug))


def _on_invitation(access: BrandAccess, action, done: str):
    """Resend or withdraw an invitation from the members page (admins), then back to it with the outcome."""
    invitation_id = _posted_id(InvitationActionForm(), "invitation_id")
    with refusals_shown(refusals=Conflict):
        invitation = action(current_user, access.brand.id, invitation_id, ip=request.remote_addr)
        flash(done % {"email": invitation.email}, "success")
    return redirect(url_for("members.members", slug=access.brand.slug))


@blueprint.post("/brands/<slug>/invitations/resend")
@brand_page(admins_only=True)
def resend(access: BrandAccess):
    return _on_invitation(access, members.resend_invitation,
                          _l("A new link is on its way to %(email)s; the previous one no longer works."))


@blueprint.post("/brands/<slug>/invitations/revoke")
@brand_page(admins_only=True)
def revoke(access: BrandAccess):
    return _on_invitation(access, members.revoke_invitation,
                          _l("The invitation to %(email)s is withdrawn; its link no longer works."))


# Accepting an invitation: the page its e-mailed link opens.

def _accept_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _failed(response) -> bool:
    """Only failed attempts count, as on the log-in page: the limit slows guessing, not people who join."""
    return response.status_code != 302


@blueprint.route("/invitations/<secret>", methods=["GET", "POST"])
@limiter.limit(_accept_limit, methods=["POST"], deduct_when=_failed)
def accept(secret: str):
    found = members.invitation_for_secret(secret)
    user = current_user if current_user.is_authenticated else None
    refusal = members.refusal_for(user, found.invitation) if user is not None else None
    form = JoinForm() if user is not None else SignUpForm()
    if form.validate_on_submit():
        new_account = {"full_name": form.full_name.data, "password": form.password.data} if user is None else {}
        # A refused account gets the service's Forbidden, shown as a page that says why.
        with refusals_shown(form, refusals=(Conflict, InvalidInput)):
            accepted = members.accept_invitation(secret, user=user, ip=request.remote_addr,
                                                 locale=browser_language(), **new_account)
            if accepted.created_account:
                login_user(accepted.user)
            flash(gettext("Welcome to %(brand)s.", brand=accepted.brand.name), "success")
            return redirect(url_for("brands.overview", slug=accepted.brand.slug))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("brands/invitation.html", found=found, form=form, refusal=refusal,
                           login_url=url_for("accounts.login", next=request.path)), status


# JSON API: the same actions for a brand's people (API tokens may read members, never manage them).

PEOPLE = [Role.OPS, Role.BRAND]


@api.patch("/brands/<int:brand_id>/members/<int:user_id>")
@endpoint("Make a member admin or viewer (admins); the last admin stays an admin", roles=PEOPLE,
          body=MemberRoleSchema(), response=MemberSchema(), tags=["brands"], errors=[409])
def change_member_role(actor, brand_id: int, user_id: int, body):
    return members.change_member_role(actor, brand_id, user_id, body["role"], ip=request.remote_addr)


@api.delete("/brands/<int:brand_id>/members/<int:user_id>")
@endpoint("Remove a member (admins); an admin may leave while another admin remains", roles=PEOPLE,
          status=204, tags=["brands"], errors=[409])
def remove_member(actor, brand_id: int, user_id: int):
    members.remove_member(actor, brand_id, user_id, ip=request.remote_addr)


@api.get("/brands/<int:brand_id>/invitations")
@endpoint("Invitations that can still be accepted, newest first (admins)", roles=PEOPLE,
          response=InvitationSchema(many=True), tags=["brands"])
def list_invitations(actor, brand_id: int):
    return members.list_invitations(actor, brand_id)


@api.post("/brands/<int:brand_id>/members")  # adding a member is inviting them: the same call at either path
@api.post("/brands/<int:brand_id>/invitations")
@endpoint("Invite a person by e-mail to join as admin or viewer (admins); the link is valid for 7 days",
          roles=PEOPLE, body=InviteSchema(), response=InvitationSchema(), status=201, tags=["brands"], errors=[409])
def invite(actor, brand_id: int, body):
    return members.invite_member(actor, brand_id, body["email"], body["role"], ip=request.remote_addr)


@api.post("/brands/<int:brand_id>/invitations/<int:invitation_id>/resend")
@endpoint("Mail a fresh link valid for 7 more days (admins); the previous link stops working", roles=PEOPLE,
          response=InvitationSchema(), tags=["brands"], errors=[409])
def resend_invitation(actor, brand_id: int, invitation_id: int):
    return members.resend_invitation(actor, brand_id, invitation_id, ip=request.remote_addr)


@api.delete("/brands/<int:brand_id>/invitations/<int:invitation_id>")
@endpoint("Withdraw an invitation (admins): its link stops working", roles=PEOPLE, response=InvitationSchema(),
          tags=["brands"], errors=[409])
def revoke_invitation(actor, brand_id: int, invitation_id: int):
    return members.revoke_invitation(actor, brand_id, invitation_id, ip=request.remote_addr)
