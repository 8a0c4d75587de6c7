"""The brand's conversations: search, transcripts, CSV export, and replies to left messages."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from marketplace.accounts.models import Role
from marketplace.brands import services as brands
from marketplace.brands.models import Brand, BrandRole
from marketplace.database import db, utcnow
from marketplace.errors import Conflict, InvalidInput
from marketplace.routing import transcripts
from marketplace.routing.models import ConversationStatus, EndReason
from marketplace.routing.transcript_schemas import (
    LeftMessageReplyCreateSchema,
    LeftMessageStateSchema,
    TranscriptPageSchema,
    TranscriptSchema,
    TranscriptSearchQuery,
)
from marketplace.web import downloads, params
from marketplace.web.api import api_blueprint, endpoint
from marketplace.web.forms import show_error
from marketplace.web.params import DateField
from marketplace.web.roles import role_required

blueprint = Blueprint("transcripts", __name__)
api = api_blueprint("transcripts_api", __name__)
READERS = ("brand", "ops", "finance")
REPLIERS = ("brand", "ops")  # finance reads as a viewer; the service refuses viewers anyway

STATUS_LABELS = {
    ConversationStatus.WAITING: _l("Waiting"),
    ConversationStatus.OFFERED: _l("Offered to an expert"),
    ConversationStatus.ACTIVE: _l("Under way"),
    ConversationStatus.CLOSED: _l("Ended"),
    ConversationStatus.ABANDONED: _l("Visitor left"),
    ConversationStatus.MISSED: _l("Not answered in time"),
    ConversationStatus.CAPPED: _l("Refused at the door"),
}
END_REASON_LABELS = {
    EndReason.EXPERT: _l("Ended by the expert"),
    EndReason.VISITOR: _l("Ended by the visitor"),
    EndReason.INACTIVITY: _l("Ended after inactivity"),
    EndReason.LEFT: _l("The visitor left a message instead"),
    EndReason.MAX_WAIT: _l("Waited longer than the maximum wait"),
    EndReason.CLOSED_HOURS: _l("Outside opening hours"),
    EndReason.MAX_CONCURRENT: _l("Too many chats at once"),
    EndReason.DAILY_CAP: _l("Daily cap reached"),
    EndReason.MONTHLY_BUDGET: _l("Monthly budget reached"),
    EndReason.MAX_ACTIVE_EXPERTS: _l("Too many experts answering at once"),
}
FILTER_FIELDS = ("date_from", "date_to", "expert_id", "status", "topic", "rating", "min_rating", "text")


def optional_int(value: Any) -> int | None:
    """A select's value as a number, "" (any) as None; anything else fails the field."""
    if value in (None, ""):
        return None
    return int(value)


def optional_text(value: Any) -> str | None:
    """A select's value, "" (any) as None."""
    return str(value) if value not in (None, "") else None


class ConversationFilterForm(FlaskForm):
    """The search form: sent by GET, so it carries no CSRF token and the results' address can be shared."""

    class Meta:
        csrf = False

    date_from = DateField(_l("First day"), validators=[Optional()])
    date_to = DateField(_l("Last day"), validators=[Optional()])
    expert_id = SelectField(_l("Expert"), coerce=optional_int)
    status = SelectField(_l("Status"), coerce=optional_text)
    topic = SelectField(_l("Topic"), coerce=optional_text)
    rating = SelectField(_l("Rating"), coerce=optional_int)
    min_rating = SelectField(_l("Rated at least"), coerce=optional_int)
    text = StringField(_l("Words in the messages"), validators=[Optional(), Length(max=transcripts.TEXT_LENGTH)])

    def filters(self) -> dict[str, Any]:
        return {name: self[name].data or None for name in FILTER_FIELDS}


class ReplyForm(FlaskForm):
    """A reply from the inbox page (routing/left_messages.html draws the field); the service checks the text."""

    body = TextAreaField()


def _filter_form(brand: Brand) -> ConversationFilterForm:
    form = ConversationFilterForm(formdata=request.args)
    form.expert_id.choices = [("", gettext("Any expert"))] + [
        (str(expert_id), name) for expert_id, name in transcripts.handling_experts(current_user, brand.id)]
    form.status.choices = [("", gettext("Any status"))] + [(s.value, str(label)) for s, label in STATUS_LABELS.items()]
    topics = list(brand.topics or [])
    if request.args.get("topic") and request.args["topic"] not in topics:
        topics.append(request.args["topic"])  # a topic the brand has since dropped still finds its chats
    form.topic.choices = [("", gettext("Any topic"))] + [(topic, topic) for topic in topics]
    form.rating.choices = [("", gettext("Any rating"))] + [(str(n), str(n)) for n in range(5, 0, -1)]
    form.min_rating.choices = [("", gettext("Any rating"))] + [
        (str(n), gettext("%(count)s or more", count=n)) for n in range(5, 1, -1)]
    return form


def _filter_args() -> dict[str, str]:
    """The filters as the address carries them, for paging and the CSV link."""
    return {name: request.args[name] for name in FILTER_FIELDS if request.args.get(name)}


@blueprint.get("/brands/<slug>/conversations")
@role_required(*READERS)
def conversations(slug: str):
    brand = brands.get_brand_by_slug(current_user, slug)
    form = _filter_form(brand)
    results = None
    if form.validate():
        try:
            results = transcripts.search_conversations(current_user, brand.id, form.filters(),
                                                       page=params.page_number())
        except InvalidInput as error:
            db.session.rollback()
            show_error(form, error)
    return render_template("routing/conversations.html", brand=brand, form=form, results=results,
                           args=_filter_args(), status_labels=STATUS_LABELS), 200 if results is not None else 422


@blueprint.get("/brands/<slug>/conversations.csv")
@role_required(*READERS)
def export(slug: str):
    brand = brands.get_brand_by_slug(current_user, slug)
    form = _filter_form(brand)
    back = redirect(url_for("transcripts.conversations", slug=slug, **_filter_args()))
    if not form.validate():
        return back  # the search page shows what is wrong with the filters
    try:
        lines = transcripts.export_csv(current_user, brand.id, form.filters())
    except InvalidInput:
        db.session.rollback()
        return back
    today = utcnow().astimezone(zoneinfo.ZoneInfo(brand.timezone)).date()
    filename = f"conversations-{brand.slug}-{today.isoformat()}.csv"
    return downloads.attachment(lines, filename, "text/csv")


@blueprint.get("/brands/<slug>/conversations/<int:id>")
@role_required(*READERS)
def transcript(slug: str, id: int):
    brand = brands.get_brand_by_slug(current_user, slug)
    return render_template("routing/transcript.html", brand=brand,
                           transcript=transcripts.transcript(current_user, brand.id, id),
                           status_labels=STATUS_LABELS, end_reason_labels=END_REASON_LABELS)


@blueprint.post("/brands/<slug>/inbox/<int:message_id>/reply")
@role_required(*REPLIERS)
def reply(slug: str, message_id: int):
    brand = brands.get_brand_by_slug(current_user, slug, need=BrandRole.ADMIN)
    form = ReplyForm()
    if form.validate_on_submit():
        try:
            sent = transcripts.reply_to_left_message(current_user, brand.id, message_id, form.body.data)
        except (InvalidInput, Conflict) as error:
            db.session.rollback()
            flash(str(error.message), "error")
        else:
            flash(gettext("Your reply is on its way to %(email)s.", email=sent.email), "success")
    return redirect(url_for("routing.left_messages", slug=slug))


@dataclass(frozen=True)
class InboxReplies:
    can_reply: bool
    states: dict[int, transcripts.LeftMessageState]


@blueprint.app_template_global()
def inbox_replies(brand: Brand, messages: list) -> InboxReplies:
    """For the inbox page (routing.left_messages): who may reply, and the replies already sent."""
    can_reply = brands.brand_role(current_user, brand.id) == BrandRole.ADMIN
    return InboxReplies(can_reply, transcripts.left_message_replies(current_user, brand.id, [m.id for m in messages]))


# JSON API.

READER_ROLES = [Role.OPS, Role.BRAND, Role.FINANCE]


@api.get("/brands/<int:brand_id>/conversations")
@endpoint("The brand's conversations of every status, filtered, newest first, 50 a page", roles=READER_ROLES,
          query=TranscriptSearchQuery(), response=TranscriptPageSchema(), tags=["conversations"])
def search(actor, brand_id: int, query):
    page = query.pop("page")
    return transcripts.search_conversations(actor, brand_id, query, page)


@api.get("/brands/<int:brand_id>/conversations/<int:conversation_id>")
@endpoint("One of the brand's conversations with its messages in order", roles=READER_ROLES,
          response=TranscriptSchema(), tags=["conversations"])
def get_transcript(actor, brand_id: int, conversation_id: int):
    return transcripts.transcript(actor, brand_id, conversation_id)


@api.post("/brands/<int:brand_id>/left-messages/<int:message_id>/reply")
@endpoint("Answer a message a visitor left, by e-mail, once (admins)", roles=[Role.OPS, Role.BRAND],
          body=LeftMessageReplyCreateSchema(), response=LeftMessageStateSchema(), tags=["conversations"],
          errors=[409])
def reply_api(actor, brand_id: int, message_id: int, body):
    return transcripts.reply_to_left_message(actor, brand_id, message_id, body["body"])
