"""The forms of the brand's channel page: connect an account, send a test, confirm a disconnection."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectChoice, SelectField, StringField, SubmitField, TextAreaField

from marketplace.routing.channels.connections import ACCOUNT_ID_LENGTH, SECRET_LENGTH
from marketplace.routing.channels.probes import TEXT_LENGTH

# The checks are the service's (connections.py, probes.py), which name the field they refuse: one set of rules for
# the page and the API. Secrets are password fields: what was typed is never written back into the page.


class ConnectForm(FlaskForm):
    kind = SelectField(_l("App"), choices=[SelectChoice("whatsapp", "WhatsApp"),
                                           SelectChoice("messenger", "Messenger")])
    phone_number_id = StringField(_l("WhatsApp: phone number ID"), render_kw={"maxlength": ACCOUNT_ID_LENGTH,
                                                                             "inputmode": "numeric"},
                                  description=_l("Digits, from WhatsApp Manager (API Setup), not the number itself."))
    display_phone_number = StringField(
        _l("WhatsApp: the number itself (optional)"), render_kw={"maxlength": 24, "inputmode": "tel"},
        description=_l("Country code first, as customers dial it. Left empty, it is asked of WhatsApp; your web "
                       "chat offers \"Continue on WhatsApp\" once it is known."))
    page_id = StringField(_l("Messenger: Facebook Page ID"), render_kw={"maxlength": ACCOUNT_ID_LENGTH,
                                                                       "inputmode": "numeric"})
    access_token = PasswordField(_l("Access token"), render_kw={"maxlength": SECRET_LENGTH, "autocomplete": "off"},
                                 description=_l("A system user's permanent token; stored sealed, never shown again."))
    app_secret = PasswordField(_l("App secret"), render_kw={"maxlength": SECRET_LENGTH, "autocomplete": "off"},
                               description=_l("From your Meta app's basic settings: it checks every webhook."))
    verify_token = PasswordField(_l("Verify token"), render_kw={"maxlength": SECRET_LENGTH, "autocomplete": "off"},
                                 description=_l("Any word you choose; type the same in Meta's webhook settings."))
    submit = SubmitField(_l("Connect"))

    def values(self) -> dict[str, object]:
        """What the service takes: the account id under the field of the chosen app only."""
        whatsapp = self.kind.data == "whatsapp"
        names = ("kind", "phone_number_id", "display_phone_number") if whatsapp else ("kind", "page_id")
        return {name: self[name].data for name in (*names, "access_token", "app_secret", "verify_token")}


class SendTestForm(FlaskForm):
    to = StringField(_l("Send to"), render_kw={"autocomplete": "off"},
                     description=_l("A WhatsApp number in international form, or a Messenger page-scoped id."))
    text = TextAreaField(_l("Text"), default=_l("Hello! This is a test from our support team."),
                         render_kw={"maxlength": TEXT_LENGTH, "rows": 2})
    submit = SubmitField(_l("Send a test"))


class DisconnectForm(FlaskForm):
    submit = SubmitField(_l("Yes, disconnect it"))
