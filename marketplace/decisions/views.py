"""Pages: how automated decisions are made, an expert's own decisions with their reviews, and the review queue
of ops and finance."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from marketplace.accounts.models import Role
from marketplace.decisions import explained, services
from marketplace.decisions.forms import ReviewAnswerForm, ReviewRequestForm
from marketplace.web.forms import refusals_shown
from marketplace.web.roles import role_required

blueprint = Blueprint("decisions", __name__)


@blueprint.get("/expert/decisions/how")
@role_required(Role.EXPERT)
def how():
    return render_template("decisions/how.html", explained=explained.how_decisions_are_made(current_user))


@blueprint.get("/expert/decisions")
@role_required(Role.EXPERT)
def mine():
    return render_template("decisions/mine.html", decisions=services.own_decisions(current_user),
                           form=ReviewRequestForm())


@blueprint.route("/expert/decisions/<int:decision_id>/review", methods=["GET", "POST"])
@role_required(Role.EXPERT)
def ask_review(decision_id: int):
    decision = services.own_decision(current_user, decision_id)
    form = ReviewRequestForm()
    if form.validate_on_submit():
        with refusals_shown(form):
            services.request_review(current_user, decision_id, form.comment.data or "", ip=request.remote_addr)
            flash(gettext("Your request is sent: a person will answer in writing within two weeks."), "success")
            return redirect(url_for("decisions.mine", _anchor=f"decision-{decision_id}"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("decisions/ask_review.html", decision=decision, form=form), status


@blueprint.get("/staff/decision-reviews")
@role_required(Role.OPS, Role.FINANCE)
def queue():
    answered = request.args.get("show") == "answered"
    return render_template("decisions/queue.html", reviews=services.review_queue(current_user, answered=answered),
                           answered=answered, form=ReviewAnswerForm())


@blueprint.post("/staff/decision-reviews/<int:review_id>/answer")
@role_required(Role.OPS, Role.FINANCE)
def answer(review_id: int):
    form = ReviewAnswerForm()
    if form.validate_on_submit():
        with refusals_shown(form):
            services.answer_review(current_user, review_id, form.answer.data or "", ip=request.remote_addr)
            flash(gettext("Your answer is sent to the expert."), "success")
            return redirect(url_for("decisions.queue"))
    # The answer stays in its box, with what is wrong next to it.
    return render_template("decisions/queue.html", reviews=services.review_queue(current_user), answered=False,
                           form=form, failed=review_id), 422
