"""Shift pages: the expert's week on the phone, the brand's slots with the publish form, the home panel."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext, to_user_timezone
from flask_login import current_user
from markupsafe import Markup

from marketplace.brands.console import brand_page
from marketplace.brands.services import BrandAccess
from marketplace.core import clock
from marketplace.database import utcnow
from marketplace.errors import DomainError
from marketplace.experts.models import ExpertStatus
from marketplace.shifts import bookings, display, slots
from marketplace.shifts.forms import CancelSlotForm, PublishSlotForm, SlotActionForm
from marketplace.web.forms import refusals_shown
from marketplace.web.roles import role_required

blueprint = Blueprint("shifts", __name__)
BRAND_PAGE_DAYS = 60


def _today() -> dt.date:
    return to_user_timezone(utcnow()).date()


def _week_from(text: str | None) -> dt.date:
    """The first day of the week asked for (?week=YYYY-MM-DD, any weekday); today when none or not a day."""
    try:
        first = dt.date.fromisoformat(text or "")
    except ValueError:
        return _today()
    return first if bookings.FIRST_WEEK_START <= first <= bookings.LAST_WEEK_START else _today()


@blueprint.get("/expert/shifts")
@role_required("expert")
def week():
    first, today = _week_from(request.args.get("week")), _today()
    try:
        shifts = bookings.open_slots_for_expert(current_user, first)
    except DomainError as error:
        return render_template("shifts/week.html", refusal=error.message, first=first, days=[],
                               form=SlotActionForm(formdata=None))
    step = dt.timedelta(days=bookings.WEEK_DAYS)
    days = [(first + dt.timedelta(days=n), []) for n in range(bookings.WEEK_DAYS)]
    for slot in shifts.slots:
        days[(slot.day - first).days][1].append(slot)
    return render_template("shifts/week.html", refusal=None, first=first, days=days, count=len(shifts.slots),
                           previous_week=first - step, next_week=first + step, today=today,
                           form=SlotActionForm(week=first.isoformat()))


def _back_to_week(form: SlotActionForm):
    return redirect(url_for("shifts.week", week=_week_from(form.week.data).isoformat()))


@blueprint.post("/expert/shifts/<int:slot_id>/book")
@role_required("expert")
def book(slot_id: int):
    form = SlotActionForm()
    if not form.validate_on_submit():
        abort(400, description=gettext("Reload the page and try again."))
    with refusals_shown():
        booking = bookings.book_slot(current_user, slot_id)
        flash(gettext("Booked: %(when)s.", when=_describe(booking.slot_id)), "success")
    return _back_to_week(form)


@blueprint.post("/expert/shifts/<int:slot_id>/cancel")
@role_required("expert")
def cancel(slot_id: int):
    form = SlotActionForm()
    if not form.validate_on_submit():
        abort(400, description=gettext("Reload the page and try again."))
    with refusals_shown():
        booking = bookings.cancel_booking(current_user, slot_id)
        flash(gettext("Your booking of %(when)s is cancelled.", when=_describe(booking.slot_id)), "success")
    return _back_to_week(form)


def _describe(slot_id: int) -> str:
    slot, brand = bookings.slot_with_brand(slot_id)
    return f"{brand.name}, {display.describe_times(slot.starts_at, slot.ends_at, brand.timezone)}"


# The brand's side.

def _render_brand_page(access: BrandAccess, form: PublishSlotForm, status: int = 200):
    now = utcnow()
    listed = slots.brand_slots(current_user, access.brand.id, now, now + dt.timedelta(days=BRAND_PAGE_DAYS))
    return render_template("shifts/brand_slots.html", brand=access.brand, slots=listed, form=form,
                           is_admin=access.is_admin, cancel_form=CancelSlotForm(formdata=None), now=now), status


@blueprint.route("/brands/<slug>/shifts", methods=["GET", "POST"])
@brand_page()
def brand_slots(access: BrandAccess):
    brand = access.brand
    form = PublishSlotForm()
    form.bonus.currency = brand.currency
    if request.method == "POST":
        if form.validate_on_submit():
            zone = clock.zone(brand.timezone)
            starts_at = dt.datetime.combine(form.date.data, form.start.data, zone)
            ends_at = dt.datetime.combine(form.date.data, form.end.data, zone)
            if ends_at <= starts_at:  # e.g. 22:00 to 02:00: it ends the next day
                ends_at = dt.datetime.combine(form.date.data + dt.timedelta(days=1), form.end.data, zone)
            with refusals_shown(form, fields=form.SERVICE_FIELDS):
                slot = slots.publish_slot(current_user, brand.id, starts_at, ends_at, form.headcount.data,
                                          form.bonus.cents or 0)
                flash(gettext("Shift published: %(when)s.", when=display.describe_times(
                    slot.starts_at, slot.ends_at, brand.timezone)), "success")
                return redirect(url_for("shifts.brand_slots", slug=brand.slug))
        return _render_brand_page(access, form, 422)
    return _render_brand_page(access, form)


@blueprint.post("/brands/<slug>/shifts/<int:slot_id>/cancel")
@brand_page(admins_only=True)
def cancel_slot(access: BrandAccess, slot_id: int):
    form = CancelSlotForm()
    if not form.validate_on_submit():
        abort(400, description=gettext("Reload the page and try again."))
    with refusals_shown():
        slots.cancel_slot(current_user, access.brand.id, slot_id)
        flash(gettext("The shift is cancelled; the experts who booked it are told."), "success")
    return redirect(url_for("shifts.brand_slots", slug=access.brand.slug))


def today_panel(profile) -> Markup:
    """The expert home page's card: today's shifts on each brand's clock, with a link to the week."""
    if profile.status != ExpertStatus.APPROVED:
        return Markup("")
    today = bookings.todays_bookings(profile.id)
    # render_template escapes what it inserts; its output is safe HTML.
    return Markup(render_template("shifts/_today.html", bookings=today, now=utcnow()))  # noqa: S704
