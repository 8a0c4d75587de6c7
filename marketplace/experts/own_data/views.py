"""The expert app's pages for their own data: the download, and closing the account."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, logout_user

from marketplace.experts import services as experts
from marketplace.experts.own_data import closure, export
from marketplace.experts.own_data.forms import CloseAccountForm
from marketplace.web.downloads import attachment
from marketplace.web.forms import refusals_shown
from marketplace.web.roles import role_required

blueprint = Blueprint("expert_own_data", __name__)


@blueprint.get("/expert/my-data.zip")
@role_required("expert")
def download():
    archive = export.export_own_data(current_user, ip=request.remote_addr)
    return attachment(archive.content, archive.filename, "application/zip")


@blueprint.route("/expert/account/close", methods=["GET", "POST"])
@role_required("expert")
def close_account():
    profile = experts.own_profile(current_user)
    form = CloseAccountForm()
    if form.validate_on_submit():
        with refusals_shown(form):
            closed = closure.close_account(current_user, form.password.data, ip=request.remote_addr)
            logout_user()
            flash(gettext("Your account is closed. What you have earned will still be paid to your bank account; "
                          "you are now shown as “%(name)s”.", name=closed.pseudonym), "success")
            return redirect(url_for("accounts.login"))
    status = 422 if form.errors else 200
    return render_template("experts/close_account.html", form=form, profile=profile), status
