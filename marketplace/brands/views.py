"""Pages for brand staff: their brands, a brand's overview, its API tokens."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from marketplace.brands import quizzes, services
from marketplace.brands.forms import ApiTokenForm, QuizForm, RevokeTokenForm
from marketplace.brands.models import BrandRole
from marketplace.core import quiz_text
from marketplace.errors import DomainError
from marketplace.web.forms import show_error
from marketplace.web.roles import role_required

blueprint = Blueprint("brands", __name__)


@blueprint.get("/brands")
@role_required("brand", "ops", "finance")
def home():
    brands = services.visible_brands(current_user)
    if len(brands) == 1 and str(current_user.role) == "brand":
        return redirect(url_for("brands.overview", slug=brands[0].slug))
    return render_template("brands/home.html", brands=brands)


@blueprint.get("/brands/<slug>")
@role_required("brand", "ops", "finance")
def overview(slug: str):
    brand = services.get_brand_by_slug(current_user, slug)
    return render_template(
        "brands/overview.html",
        brand=brand,
        members=services.list_members(current_user, brand.id),
        is_admin=services.brand_role(current_user, brand.id) == BrandRole.ADMIN,
    )


@blueprint.route("/brands/<slug>/tokens", methods=["GET", "POST"])
@role_required("brand", "ops")
def tokens(slug: str):
    brand = services.get_brand_by_slug(current_user, slug, need=BrandRole.ADMIN)
    form = ApiTokenForm()
    new_secret = None
    if form.validate_on_submit():
        try:
            new_secret = services.issue_api_token(current_user, brand.id, form.name.data,
                                                  BrandRole(form.role.data), ip=request.remote_addr).secret
        except DomainError as error:
            show_error(form, error)
        else:
            form = ApiTokenForm(formdata=None)
    return render_template(
        "brands/tokens.html", brand=brand, form=form, new_secret=new_secret,
        tokens=services.list_api_tokens(current_user, brand.id), revoke_form=RevokeTokenForm(),
    ), 200 if not form.errors else 422


@blueprint.post("/brands/<slug>/tokens/revoke")
@role_required("brand", "ops")
def revoke_token(slug: str):
    brand = services.get_brand_by_slug(current_user, slug, need=BrandRole.ADMIN)
    form = RevokeTokenForm()
    if not form.validate_on_submit() or not form.token_id.data.isdigit():
        abort(400, description=gettext("Choose a token to revoke."))
    token = services.revoke_api_token(current_user, brand.id, int(form.token_id.data), ip=request.remote_addr)
    flash(gettext("Token “%(name)s” is revoked; calls using it are now refused.", name=token.name), "info")
    return redirect(url_for("brands.tokens", slug=brand.slug))


QUIZ_TEXT_ERRORS = {
    "choice_without_question": _l("Line %(line)d: a choice comes before any question."),
    "choice_needs_marker": _l("Line %(line)d: start each choice with * (right answer) or - (wrong answer), "
                              "or leave an empty line before a new question."),
    "empty_choice": _l("Line %(line)d: write the choice after its * or -."),
}


@blueprint.route("/brands/<slug>/quiz", methods=["GET", "POST"])
@role_required("brand", "ops", "finance")
def quiz(slug: str):
    brand = services.get_brand_by_slug(current_user, slug)
    is_admin = services.brand_role(current_user, brand.id) == BrandRole.ADMIN
    saved = quizzes.get_quiz(current_user, brand.id)
    form = QuizForm(obj=saved if request.method == "GET" else None)
    if request.method == "GET":
        form.questions.data = quiz_text.format_quiz(saved.questions)
    if is_admin and form.validate_on_submit():
        try:
            questions = quiz_text.parse(form.questions.data)
            quizzes.set_quiz(current_user, brand.id, questions=questions, pass_mark_percent=form.pass_mark_percent.data,
                             max_attempts=form.max_attempts.data, cooldown_hours=form.cooldown_hours.data)
        except quiz_text.QuizTextError as error:
            form.questions.errors = [str(QUIZ_TEXT_ERRORS[error.message] % {"line": error.line})]
        except DomainError as error:
            # The service names nested fields (questions.2.choices); the page has one box for them all.
            field = "questions" if (error.field or "").startswith("questions") else error.field
            show_error(form, DomainError(error.message, field))
        else:
            flash(gettext("The quiz is saved. Attempts begun on the old questions must start again."), "success")
            return redirect(url_for("brands.quiz", slug=slug))
    elif request.method == "POST" and not is_admin:
        abort(403)
    return render_template("brands/quiz.html", brand=brand, form=form, saved=saved,
                           is_admin=is_admin), 200 if not form.errors else 422
