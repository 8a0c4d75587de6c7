"""The brand console's pages for its chats: live view, dashboard, past conversations, widget settings and caps."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import format_percent, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from marketplace.brands import program
from marketplace.brands import services as brands
from marketplace.brands.console import ADMINS, brand_page
from marketplace.brands.models import Brand
from marketplace.brands.services import BrandAccess
from marketplace.core import clock
from marketplace.database import utcnow
from marketplace.errors import InvalidInput, NotFound
from marketplace.routing.attachments import services as attachments
from marketplace.routing.channels import fees
from marketplace.routing.console import caps as demand
from marketplace.routing.console import transcripts
from marketplace.routing.console.dashboard import brand_dashboard
from marketplace.routing.console.forms import (
    FILTER_FIELDS,
    MEGABYTE,
    CapsForm,
    ChannelFeeForm,
    ConversationFilterForm,
    WidgetForm,
    canned_from_text,
    canned_to_text,
)
from marketplace.routing.console.live import live_view
from marketplace.routing.console.schemas import DashboardSchema
from marketplace.routing.labels import END_REASON_LABELS, STATUS_LABELS
from marketplace.shared import money
from marketplace.shared.links import absolute_url
from marketplace.web import downloads, params
from marketplace.web.forms import lines, refusals_shown

blueprint = Blueprint("console", __name__)

# Now.

@blueprint.get("/brands/<slug>/live")
@brand_page(roles=ADMINS)
def live(access: BrandAccess):
    brand = access.brand
    return render_template("routing/live.html", brand=brand, live=live_view(current_user, brand.id),
                           live_url=url_for("console_api.live", brand_id=brand.id))


@blueprint.get("/brands/<slug>/dashboard")
@brand_page()
def dashboard(access: BrandAccess):
    brand = access.brand
    figures = brand_dashboard(current_user, brand.id)
    return render_template("routing/dashboard.html", brand=brand, figures=figures,
                           data=DashboardSchema().dump(figures), format_percent=format_percent,
                           dashboard_url=url_for("console_api.dashboard", brand_id=brand.id))


# Past conversations.

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
@brand_page()
def conversations(access: BrandAccess):
    brand = access.brand
    form = _filter_form(brand)
    results = None
    if form.validate():
        with refusals_shown(form, refusals=InvalidInput):
            results = transcripts.search_conversations(current_user, brand.id, form.filters(),
                                                       page=params.page_number())
    return render_template("routing/conversations.html", brand=brand, form=form, results=results,
                           args=_filter_args(), status_labels=STATUS_LABELS), 200 if results is not None else 422


@blueprint.get("/brands/<slug>/conversations.csv")
@brand_page()
def export(access: BrandAccess):
    brand = access.brand
    form = _filter_form(brand)
    back = redirect(url_for("console.conversations", slug=brand.slug, **_filter_args()))
    if not form.validate():
        return back  # the search page shows what is wrong with the filters
    try:
        rows = transcripts.export_csv(current_user, brand.id, form.filters())
    except InvalidInput:
        return back  # likewise
    today = clock.local_day(utcnow(), brand.timezone)
    filename = f"conversations-{brand.slug}-{today.isoformat()}.csv"
    return downloads.attachment(rows, filename, "text/csv")


@blueprint.get("/brands/<slug>/conversations/<int:id>")
@brand_page()
def transcript(access: BrandAccess, id: int):
    brand = access.brand
    return render_template("routing/transcript.html", brand=brand,
                           transcript=transcripts.transcript(current_user, brand.id, id),
                           status_labels=STATUS_LABELS, end_reason_labels=END_REASON_LABELS)


@blueprint.get("/brands/<slug>/conversations/<int:id>/attachments/<int:attachment_id>/<any(file, thumbnail):variant>")
@brand_page()
def attachment(access: BrandAccess, id: int, attachment_id: int, variant: str):
    """A file of a transcript, through a link made at the click: the page's links never go stale."""
    links = attachments.person_links(current_user, attachment_id)
    url = links["thumbnail_url"] if variant == "thumbnail" else links["url"]
    if url is None:
        raise NotFound(_l("No such file."))
    return redirect(url)


# The chat program: the widget and the caps.

def snippet(widget_key: str) -> str:
    return f'<script src="{absolute_url("widget.loader")}" data-key="{widget_key}" async></script>'


@blueprint.route("/brands/<slug>/widget", methods=["GET", "POST"])
@brand_page(roles=ADMINS, admins_write=False)  # a viewer's form gets the page back with 403, not an error page
def widget_settings(access: BrandAccess):
    brand, can_edit = access.brand, access.is_admin
    answers = brands.canned_answers({brand.id})[brand.id]
    form = WidgetForm(data={"widget_origins": "\n".join(brand.widget_origins or []),
                            "canned_answers": canned_to_text(answers),
                            "attachment_megabytes": brand.attachment_max_bytes // MEGABYTE})
    status = 200
    if can_edit and form.validate_on_submit():
        with refusals_shown(form, fields={"attachment_max_bytes": "attachment_megabytes"}):
            program.update_widget(current_user, brand.id, widget_origins=lines(form.widget_origins.data),
                                  canned_answers=canned_from_text(form.canned_answers.data),
                                  attachment_max_bytes=form.attachment_megabytes.data * MEGABYTE)
            flash(gettext("The chat settings are saved."), "success")
            return redirect(url_for("console.widget_settings", slug=brand.slug))
        status = 422
    elif form.is_submitted():
        status = 422 if can_edit else 403
    return render_template("routing/widget_settings.html", brand=brand, form=form, can_edit=can_edit,
                           snippet=snippet(brand.widget_key)), status


@blueprint.route("/brands/<slug>/caps", methods=["GET", "POST"])
@brand_page()
def caps(access: BrandAccess):
    """The demand caps with their use now and today's refusals; admins change them (next arrival on)."""
    brand, can_edit = access.brand, access.is_admin
    form = _caps_form(brand)
    if form.validate_on_submit():
        with refusals_shown(form, fields={"monthly_budget_cents": "monthly_budget"}):
            program.update_program(current_user, brand.id, {
                "max_concurrent": form.max_concurrent.data, "max_active_experts": form.max_active_experts.data,
                "daily_cap": form.daily_cap.data, "monthly_budget_cents": form.monthly_budget.cents})
            flash(gettext("The caps are saved: they apply to the next chat."), "success")
            return redirect(url_for("console.caps", slug=brand.slug))
    return _caps_page(brand, can_edit, form, _fee_form(brand))


def _caps_form(brand: Brand, **formdata: object) -> CapsForm:
    form = CapsForm(**formdata, data={"max_concurrent": brand.max_concurrent,
                                      "max_active_experts": brand.max_active_experts, "daily_cap": brand.daily_cap,
                                      "monthly_budget": money.plain(brand.monthly_budget_cents, brand.currency)})
    form.monthly_budget.currency = brand.currency
    return form


def _fee_form(brand: Brand, formdata: object = None) -> ChannelFeeForm:
    form = ChannelFeeForm(formdata=formdata, data={"effective_from": clock.local_day(utcnow(), brand.timezone)})
    form.amount.currency = brand.currency
    return form


def _caps_page(brand: Brand, can_edit: bool, form: CapsForm, fee_form: ChannelFeeForm):
    """The caps page with the fee table (the fees in effect and to come) beside the caps."""
    shown = [view for view in fees.fee_table(current_user, brand.id) if view.state != fees.FeeState.PAST]
    return render_template("routing/caps.html", brand=brand, form=form, can_edit=can_edit,
                           usage=demand.cap_usage(current_user, brand.id), fee_form=fee_form, fee_table=shown,
                           fee_names=fees.CATEGORY_NAMES, app_names=fees.APP_NAMES), \
        422 if form.errors or fee_form.errors else 200


@blueprint.post("/brands/<slug>/caps/channel-fees")
@brand_page(roles=ADMINS)
def schedule_channel_fee(access: BrandAccess):
    """Add a dated fee per messaging-app message (admins); it counts toward the monthly budget."""
    brand = access.brand
    fee_form = _fee_form(brand, request.form)
    if fee_form.validate():
        with refusals_shown(fee_form, fields={"amount_cents": "amount", "kind": "kind", "category": "category",
                                              "effective_from": "effective_from"}):
            fees.schedule_fee(current_user, brand.id, kind=fee_form.kind.data, category=fee_form.category.data,
                              amount_cents=fee_form.amount.cents, effective_from=fee_form.effective_from.data)
            flash(gettext("The fee is saved."), "success")
            return redirect(url_for("console.caps", slug=brand.slug))
    return _caps_page(brand, True, _caps_form(brand, formdata=None), fee_form)


@blueprint.get("/brands/<slug>/widget/try")
@brand_page(roles=ADMINS)
def widget_preview(access: BrandAccess):
    """A page of ours with the brand's widget on it, to try the chat as a visitor would."""
    return render_template("routing/widget_preview.html", brand=access.brand)
