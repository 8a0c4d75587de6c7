"""The brand's inbox of left messages: the page, and a reply sent from it."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user

from marketplace.brands.console import ADMINS, brand_page
from marketplace.brands.services import BrandAccess
from marketplace.errors import Conflict, InvalidInput
from marketplace.routing.left_messages import services as left_messages
from marketplace.routing.left_messages.forms import ReplyForm
from marketplace.web.forms import refusals_shown

blueprint = Blueprint("left_messages", __name__)


@dataclass(frozen=True)
class InboxReplies:
    can_reply: bool
    states: dict[int, left_messages.LeftMessageState]


@blueprint.get("/brands/<slug>/inbox")
@brand_page(roles=ADMINS)
def inbox(access: BrandAccess):
    brand = access.brand
    messages = left_messages.left_messages(current_user, brand.id)
    # Who may reply, and the replies already sent.
    shown = [m.id for m in messages]
    replies = InboxReplies(access.is_admin, left_messages.left_message_replies(current_user, brand.id, shown))
    page = render_template("routing/left_messages.html", brand=brand, messages=messages, replies=replies)
    # Shown once as new, then read (a viewer reading them counts: they are the brand's people).
    left_messages.mark_left_messages_read(current_user, brand.id, [m.id for m in messages if m.read_at is None])
    return page


@blueprint.post("/brands/<slug>/inbox/<int:message_id>/reply")
@brand_page(admins_only=True)  # the brand's admins and ops reply; viewers and finance only read
def reply(access: BrandAccess, message_id: int):
    form = ReplyForm()
    if form.validate_on_submit():
        with refusals_shown(refusals=(InvalidInput, Conflict)):
            sent = left_messages.reply_to_left_message(current_user, access.brand.id, message_id, form.body.data)
            flash(gettext("Your reply is on its way to %(email)s.", email=sent.email), "success")
    return redirect(url_for("left_messages.inbox", slug=access.brand.slug))
