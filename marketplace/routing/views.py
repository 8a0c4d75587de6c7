"""Conversation pages: the expert's inbox, the brand's live view, inbox of left messages and widget page."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user

from marketplace.brands import program
from marketplace.brands import services as brands
from marketplace.brands.models import BrandRole
from marketplace.database import db
from marketplace.errors import DomainError
from marketplace.experts import services as experts
from marketplace.routing import caps as demand
from marketplace.routing import chat
from marketplace.routing.forms import CapsForm, WidgetForm, canned_from_text, canned_to_text
from marketplace.web.forms import from_minor_units, lines, show_error
from marketplace.web.links import absolute_url
from marketplace.web.roles import role_required

blueprint = Blueprint("routing", __name__)
BRAND_PEOPLE = ("brand", "ops")


@blueprint.get("/expert/chats")
@role_required("expert")
def inbox():
    profile = experts.own_profile(current_user)
    return render_template("routing/inbox.html", inbox=chat.expert_inbox(profile.id),
                           api_base="/api/v1")


@blueprint.get("/brands/<slug>/live")
@role_required(*BRAND_PEOPLE)
def live(slug: str):
    brand = brands.get_brand_by_slug(current_user, slug)
    return render_template("routing/live.html", brand=brand, live=chat.live_view(current_user, brand.id),
                           live_url=url_for("routing_api.live", brand_id=brand.id))


@blueprint.get("/brands/<slug>/inbox")
@role_required(*BRAND_PEOPLE)
def left_messages(slug: str):
    brand = brands.get_brand_by_slug(current_user, slug)
    messages = chat.left_messages(current_user, brand.id)
    page = render_template("routing/left_messages.html", brand=brand, messages=messages)
    # Shown once as new, then read (a viewer reading them counts: they are the brand's people).
    chat.mark_left_messages_read(current_user, brand.id, [m.id for m in messages if m.read_at is None])
    return page


def snippet(widget_key: str) -> str:
    return f'<script src="{absolute_url("widget.loader")}" data-key="{widget_key}" async></script>'


@blueprint.route("/brands/<slug>/widget", methods=["GET", "POST"])
@role_required(*BRAND_PEOPLE)
def widget_settings(slug: str):
    brand = brands.get_brand_by_slug(current_user, slug)
    can_edit = brands.brand_role(current_user, brand.id) == BrandRole.ADMIN
    answers = brands.canned_answers({brand.id})[brand.id]
    form = WidgetForm(data={"widget_origins": "\n".join(brand.widget_origins or []),
                            "canned_answers": canned_to_text(answers)})
    status = 200
    if can_edit and form.validate_on_submit():
        try:
            program.update_program(current_user, brand.id, {"widget_origins": lines(form.widget_origins.data)})
            program.set_canned_answers(current_user, brand.id, canned_from_text(form.canned_answers.data))
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
            status = 422
        else:
            flash(gettext("The chat settings are saved."), "success")
            return redirect(url_for("routing.widget_settings", slug=slug))
    elif form.is_submitted():
        status = 422 if can_edit else 403
    return render_template("routing/widget_settings.html", brand=brand, form=form, can_edit=can_edit,
                           snippet=snippet(brand.widget_key)), status


@blueprint.route("/brands/<slug>/caps", methods=["GET", "POST"])
@role_required("brand", "ops", "finance")
def caps(slug: str):
    """The demand caps with their use now and today's refusals; admins change them (next arrival on)."""
    brand = brands.get_brand_by_slug(current_user, slug)
    can_edit = brands.brand_role(current_user, brand.id) == BrandRole.ADMIN
    form = CapsForm(data={"max_concurrent": brand.max_concurrent, "max_active_experts": brand.max_active_experts,
                          "daily_cap": brand.daily_cap,
                          "monthly_budget": from_minor_units(brand.monthly_budget_cents, brand.currency)})
    form.monthly_budget.currency = brand.currency
    if form.is_submitted() and not can_edit:
        abort(403)
    if form.validate_on_submit():
        try:
            program.update_program(current_user, brand.id, {
                "max_concurrent": form.max_concurrent.data, "max_active_experts": form.max_active_experts.data,
                "daily_cap": form.daily_cap.data, "monthly_budget_cents": form.monthly_budget.cents})
        except DomainError as error:
            db.session.rollback()
            show_error(form, DomainError(error.message, "monthly_budget" if error.field == "monthly_budget_cents"
                                         else error.field))
        else:
            flash(gettext("The caps are saved: they apply to the next chat."), "success")
            return redirect(url_for("routing.caps", slug=slug))
    return render_template("routing/caps.html", brand=brand, form=form, can_edit=can_edit,
                           usage=demand.cap_usage(current_user, brand.id)), 422 if form.errors else 200


@blueprint.get("/brands/<slug>/widget/try")
@role_required(*BRAND_PEOPLE)
def widget_preview(slug: str):
    """A page of ours with the brand's widget on it, to try the chat as a visitor would."""
    brand = brands.get_brand_by_slug(current_user, slug)
    return render_template("routing/widget_preview.html", brand=brand)
