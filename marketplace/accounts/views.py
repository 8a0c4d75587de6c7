"""Pages for logging in and out, resetting a password and choosing a language."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required, login_user, logout_user

from marketplace.accounts import services
from marketplace.accounts.forms import ForgotPasswordForm, LoginForm, ResetPasswordForm
from marketplace.accounts.language import browser_language, chosen_language
from marketplace.errors import InvalidInput
from marketplace.extensions import limiter
from marketplace.i18n import LOCALE_COOKIE
from marketplace.web.forms import show_error
from marketplace.web.views import safe_next

blueprint = Blueprint("accounts", __name__)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _failed(response) -> bool:
    """Only failed attempts count: the limit slows guessing, not people who log in."""
    return response.status_code != 302


def _login_email_key() -> str:
    return "login-email:" + request.form.get("email", "").strip().lower()[:254]


@blueprint.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed)
@limiter.limit(_login_limit, methods=["POST"], key_func=_login_email_key, deduct_when=_failed)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("web.index"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        chosen = chosen_language()
        user = services.authenticate(form.email.data, form.password.data, ip=request.remote_addr,
                                     locale=chosen or browser_language(), locale_chosen=chosen is not None)
        if user is not None:
            login_user(user, remember=form.remember.data)
            return redirect(safe_next(form.next.data, url_for("web.index")))
        form.form_errors.append(gettext("Wrong e-mail or password."))
    return render_template("accounts/login.html", form=form), 200 if not form.errors else 422


@blueprint.post("/logout")
@login_required
def logout():
    services.record_logout(current_user, ip=request.remote_addr)
    logout_user()
    flash(gettext("You are logged out."), "info")
    return redirect(url_for("accounts.login"))


@blueprint.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data, ip=request.remote_addr)
        flash(gettext("If an account uses this address, a link to reset its password is on its way."), "info")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot_password.html", form=form), 200 if not form.errors else 422


@blueprint.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.password.data, ip=request.remote_addr)
        except InvalidInput as error:
            if error.field == "token":
                flash(str(error.message), "error")
                return redirect(url_for("accounts.forgot_password"))
            show_error(form, error)
        else:
            logout_user()
            flash(gettext("Your password is changed. Log in with the new one."), "info")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_password.html", form=form), 200 if not form.errors else 422


@blueprint.post("/language")
def set_language():
    locale = request.form.get("locale", "")
    if locale not in current_app.config["LANGUAGES"]:
        abort(400, description="Unknown language.")
    if current_user.is_authenticated:
        services.set_locale(current_user, locale)
    response = redirect(safe_next(request.form.get("next"), url_for("web.index")))
    response.set_cookie(LOCALE_COOKIE, locale, max_age=365 * 24 * 3600, samesite="Lax",
                        secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True)
    return response
