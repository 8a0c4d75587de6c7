"""Conversation pages: the expert's inbox, the brand's live view, inbox of left messages and widget page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user

from marketplace.brands import program
from marketplace.brands import services as brands
from marketplace.brands.models import BrandRole
from marketplace.database import db
from marketplace.errors import DomainError
from marketplace.experts import presence
from marketplace.experts import services as experts
from marketplace.routing import chat
from marketplace.routing.forms import ProgramForm, canned_from_text, canned_to_text, lines
from marketplace.web.forms import show_error
from marketplace.web.links import absolute_url
from marketplace.web.roles import role_required

blueprint = Blueprint("routing", __name__)
BRAND_PEOPLE = ("brand", "ops")


@blueprint.get("/expert/chats")
@role_required("expert")
def inbox():
    profile = experts.own_profile(current_user)
    state = presence.presence_of(profile.id).status.value
    return render_template("routing/inbox.html", inbox=chat.expert_inbox(profile.id), presence=state,
                           inbox_url=url_for("routing_api.inbox"), api_base="/api/v1")


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
    form = ProgramForm(data={
        "widget_origins": "\n".join(brand.widget_origins or []), "topics": "\n".join(brand.topics or []),
        "offer_timeout_seconds": brand.offer_timeout_seconds, "max_wait_seconds": brand.max_wait_seconds,
        "inactivity_close_minutes": brand.inactivity_close_minutes, "expert_concurrency": brand.expert_concurrency,
        "max_concurrent": brand.max_concurrent, "daily_cap": brand.daily_cap,
        "canned_answers": canned_to_text(answers),
    })
    status = 200
    if can_edit and form.validate_on_submit():
        try:
            program.update_program(current_user, brand.id, {
                "widget_origins": lines(form.widget_origins.data), "topics": lines(form.topics.data),
                **{name: getattr(form, name).data for name in (
                    "offer_timeout_seconds", "max_wait_seconds", "inactivity_close_minutes", "expert_concurrency",
                    "max_concurrent", "daily_cap")},
            })
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


@blueprint.get("/brands/<slug>/widget/try")
@role_required(*BRAND_PEOPLE)
def widget_preview(slug: str):
    """A page of ours with the brand's widget on it, to try the chat as a visitor would."""
    brand = brands.get_brand_by_slug(current_user, slug)
    return render_template("routing/widget_preview.html", brand=brand)
