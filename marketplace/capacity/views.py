"""The planner's pages: a brand's plan, ops' network view, and the expert's invitations and demand map."""

from __future__ import annotations

import datetime as dt

from babel.dates import format_skeleton
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext, ngettext
from flask_login import current_user
from markupsafe import Markup

from marketplace.brands.console import brand_page
from marketplace.brands.services import BrandAccess
from marketplace.capacity import demand_map, planning, pool
from marketplace.capacity.forms import AnswerForm, OpenShiftsForm
from marketplace.capacity.schemas import NetworkQuarterSchema, PlanSchema
from marketplace.core import clock
from marketplace.database import utcnow
from marketplace.experts import enrolments
from marketplace.experts.models import EnrolmentStatus, ExpertStatus
from marketplace.shared import money
from marketplace.shifts import seats as shifts
from marketplace.web.forms import refusals_shown
from marketplace.web.roles import role_required

blueprint = Blueprint("capacity", __name__)
DAYS_BACK, DAYS_AHEAD = 28, 7


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


@blueprint.route("/brands/<slug>/planning", methods=["GET", "POST"])
@brand_page()
def plan(access: BrandAccess):
    brand = access.brand
    form = OpenShiftsForm()
    form.bonus.currency = brand.currency
    if not form.is_submitted():
        form.bonus.data = money.plain(brand.planner_bonus_cents, brand.currency)
    elif form.validate_on_submit():
        opened = planning.open_shifts_for_gaps(current_user, brand.id, bonus_cents=form.bonus.cents or 0)
        flash(ngettext("%(num)d shift opened for the coming days' gaps.",
                       "%(num)d shifts opened for the coming days' gaps.", len(opened)) if opened
              else gettext("No shift to open: the booked and opened seats cover every gap of the coming days."),
              "success")
        return redirect(url_for("capacity.plan", slug=brand.slug))
    now = utcnow()
    today = clock.local_day(now, brand.timezone)
    day = _day_asked(today)
    found = planning.brand_plan(current_user, brand.id, day, now)
    decisions = pool.recent_decisions(current_user, brand.id) if day == today else []
    days = [today + dt.timedelta(days=offset) for offset in range(-1, DAYS_AHEAD)]
    opened = shifts.planner_slots(brand.id, *day_bounds_of(brand, today + dt.timedelta(days=1), DAYS_AHEAD))
    return render_template("capacity/plan.html", brand=brand, plan=found, day=day, today=today, days=days,
                           tomorrow=today + dt.timedelta(days=1), form=form, is_admin=access.is_admin, opened=opened,
                           data=PlanSchema().dump(found), decisions=decisions), 422 if form.errors else 200


def day_bounds_of(brand, first: dt.date, days: int) -> tuple[dt.datetime, dt.datetime]:
    """The instants from the start of `first` to the end of the `days` days from it, on the brand's clock."""
    return clock.day_bounds(first, brand.timezone, days=days)


@blueprint.get("/ops/capacity")
@role_required("ops")
def network():
    timezone = current_app.config["BABEL_DEFAULT_TIMEZONE"]
    today = clock.local_day(utcnow(), timezone)
    quarters = planning.network_plan(current_user, today, timezone)
    return render_template("capacity/network.html", rows=pool.network_overview(current_user), timezone=timezone,
                           quarters=quarters, chart_data={"quarters": NetworkQuarterSchema(many=True).dump(quarters)})


@blueprint.route("/expert/invitations", methods=["GET"])
@role_required("expert")
def invitations():
    return render_template("capacity/invitations.html", invitations=pool.own_invitations(current_user),
                           form=AnswerForm(), now=utcnow(), window_ends_at=pool.window_ends_at,
                           minutes_left=pool.minutes_left)


def _answer(invitation_id: int, accept: bool):
    if not AnswerForm().validate_on_submit():
        abort(400, description=gettext("The form expired: open the invitation again."))
    with refusals_shown():
        if accept:
            invitation = pool.accept_invitation(current_user, invitation_id)
            flash(gettext("You are online for %(minutes)d minutes: chats come to you now.",
                          minutes=invitation.window_minutes), "success")
            return redirect(url_for("chat.inbox"))
        pool.decline_invitation(current_user, invitation_id)
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


@blueprint.app_template_filter("hour_label")
def hour_label(hour: int) -> str:
    """An hour of the day as short as the reader's language writes it: "2 PM", "14:00"."""
    locale = get_locale()
    twelve_hours = "h" in locale.time_formats["short"].pattern
    return format_skeleton("h" if twelve_hours else "Hm", dt.time(hour), locale=locale)


@blueprint.get("/expert/demand")
@role_required("expert")
def demand():
    now = utcnow()
    maps = [demand_map.heat_map(row, now) for row in planning.demand_for_expert(current_user, now=now)]
    waiting = [standing for standing in enrolments.brand_standings(current_user) if standing.enrolment is not None
               and standing.enrolment.status in (EnrolmentStatus.APPLIED, EnrolmentStatus.QUIZ_PASSED)]
    return render_template("capacity/demand.html", maps=maps, waiting=waiting, legend=demand_map.heat_legend())


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
