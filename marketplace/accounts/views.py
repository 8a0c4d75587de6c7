"""Pages for logging in and out, resetting or changing a password, seeing one's sessions and choosing a language."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user, login_required, login_user, logout_user

from marketplace.accounts import services
from marketplace.accounts.auth import current_session_id
from marketplace.accounts.closure import AccountClosed
from marketplace.accounts.forms import ChangePasswordForm, ForgotPasswordForm, LoginForm, ResetPasswordForm
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
        try:
            user = services.authenticate(form.email.data, form.password.data, ip=request.remote_addr,
                                         locale=chosen or browser_language(), locale_chosen=chosen is not None)
        except AccountClosed as closed:
            form.form_errors.append(str(closed.message))
        else:
            if user is not None:
                login_user(user, remember=form.remember.data)
                return redirect(safe_next(form.next.data, url_for("web.index")))
            form.form_errors.append(gettext("Wrong e-mail or password."))
    return render_template("accounts/login.html", form=form), 200 if not form.errors else 422


@blueprint.post("/logout")
@login_required
def logout():
    services.log_out(current_user, session_id=current_session_id(), ip=request.remote_addr)
    logout_user()
    flash(gettext("You are logged out."), "info")
    return redirect(url_for("accounts.login"))


@blueprint.get("/account/sessions")
@login_required
def sessions():
    found = services.list_sessions(current_user, current_session_id=current_session_id())
    return render_template("accounts/sessions.html", sessions=found,
                           others=sum(1 for device in found if not device.current))


@blueprint.post("/account/sessions/<int:session_id>/end")
@login_required
def end_session(session_id: int):
    current = current_session_id()
    services.end_session(current_user, session_id, ip=request.remote_addr)
    if session_id == current:
        logout_user()
        flash(gettext("You are logged out."), "info")
        return redirect(url_for("accounts.login"))
    flash(gettext("That device is logged out."), "info")
    return redirect(url_for("accounts.sessions"))


@blueprint.post("/account/sessions/end-others")
@login_required
def end_other_sessions():
    ended = services.end_other_sessions(current_user, current_session_id=current_session_id(),
                                        ip=request.remote_addr)
    flash(ngettext("%(num)d other device is logged out.", "%(num)d other devices are logged out.", ended), "info")
    return redirect(url_for("accounts.sessions"))


@blueprint.route("/account/password", methods=["GET", "POST"])
@login_required
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed)
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current_password.data, form.password.data,
                                     current_session_id=current_session_id(), ip=request.remote_addr)
        except InvalidInput as error:
            show_error(form, error)
        else:
            flash(gettext("Your password is changed. Your other devices are logged out."), "success")
            return redirect(url_for("accounts.sessions"))
    return render_template("accounts/change_password.html", form=form), 200 if not form.errors else 422


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
