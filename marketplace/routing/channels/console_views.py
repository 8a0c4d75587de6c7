"""The brand console's channel page: connect a WhatsApp number or a Messenger page, see each one's webhook address
and health, send a test, disconnect. Any of the brand's people read it; its admins act (others' forms get 403)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user

from marketplace.brands.console import brand_page
from marketplace.brands.services import BrandAccess
from marketplace.errors import Conflict, InvalidInput, NotFound
from marketplace.routing.channels import connections, probes
from marketplace.routing.channels.forms import ConnectForm, DisconnectForm, SendTestForm
from marketplace.routing.models import BrandChannel, Channel
from marketplace.shared.links import absolute_url
from marketplace.web.forms import refusals_shown

blueprint = Blueprint("channel_console", __name__)
APP_NAMES = {Channel.WHATSAPP: "WhatsApp", Channel.MESSENGER: "Messenger"}
def _page(access: BrandAccess, form: ConnectForm, *, status: int = 200, confirm: BrandChannel | None = None,
          test_forms: dict[int, SendTestForm] | None = None):
    brand = access.brand
    channels = connections.list_channels(current_user, brand.id)
    shown = [{"channel": channel, "app": APP_NAMES[channel.kind],
              "webhook_url": absolute_url(f"channels_webhooks.{channel.kind.value}"),
              "verify_token_hint": connections.verify_token_hint(channel),
              "templates_url": url_for("channel_templates.page", slug=brand.slug, channel_id=channel.id),
              "test_form": (test_forms or {}).get(channel.id) or SendTestForm(prefix=f"test-{channel.id}",
                                                                              formdata=None)}
             for channel in channels]
    return render_template("routing/channels.html", brand=brand, form=form, channels=shown,
                           can_edit=access.is_admin, confirm=confirm,
                           disconnect_form=DisconnectForm() if confirm else None), status


@blueprint.route("/brands/<slug>/channels", methods=["GET", "POST"])
@brand_page()
def channels(access: BrandAccess):
    form = ConnectForm()
    if form.validate_on_submit():
        with refusals_shown(form, refusals=(InvalidInput, Conflict)):
            channel = connections.connect_channel(current_user, access.brand.id, form.values())
            connections.learn_display_number(channel.id)
            flash(gettext("%(app)s account %(id)s is connected: paste its webhook address into Meta's dashboard.",
                          app=APP_NAMES[channel.kind], id=channel.account_id), "success")
            return redirect(url_for("channel_console.channels", slug=access.brand.slug))
    return _page(access, form, status=422 if form.is_submitted() else 200)


def _channel(access: BrandAccess, channel_id: int) -> BrandChannel:
    for channel in connections.list_channels(current_user, access.brand.id):
        if channel.id == channel_id:
            return channel
    raise NotFound(gettext("No such channel."))


@blueprint.post("/brands/<slug>/channels/<int:channel_id>/test")
@brand_page()
def send_test(access: BrandAccess, channel_id: int):
    """Send a test and show Graph's answer on the page (not after a redirect: the answer is this request's)."""
    channel = _channel(access, channel_id)
    test_form = SendTestForm(prefix=f"test-{channel.id}")
    status = 422
    if test_form.validate_on_submit():
        with refusals_shown(test_form, refusals=InvalidInput):
            result = probes.send_test(current_user, access.brand.id, channel.id, test_form.to.data,
                                      test_form.text.data)
            status = 200
            if result.ok:
                flash(gettext("%(app)s took the test message for %(to)s (%(how)s, id %(id)s).",
                              app=APP_NAMES[channel.kind], to=result.recipient, how=_sent_as(result.sent_as),
                              id=result.message_id), "success")
            else:
                flash(gettext("%(app)s refused the test message: %(meaning)s Meta said: %(error)s",
                              app=APP_NAMES[channel.kind], meaning=result.meaning, error=result.error), "error")
    return _page(access, ConnectForm(formdata=None), status=status, test_forms={channel.id: test_form})


def _sent_as(kind: str) -> str:
    return {"text": gettext("as a text"), "template": gettext("as the hello_world template"),
            "human_agent": gettext("as a person's reply, tagged HUMAN_AGENT")}[kind]


@blueprint.route("/brands/<slug>/channels/<int:channel_id>/disconnect", methods=["GET", "POST"])
@brand_page()
def disconnect(access: BrandAccess, channel_id: int):
    """Ask first (GET), then disconnect (POST)."""
    channel = _channel(access, channel_id)
    form = DisconnectForm()
    if form.validate_on_submit():
        connections.disconnect_channel(current_user, access.brand.id, channel.id)
        flash(gettext("%(app)s account %(id)s is disconnected: its webhooks are refused from now on.",
                      app=APP_NAMES[channel.kind], id=channel.account_id), "success")
        return redirect(url_for("channel_console.channels", slug=access.brand.slug))
    return _page(access, ConnectForm(formdata=None), confirm=channel)
