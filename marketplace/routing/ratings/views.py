"""The rating pages: the expert's answered chats (contest a rating, report a visitor) and the brand's list."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from marketplace.brands.console import brand_page
from marketplace.brands.services import BrandAccess
from marketplace.errors import Conflict, InvalidInput, NotFound
from marketplace.experts import services as experts
from marketplace.routing.models import VisitorReportReason
from marketplace.routing.ratings import services as ratings
from marketplace.routing.ratings.forms import ContestForm, DecisionForm, ReportForm
from marketplace.web.forms import refusals_shown
from marketplace.web.roles import role_required

blueprint = Blueprint("ratings", __name__)

REASON_LABELS = {
    VisitorReportReason.INSULTS.value: _l("Insults"),
    VisitorReportReason.HARASSMENT.value: _l("Harassment"),
    VisitorReportReason.THREATS.value: _l("Threats"),
    VisitorReportReason.SPAM.value: _l("Spam or advertising"),
    VisitorReportReason.OTHER.value: _l("Something else"),
}
STATUS_LABELS = {"pending": _l("Waiting for the brand"), "kept": _l("Rating kept"), "removed": _l("Rating removed")}


@blueprint.get("/expert/ratings")
@role_required("expert")
def history():
    profile = experts.own_profile(current_user)
    return render_template("routing/ratings_expert.html", chats=ratings.expert_history(profile.id),
                           reasons=REASON_LABELS, statuses=STATUS_LABELS)


@blueprint.post("/expert/ratings/<int:conversation_id>/contest")
@role_required("expert")
def contest(conversation_id: int):
    form = ContestForm()
    if form.validate_on_submit():
        with refusals_shown(refusals=(InvalidInput, Conflict, NotFound)):
            ratings.contest_rating(experts.own_profile(current_user).id, conversation_id, form.reason.data)
            flash(gettext("Your contest is sent: the brand will answer it here."), "success")
    return redirect(url_for("ratings.history", _anchor=f"chat-{conversation_id}"))


@blueprint.post("/expert/ratings/<int:conversation_id>/report")
@role_required("expert")
def report(conversation_id: int):
    form = ReportForm()
    if form.validate_on_submit():
        with refusals_shown(refusals=(InvalidInput, Conflict, NotFound)):
            ratings.report_visitor(experts.own_profile(current_user).id, conversation_id, form.reason.data,
                                   form.comment.data)
            flash(gettext("Your report is sent to the brand."), "success")
    return redirect(url_for("ratings.history", _anchor=f"chat-{conversation_id}"))


@blueprint.get("/brands/<slug>/ratings", endpoint="brand_page")
@brand_page()
def brand_ratings(access: BrandAccess):
    brand = access.brand
    return render_template("routing/ratings_brand.html", brand=brand, can_decide=access.is_admin,
                           contests=ratings.brand_contests(current_user, brand.id),
                           reports=ratings.brand_reports(current_user, brand.id),
                           reasons=REASON_LABELS, statuses=STATUS_LABELS)


@blueprint.post("/brands/<slug>/ratings/<int:contest_id>/decision")
@brand_page()  # the brand's admins and ops decide; viewers only read (403)
def decide(access: BrandAccess, contest_id: int):
    form = DecisionForm()
    if form.validate_on_submit():
        with refusals_shown(refusals=(InvalidInput, Conflict)):
            ratings.decide_contest(current_user, access.brand.id, contest_id, form.decision.data, form.answer.data)
            flash(gettext("Your answer is sent to the expert."), "success")
    return redirect(url_for("ratings.brand_page", slug=access.brand.slug))
