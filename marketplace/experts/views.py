"""Pages for experts: sign up, and home."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_user

from marketplace.errors import DomainError
from marketplace.experts import services
from marketplace.experts.forms import SignUpForm
from marketplace.extensions import limiter
from marketplace.web.forms import show_error
from marketplace.web.roles import role_required

blueprint = Blueprint("experts", __name__)


@blueprint.route("/signup", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("web.index"))
    form = SignUpForm()
    if form.validate_on_submit():
        try:
            user = services.sign_up_expert(form.email.data, form.password.data, form.full_name.data,
                                           form.display_name.data or None, ip=request.remote_addr)
        except DomainError as error:
            show_error(form, error)
        else:
            login_user(user)
            return redirect(url_for("experts.home"))
    return render_template("experts/signup.html", form=form), 200 if not form.errors else 422


@blueprint.get("/expert")
@role_required("expert")
def home():
    profile = services.own_profile(current_user)
    return render_template("experts/home.html", profile=profile)
