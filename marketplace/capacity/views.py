"""The planner's pages: a brand's plan, ops' network view, and the expert's invitations and demand map."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup

from marketplace.brands import services as brands
from marketplace.capacity import planning, pool
from marketplace.capacity.schemas import PlanSchema
from marketplace.database import db, utcnow
from marketplace.errors import DomainError
from marketplace.experts.models import ExpertStatus
from marketplace.web.roles import role_required

blueprint = Blueprint("capacity", __name__)
DAYS_BACK, DAYS_AHEAD = 28, 7


class AnswerForm(FlaskForm):
    """Accept or decline: the CSRF token is the only field."""


def _day_asked(today: dt.date) -> dt.date:
    raw = request.args.get("day")
    if not raw:
        return today
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        abort(400, description=gettext("Choose a day as YYYY-MM-DD."))
    if not today - dt.timedelta(days=DAYS_BACK) <= day <= today + dt.timedelta(days=DAYS_AHEAD - 1):
        abort(400, description=gettext("Choose a day from four weeks ago to six days ahead."))
    return day


@blueprint.get("/brands/<slug>/planning")
@role_required("brand", "ops", "finance")
def plan(slug: str):
    brand = brands.get_brand_by_slug(current_user, slug)
    now = utcnow()
    today = now.astimezone(zoneinfo.ZoneInfo(brand.timezone)).date()
    day = _day_asked(today)
    found = planning.brand_plan(current_user, brand.id, day, now)
    decisions = pool.recent_decisions(current_user, brand.id) if day == today else []
    days = [today + dt.timedelta(days=offset) for offset in range(-1, DAYS_AHEAD)]
    return render_template("capacity/plan.html", brand=brand, plan=found, day=day, today=today, days=days,
                           tomorrow=today + dt.timedelta(days=1),
                           data=PlanSchema().dump(found), decisions=decisions)


@blueprint.get("/ops/capacity")
@role_required("ops")
def network():
    return render_template("capacity/network.html", rows=pool.network_overview(current_user))


@blueprint.route("/expert/invitations", methods=["GET"])
@role_required("expert")
def invitations():
    return render_template("capacity/invitations.html", invitations=pool.own_invitations(current_user),
                           form=AnswerForm(), now=utcnow(), window_ends_at=pool.window_ends_at,
                           minutes_left=pool.minutes_left)


def _answer(invitation_id: int, accept: bool):
    if not AnswerForm().validate_on_submit():
        abort(400, description=gettext("The form expired: open the invitation again."))
    try:
        if accept:
            invitation = pool.accept_invitation(current_user, invitation_id)
        else:
            pool.decline_invitation(current_user, invitation_id)
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(url_for("capacity.invitations"))
    if accept:
        flash(gettext("You are online for %(minutes)d minutes: chats come to you now.",
                      minutes=invitation.window_minutes), "success")
        return redirect(url_for("routing.inbox"))
    flash(gettext("Invitation declined. Thank you for answering."), "info")
    return redirect(url_for("capacity.invitations"))


@blueprint.post("/expert/invitations/<int:invitation_id>/accept")
@role_required("expert")
def accept(invitation_id: int):
    return _answer(invitation_id, accept=True)


@blueprint.post("/expert/invitations/<int:invitation_id>/decline")
@role_required("expert")
def decline(invitation_id: int):
    return _answer(invitation_id, accept=False)


@blueprint.get("/expert/demand")
@role_required("expert")
def demand():
    return render_template("capacity/demand.html", rows=planning.demand_for_expert(current_user))


def invitations_panel(profile) -> Markup:
    """The expert home page's card: open invitations, with the buttons to answer them."""
    if profile.status != ExpertStatus.APPROVED:
        return Markup("")
    found = [view for view in pool.own_invitations(current_user) if view.invitation.status == "pending"]
    if not found:
        return Markup("")
    # render_template escapes what it inserts; its output is safe HTML.
    return Markup(render_template("capacity/_home_panel.html", invitations=found, form=AnswerForm(),  # noqa: S704
                                  minutes_left=pool.minutes_left, now=utcnow()))
