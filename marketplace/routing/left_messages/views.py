"""The brand's inbox of left messages: the page, and a reply sent from it."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user

from marketplace.brands import services as brands
from marketplace.brands.models import BrandRole
from marketplace.database import db
from marketplace.errors import Conflict, InvalidInput
from marketplace.routing.left_messages import services as left_messages
from marketplace.routing.left_messages.forms import ReplyForm
from marketplace.web.roles import role_required

blueprint = Blueprint("left_messages", __name__)


@dataclass(frozen=True)
class InboxReplies:
    can_reply: bool
    states: dict[int, left_messages.LeftMessageState]


@blueprint.get("/brands/<slug>/inbox")
@role_required("brand", "ops")
def inbox(slug: str):
    brand = brands.get_brand_by_slug(current_user, slug)
    messages = left_messages.left_messages(current_user, brand.id)
    # Who may reply, and the replies already sent.
    replies = InboxReplies(brands.brand_role(current_user, brand.id) == BrandRole.ADMIN,
                           left_messages.left_message_replies(current_user, brand.id, [m.id for m in messages]))
    page = render_template("routing/left_messages.html", brand=brand, messages=messages, replies=replies)
    # Shown once as new, then read (a viewer reading them counts: they are the brand's people).
    left_messages.mark_left_messages_read(current_user, brand.id, [m.id for m in messages if m.read_at is None])
    return page


@blueprint.post("/brands/<slug>/inbox/<int:message_id>/reply")
@role_required("brand", "ops")  # finance reads as a viewer; the service refuses viewers anyway
def reply(slug: str, message_id: int):
    brand = brands.get_brand_by_slug(current_user, slug, need=BrandRole.ADMIN)
    form = ReplyForm()
    if form.validate_on_submit():
        try:
            sent = left_messages.reply_to_left_message(current_user, brand.id, message_id, form.body.data)
        except (InvalidInput, Conflict) as error:
            db.session.rollback()
            flash(str(error.message), "error")
        else:
            flash(gettext("Your reply is on its way to %(email)s.", email=sent.email), "success")
    return redirect(url_for("left_messages.inbox", slug=slug))
