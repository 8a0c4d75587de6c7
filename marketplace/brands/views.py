"""Pages for brand staff: their brands, a brand's overview, program, closures, rate card, quiz and API tokens."""

from __future__ import annotations

import datetime as dt

from babel import Locale
from babel.dates import get_day_names
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date, get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from marketplace.brands import opening, program, quizzes, services
from marketplace.brands import rates as rate_cards
from marketplace.brands.console import brand_page
from marketplace.brands.forms import (
    ApiTokenForm,
    CancelRateForm,
    ClosureForm,
    ProgramForm,
    QuizForm,
    RateForm,
    RemoveClosureForm,
    RevokeTokenForm,
)
from marketplace.brands.models import BrandRole
from marketplace.brands.services import BrandAccess
from marketplace.core import clock, quiz_text
from marketplace.core.routing import hours_from_text, hours_to_text
from marketplace.database import utcnow
from marketplace.errors import DomainError, InvalidInput
from marketplace.shared import money
from marketplace.web.forms import lines, refusals_shown
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
@brand_page()
def overview(access: BrandAccess):
    return render_template("brands/overview.html", brand=access.brand, is_admin=access.is_admin,
                           members=services.list_members(current_user, access.brand.id))


@blueprint.route("/brands/<slug>/tokens", methods=["GET", "POST"])
@brand_page(admins_only=True)
def tokens(access: BrandAccess):
    brand = access.brand
    form = ApiTokenForm()
    new_secret = None
    if form.validate_on_submit():
        with refusals_shown(form):
            new_secret = services.issue_api_token(current_user, brand.id, form.name.data,
                                                  BrandRole(form.role.data), ip=request.remote_addr).secret
            form = ApiTokenForm(formdata=None)
    return render_template(
        "brands/tokens.html", brand=brand, form=form, new_secret=new_secret,
        tokens=services.list_api_tokens(current_user, brand.id), revoke_form=RevokeTokenForm(),
    ), 200 if not form.errors else 422


@blueprint.post("/brands/<slug>/tokens/revoke")
@brand_page(admins_only=True)
def revoke_token(access: BrandAccess):
    brand = access.brand
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
@brand_page()
def quiz(access: BrandAccess):
    brand = access.brand
    saved = quizzes.get_quiz(current_user, brand.id)
    form = QuizForm(obj=saved if request.method == "GET" else None)
    if request.method == "GET":
        form.questions.data = quiz_text.format_quiz(saved.questions)
    if form.validate_on_submit():
        try:
            questions = quiz_text.parse(form.questions.data)
        except quiz_text.QuizTextError as error:
            form.questions.errors = [str(QUIZ_TEXT_ERRORS[error.message] % {"line": error.line})]
        else:
            # The service names nested fields (questions.2.choices): they show in the page's one box for them all.
            with refusals_shown(form):
                quizzes.set_quiz(current_user, brand.id, questions=questions,
                                 pass_mark_percent=form.pass_mark_percent.data, max_attempts=form.max_attempts.data,
                                 cooldown_hours=form.cooldown_hours.data)
                flash(gettext("The quiz is saved. Attempts begun on the old questions must start again."), "success")
                return redirect(url_for("brands.quiz", slug=brand.slug))
    return render_template("brands/quiz.html", brand=brand, form=form, saved=saved,
                           is_admin=access.is_admin), 200 if not form.errors else 422


# The program: what the brand offers, when, and how fast.

HOURS_ERROR = _l("Write the hours as 09:00-12:00, 14:00-18:00, or leave the day empty when closed.")


# The program's settings of asynchronous conversations (the visitor away), in the form as on the brand.
ASYNC_SETTINGS = ("async_expert_limit", "async_first_reply_minutes", "async_quiet_hours", "reopen_window_hours")
# How long the brand keeps its conversations' personal data (routing/retention/), edited on the same page.
PERSONAL_DATA_SETTINGS = ("retention_months",)


def _program_data(brand) -> dict:
    hours = brand.opening_hours or {}
    return {
        "topics": "\n".join(brand.topics or []), "languages": ", ".join(brand.languages or []),
        "always_open": brand.opening_hours is None,
        **{f"hours_{day}": hours_to_text(hours.get(day, [])) for day in ProgramForm.DAYS},
        "holiday_country": brand.holiday_country or "", "holiday_subdivision": brand.holiday_subdivision or "",
        **{name: getattr(brand, name) for name in (
            "service_level_percent", "service_level_seconds", "max_wait_seconds", "offer_timeout_seconds",
            "inactivity_close_minutes", "expert_concurrency", "allow_unbooked_online", *ASYNC_SETTINGS,
            *PERSONAL_DATA_SETTINGS)},
        "enrolment_approval": brand.enrolment_approval.value,
    }


def _program_changes(form: ProgramForm) -> dict:
    """The form as the service's changes; raises DomainError naming the day whose hours it cannot read."""
    hours = None
    if not form.always_open.data:
        hours = {}
        for day in ProgramForm.DAYS:
            try:
                hours[day] = hours_from_text(getattr(form, f"hours_{day}").data)
            except ValueError:
                raise DomainError(HOURS_ERROR, f"hours_{day}") from None
    return {
        "topics": lines(form.topics.data), "opening_hours": hours,
        "languages": [code.strip() for code in (form.languages.data or "").split(",") if code.strip()],
        "holiday_country": form.holiday_country.data, "holiday_subdivision": form.holiday_subdivision.data,
        **{name: getattr(form, name).data for name in (
            "service_level_percent", "service_level_seconds", "max_wait_seconds", "offer_timeout_seconds",
            "inactivity_close_minutes", "expert_concurrency", "enrolment_approval", "allow_unbooked_online",
            *ASYNC_SETTINGS, *PERSONAL_DATA_SETTINGS)},
    }


def _country_choices() -> list[tuple[str, str]]:
    names = Locale.parse(str(get_locale() or "en")).territories
    codes = sorted(opening.supported_countries(), key=lambda code: names.get(code, code))
    return [("", gettext("No public holidays")), *((code, names.get(code, code)) for code in codes)]


@blueprint.route("/brands/<slug>/program", methods=["GET", "POST"], endpoint="program")
@brand_page()
def program_settings(access: BrandAccess):
    brand = access.brand
    form = ProgramForm(data=_program_data(brand))
    form.holiday_country.choices = _country_choices()
    if form.validate_on_submit():
        with refusals_shown(form):
            program.update_program(current_user, brand.id, _program_changes(form))
            flash(gettext("The program is saved; it applies to the next chat."), "success")
            return redirect(url_for("brands.program", slug=brand.slug))
    status = 422 if form.errors or form.form_errors else 200
    return render_template(
        "brands/program.html", brand=brand, form=form, is_admin=access.is_admin, status=status,
        closures=opening.closed_days(current_user, brand.id), closure_form=ClosureForm(formdata=None),
        remove_form=RemoveClosureForm(formdata=None), day_names=_day_names(),
    ), status


def _day_names() -> dict[str, str]:
    names = get_day_names("wide", locale=str(get_locale() or "en"))
    return {day: names[index] for index, day in enumerate(ProgramForm.DAYS)}


@blueprint.post("/brands/<slug>/closures")
@brand_page(admins_only=True)
def add_closure(access: BrandAccess):
    brand = access.brand
    form = ClosureForm()
    if not form.validate_on_submit():
        flash(gettext("Choose the day to close."), "error")
    else:
        with refusals_shown():
            opening.add_closure(current_user, brand.id, form.day.data, form.reason.data or "")
            flash(gettext("Closed on %(day)s.", day=format_date(form.day.data, "full")), "success")
    return redirect(url_for("brands.program", slug=brand.slug) + "#closures")


@blueprint.post("/brands/<slug>/closures/remove")
@brand_page(admins_only=True)
def remove_closure(access: BrandAccess):
    brand = access.brand
    form = RemoveClosureForm()
    if not form.validate_on_submit() or not form.closure_id.data.isdigit():
        abort(400, description=gettext("Choose a closure to remove."))
    opening.remove_closure(current_user, brand.id, int(form.closure_id.data))
    flash(gettext("The closure is removed."), "success")
    return redirect(url_for("brands.program", slug=brand.slug) + "#closures")


# The rate card: what the brand pays per answered chat, from which day.

@blueprint.route("/brands/<slug>/rates", methods=["GET", "POST"])
@brand_page()
def rates(access: BrandAccess):
    brand = access.brand
    is_ops = str(current_user.role) == "ops"
    history = rate_cards.rate_history(current_user, brand.id)
    current = next((view.card for view in history if view.state == rate_cards.CardState.IN_EFFECT), None)
    tomorrow = clock.local_day(utcnow(), brand.timezone) + dt.timedelta(days=1)
    form = RateForm(data={"effective_from": tomorrow,
                          "commission_percent": money.percent(current.commission_bps if current else None)})
    form.price.currency = form.rating_bonus.currency = form.reply_bonus.currency = brand.currency
    if form.validate_on_submit():
        with refusals_shown(form, fields=RATE_FIELDS):
            commission = _bps(form.commission_percent.data) if is_ops else None
            rate_cards.schedule_rate(current_user, brand.id, effective_from=form.effective_from.data,
                                     price_cents=form.price.cents, commission_bps=commission,
                                     bonus_rules=form.bonus_rules())
            flash(gettext("The new rate is scheduled from %(day)s.", day=format_date(form.effective_from.data,
                                                                                      "full")), "success")
            return redirect(url_for("brands.rates", slug=brand.slug))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("brands/rates.html", brand=brand, form=form, is_admin=access.is_admin, is_ops=is_ops,
                           history=history, current=current, cancel_form=CancelRateForm(formdata=None),
                           bonus_kinds=BONUS_LABELS), status


RATE_FIELDS = {"price_cents": "price", "commission_bps": "commission_percent", "bonus_rules": "rating_at_least"}
BONUS_LABELS = {"rating_at_least": _l("rated at least %(n)s of 5"),
                "first_reply_within": _l("first reply within %(n)s s")}


def _bps(text: str | None) -> int:
    """A percentage typed by a person ("12,5") as basis points (1250)."""
    try:
        return money.parse_percent(text)
    except ValueError as error:
        raise InvalidInput(error.args[0], "commission_bps") from None


@blueprint.post("/brands/<slug>/rates/cancel")
@brand_page(admins_only=True)
def cancel_rate(access: BrandAccess):
    brand = access.brand
    form = CancelRateForm()
    if not form.validate_on_submit() or not form.card_id.data.isdigit():
        abort(400, description=gettext("Choose a rate to cancel."))
    with refusals_shown():
        rate_cards.cancel_rate(current_user, brand.id, int(form.card_id.data))
        flash(gettext("The scheduled rate is cancelled."), "success")
    return redirect(url_for("brands.rates", slug=brand.slug))
