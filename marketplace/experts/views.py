"""Pages for experts (sign up, home, profile, brands and quizzes, presence) and a brand's applicants page."""

from __future__ import annotations

import math
import time

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale, gettext, ngettext
from flask_limiter import RequestLimit
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user
from markupsafe import Markup
from wtforms import SelectChoice

from marketplace.accounts.models import User
from marketplace.brands import services as brands
from marketplace.brands.console import brand_page
from marketplace.brands.services import BrandAccess
from marketplace.errors import DomainError, InvalidInput
from marketplace.experts import enrolments, presence, quiz_attempts, services, vetting
from marketplace.experts.forms import (
    ApplyForm,
    BrandEnrolmentSettingsForm,
    DecisionForm,
    PayoutForm,
    PresenceForm,
    ProfileForm,
    QuizForm,
    SignUpForm,
)
from marketplace.experts.models import EnrolmentStatus, ExpertProfile, ExpertStatus
from marketplace.extensions import limiter
from marketplace.notifications import services as notifications
from marketplace.skills import services as skills
from marketplace.web.forms import refusals_shown
from marketplace.web.roles import role_required

blueprint = Blueprint("experts", __name__)


def _skill_choices() -> list[tuple[str, str]]:
    locale = str(get_locale() or "en")
    return [(skill.slug, skill.name_in(locale)) for skill in skills.list_skills()]


# Sign-up limits per address: only refused attempts count towards the first two, so people who get it right
# are never slowed down, and one person's mistakes (their address and the e-mail they typed) do not lock
# out others behind the same address until everyone's refusals together reach the second.
SIGNUP_REFUSALS_PER_PERSON = "20 per hour"
SIGNUP_REFUSALS_PER_ADDRESS = "100 per hour"
SIGNUP_ACCOUNTS_PER_ADDRESS = "50 per hour"  # a room of new experts on one network fits; a bot farm does not


def _refused(response: Response) -> bool:
    return response.status_code not in (302, 429)


def _signed_up(response: Response) -> bool:
    return response.status_code == 302


def _person_key() -> str:
    return f"signup-person:{get_remote_address()}:{request.form.get('email', '').strip().lower()[:254]}"


def _signup_form() -> SignUpForm:
    form = SignUpForm()
    form.fill_choices(_skill_choices())
    return form


def _too_many_attempts(limit: RequestLimit) -> Response:
    """Answer 429 with the form as it was typed (never the password), saying when to try again."""
    seconds = max(math.ceil(limit.reset_at - time.time()), 1)
    minutes = math.ceil(seconds / 60)
    form = _signup_form()
    form.form_errors.append(ngettext(
        "You have tried many times in a short while. What you typed is kept below: please try again in "
        "%(num)d minute.",
        "You have tried many times in a short while. What you typed is kept below: please try again in "
        "%(num)d minutes.", minutes))
    response = make_response(render_template("experts/signup.html", form=form), 429)
    response.headers["Retry-After"] = str(seconds)
    return response


@blueprint.route("/signup", methods=["GET", "POST"])
@limiter.limit(SIGNUP_REFUSALS_PER_PERSON, methods=["POST"], key_func=_person_key, deduct_when=_refused,
               on_breach=_too_many_attempts)
@limiter.limit(SIGNUP_REFUSALS_PER_ADDRESS, methods=["POST"], deduct_when=_refused, on_breach=_too_many_attempts)
@limiter.limit(SIGNUP_ACCOUNTS_PER_ADDRESS, methods=["POST"], deduct_when=_signed_up, on_breach=_too_many_attempts)
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("web.index"))
    form = _signup_form()
    if request.method == "GET":
        form.country.data = form.country.data or "FR"
    elif user := _sign_up(form):
        login_user(user)
        return redirect(url_for("experts.home"))
    return render_template("experts/signup.html", form=form), 422 if form.errors else 200


def _sign_up(form: SignUpForm) -> User | None:
    """Open the account, or name every field refused, by the form's own checks and the service's, at once."""
    typed = (form.email.data, form.password.data, form.full_name.data, form.display_name.data or None)
    complete = form.validate()
    with refusals_shown(form):  # the form's own checks and the service's, every field at once
        if complete:
            return services.sign_up_expert(*typed, profile=form.profile_data(), locale=str(get_locale()),
                                           ip=request.remote_addr)
        services.check_sign_up(*typed, profile=form.profile_data())
    return None


@blueprint.get("/expert")
@role_required("expert")
def home():
    profile = services.own_profile(current_user)
    # Panels are templates other domains rendered (e.g. today's shifts), already escaped.
    panels = [Markup(panel(profile)) for panel in current_app.extensions.get("expert_home_panels", [])]  # noqa: S704
    return render_template(
        "experts/home.html", profile=profile, presence=presence.presence_of(profile.id),
        standings=[s for s in enrolments.brand_standings(current_user) if s.enrolment is not None],
        panels=panels, presence_form=PresenceForm(),
        notifications=notifications.list_notifications(current_user, limit=10),
        unread=notifications.unread_count(current_user),
    )


@blueprint.post("/expert/presence")
@role_required("expert")
def set_presence():
    form = PresenceForm()
    if not form.validate_on_submit() or form.status.data not in ("available", "offline"):
        abort(400, description=gettext("Choose to go online or offline."))
    with refusals_shown():
        if form.status.data == "available":
            presence.go_online(current_user)
            flash(gettext("You are online: chats can reach you now."), "success")
        else:
            presence.go_offline(current_user)
            flash(gettext("You are offline: no chat will reach you."), "info")
    return redirect(url_for("experts.home"))


@blueprint.route("/expert/profile", methods=["GET", "POST"])
@role_required("expert")
def profile():
    expert = services.own_profile(current_user)
    form = ProfileForm(obj=None if request.method == "POST" else expert)
    form.fill_choices(_skill_choices())
    if request.method == "GET":
        form.skills.data = [skill.slug for skill in expert.skills]
    if form.validate_on_submit():
        changes = {"display_name": form.display_name.data, **form.profile_data()}
        with refusals_shown(form):
            if form.resubmit.data:
                vetting.resubmit(current_user, changes, ip=request.remote_addr)
                flash(gettext("Thank you: your application is back with our team, who will review it again. "
                              "We sent you an e-mail to confirm it."), "success")
                return redirect(url_for("experts.home"))
            services.update_own_profile(current_user, changes)
            flash(gettext("Your profile is saved."), "success")
            return redirect(url_for("experts.profile"))
    return _render_profile(expert, form, PayoutForm(formdata=None), submitted=request.method == "POST")


def _render_profile(expert: ExpertProfile, form: ProfileForm, payout_form: PayoutForm, *, submitted: bool):
    """The profile page; `submitted` when the profile form was sent and refused (its error summary shows)."""
    status = 200 if not (form.errors or payout_form.errors) else 422
    flagged = _flag_rejected_fields(expert, form)
    return render_template("experts/profile.html", profile=expert, form=form, payout_form=payout_form,
                           payout=services.payout_summary(current_user), flagged=flagged,
                           submitted=submitted), status


def _flag_rejected_fields(expert: ExpertProfile, form: ProfileForm) -> list:
    """Show a rejection's reason next to each field it names (the page shows it above the form otherwise)."""
    if expert.status != ExpertStatus.REJECTED or not expert.status_reason:
        return []
    flagged = [form[name] for name in expert.status_fields or [] if name in form]
    for field in flagged:
        field.errors = [*field.errors, gettext("Our team's reason: %(reason)s", reason=expert.status_reason)]
    return flagged


@blueprint.post("/expert/profile/payout")
@role_required("expert")
def payout():
    expert = services.own_profile(current_user)
    payout_form = PayoutForm()
    if payout_form.validate_on_submit():
        with refusals_shown(payout_form):
            services.set_payout_details(current_user, payout_form.account_holder.data, payout_form.iban.data,
                                        payout_form.bic.data, ip=request.remote_addr)
            flash(gettext("Your payout details are saved."), "success")
            return redirect(url_for("experts.profile"))
    form = ProfileForm(formdata=None, obj=expert)
    form.fill_choices(_skill_choices())
    form.skills.data = [skill.slug for skill in expert.skills]
    return _render_profile(expert, form, payout_form, submitted=False)


@blueprint.route("/expert/brands", methods=["GET", "POST"])
@role_required("expert")
def brand_list():
    expert = services.own_profile(current_user)
    standings = enrolments.brand_standings(current_user)
    form = ApplyForm()
    form.brand_ids.choices = [SelectChoice(s.brand.id, s.brand.name) for s in standings if s.enrolment is None]
    if form.validate_on_submit():
        with refusals_shown(form):
            applied = enrolments.apply_to_brands(current_user, form.brand_ids.data or [], ip=request.remote_addr)
            flash(gettext("You applied to %(count)d brand(s).", count=len(applied)), "success")
            return redirect(url_for("experts.brand_list"))
    return render_template("experts/brands.html", profile=expert, standings=standings, form=form,
                           can_apply=expert.may_apply), 200 if not form.errors else 422


@blueprint.route("/expert/brands/<slug>/quiz", methods=["GET", "POST"])
@role_required("expert")
def quiz(slug: str):
    brand = next((s.brand for s in enrolments.brand_standings(current_user) if s.brand.slug == slug), None)
    if brand is None:
        abort(404)
    form = QuizForm()
    if form.validate_on_submit():
        answers = {key.removeprefix("question_"): value for key, value in request.form.items()
                   if key.startswith("question_")}
        try:
            if not form.attempt_id.data.isdigit():
                raise InvalidInput(gettext("Start the quiz again."), "attempt")
            result = quiz_attempts.submit_quiz(current_user, brand.id, int(form.attempt_id.data), answers,
                                               ip=request.remote_addr)
        except DomainError as error:
            if not (error.field or "").startswith("question_"):
                return render_template("experts/quiz.html", brand=brand, view=None, form=form,
                                       refusal=error.message), error.status
            flash(str(error.message), "error")
        else:
            return render_template("experts/quiz_result.html", brand=brand, result=result)
    try:
        view = quiz_attempts.start_quiz(current_user, brand.id)
    except DomainError as error:
        return render_template("experts/quiz.html", brand=brand, view=None, form=form, refusal=error.message)
    form.attempt_id.data = str(view.attempt_id)
    # An applicant under review may take the quiz; the page tells them the brand decides after vetting.
    return render_template("experts/quiz.html", brand=brand, view=view, form=form, refusal=None,
                           under_review=services.own_profile(current_user).under_review)


# The brand's side: its applicants.

@blueprint.route("/brands/<slug>/experts", methods=["GET", "POST"])
@brand_page()
def applicants(access: BrandAccess):
    brand = access.brand
    settings_form = BrandEnrolmentSettingsForm(obj=brand if request.method == "GET" else None)
    if request.method == "POST" and settings_form.validate_on_submit():
        brands.update_brand(current_user, brand.id, {"enrolment_approval": settings_form.enrolment_approval.data,
                                                     "allow_unbooked_online": settings_form.allow_unbooked_online.data})
        flash(gettext("Saved."), "success")
        return redirect(url_for("experts.applicants", slug=brand.slug))
    status = request.args.get("status") or None
    if status is not None and status not in {s.value for s in EnrolmentStatus}:
        status = None
    period = "all" if request.args.get("period") == "all" else "30d"
    applicants = enrolments.list_applicants(current_user, brand.id, EnrolmentStatus(status) if status else None)
    # The figures come from routing, a layer above this one, through the provider it registered.
    provider = current_app.extensions.get("expert_stats")
    approved = {a.profile.id for a in applicants if a.enrolment.status == EnrolmentStatus.APPROVED}
    stats = provider(current_user, brand.id, approved, days=None if period == "all" else 30) if provider else {}
    return render_template(
        "experts/applicants.html", brand=brand, is_admin=access.is_admin, status=status, period=period,
        applicants=applicants, stats=stats,
        decision_form=DecisionForm(formdata=None), settings_form=settings_form,
    )


@blueprint.post("/brands/<slug>/experts/<int:enrolment_id>")
@brand_page(admins_only=True)
def decide_applicant(access: BrandAccess, enrolment_id: int):
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400, description=gettext("Reload the page and try again."))
    with refusals_shown():
        enrolment = enrolments.decide_enrolment(current_user, access.brand.id, enrolment_id, form.action.data or "",
                                                form.reason.data or "", ip=request.remote_addr)
        if enrolment.status == EnrolmentStatus.APPROVED:
            message = gettext("Approved.")
        elif form.action.data == "remove":
            message = gettext("Removed: this expert gets none of your chats any more.")
        else:
            message = gettext("Turned down.")
        flash(message, "success")
    return redirect(url_for("experts.applicants", slug=access.brand.slug, status=request.args.get("status") or None))
