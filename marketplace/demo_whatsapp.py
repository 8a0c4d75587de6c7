"""The demo's WhatsApp and Messenger: a Meta-compatible fake Graph server in this process, a number and a Facebook
Page connected to Maison Lumière, and a customer's phone at `/dev/whatsapp` and a person's Messenger at
`/dev/messenger` to write as them and read what the experts answer.

`serve --demo` connects the number unless `WHATSAPP_GRAPH_BASE` is set in the environment, and the page unless
`MESSENGER_GRAPH_BASE` is (a real or another fake Graph: that address always wins, and the demo connects nothing
of that app); both run on the same fake, started for the first that needs it. The fake is the test suite's
(`tests/fake_graph/`, standard library only), so it runs from the repository: an installed package has no
`tests`, and then the demo says so and goes on without it (shipping a fake of Meta's API inside the product would
make it part of the product). It runs in this process rather than beside it, so the phone pages can drive it (post
a signed webhook) and show its record of what the app sent, without a control API of its own.

The number's and the page's ids and secrets are fixed, so a demo database started again finds them connected
already.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import InputRequired, Length, Regexp

from marketplace.database import db, end_read
from marketplace.routing.channels import connections
from marketplace.routing.models import BrandChannel, Channel

BRAND_SLUG = "maison-lumiere"
PHONE_NUMBER_ID = "106540352200001"
DISPLAY_NUMBER = "15550100001"
CUSTOMER = "33612345678"  # the phone page's number unless another is typed
SECRETS = {"access_token": "EAAGdemo-whatsapp-access-token", "app_secret": "demo0app0secret0signs0webhooks00",
           "verify_token": "demo-verify-token-2026"}
EXTENSION = "demo_whatsapp"
# Approved on the fake as in the brand's record: Meta's sample, and one with a parameter.
TEMPLATES = [
    {"name": "hello_world", "language": "en_US", "category": "utility",
     "body": "Welcome and congratulations!! This message demonstrates your ability to send a WhatsApp message "
             "notification from the Cloud API, hosted by Meta. Thank you for taking the time to test with us."},
    {"name": "follow_up", "language": "en_US", "category": "utility",
     "body": "Hello, this is Maison Lumière following up on your question: {{1}}"},
]
# The Facebook Page, and the person's page-scoped id the Messenger page writes as unless another is typed.
PAGE_ID = "107540352200001"
PERSON = "7100000000000001"
MESSENGER_SECRETS = {"access_token": "EAAPdemo-messenger-page-token", "app_secret": "demo0page0secret0signs0webhooks0",
                     "verify_token": "demo-messenger-verify-token-2026"}
MESSENGER_EXTENSION = "demo_messenger"
FAKE_EXTENSION = "demo_graph"  # the one fake Graph both apps run on


@dataclass
class DemoAccount:
    """The running fake and one of its accounts (the number, the page), and what customers wrote from the demo's
    phone page for it (the fake keeps what the app sent)."""

    fake: Any  # tests.fake_graph.FakeGraph
    account: Any  # tests.fake_graph.WhatsAppNumber or MessengerPage
    written: list[tuple[float, str, str]] = field(default_factory=list)  # (at, customer, text)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def thread(self, customer: str) -> list[dict[str, Any]]:
        """The customer's conversation with the brand's account, oldest first, as their app shows it."""
        return _thread(self.fake, self.account, customer, self.written, self.lock)

    def write(self, customer: str, text: str, **options: Any) -> str | None:
        """Post the customer's message as Meta would (a signed webhook); a line saying why when the app refused it."""
        with self.lock:
            self.written.append((time.time(), customer, text))
        delivered = self.fake.deliver_inbound(self.account, customer, text, **options)
        if delivered.ok:
            return None
        return gettext("The app did not take the message: %(status)s.",
                       status=delivered.deliveries[-1].status if delivered.deliveries else "?")


def _thread(fake: Any, account: Any, customer: str, written: list[tuple[float, str, str]],
            lock: threading.Lock) -> list[dict[str, Any]]:
    with lock:
        mine = [{"at": at, "from_customer": True, "text": text} for at, who, text in written if who == customer]
    sent = [{"at": record.at, "from_customer": False, "kind": record.kind, "to": record.to, "text": _shown(record)}
            for record in fake.sent(to=customer, account=account)]
    return sorted(mine + sent, key=lambda item: item["at"])


def _shown(record: Any) -> str:
    """What a phone shows of a message the app sent: its text, else the template's name or the file's kind."""
    if record.text:
        return record.text
    if record.kind == "template":
        return _template_name(record.body)
    return f"[{record.kind}]"


def _template_name(body: dict[str, Any]) -> str:
    return f"[{(body.get('template') or {}).get('name', '?')}]"


def start(app: Flask, webhook_url: str) -> str:
    """Start the fake Graph and connect its number to the demo brand; the line `serve --demo` prints about it."""
    if os.environ.get("WHATSAPP_GRAPH_BASE"):
        return (f"WhatsApp: Graph at {app.config['WHATSAPP_GRAPH_BASE']} (WHATSAPP_GRAPH_BASE); connect a number "
                f"on a brand's Messaging apps page.")
    fake = _fake(app)
    if fake is None:
        return ("WhatsApp: no demo number (the fake Graph server lives in the repository's tests/; run the demo from "
                "a checkout, or set WHATSAPP_GRAPH_BASE).")
    number = fake.add_whatsapp_number(PHONE_NUMBER_ID, display_phone_number=DISPLAY_NUMBER, webhook_url=webhook_url,
                                      **SECRETS)
    for template in TEMPLATES:
        fake.add_template(number, template["name"], template["language"], category=template["category"],
                          parameters=template["body"].count("{{"))
    app.config["WHATSAPP_GRAPH_BASE"] = fake.graph_base
    app.extensions[EXTENSION] = DemoAccount(fake, number)
    _connect(Channel.WHATSAPP, PHONE_NUMBER_ID, {"kind": "whatsapp", "phone_number_id": PHONE_NUMBER_ID, **SECRETS})
    _record_templates()  # and the number's display number, asked of Graph as a connect does
    return (f"WhatsApp: Maison Lumière's number +{DISPLAY_NUMBER} runs on a fake Graph server ({fake.graph_base}).\n"
            f"  Write to it as a customer: open {webhook_url.rsplit('/webhooks/', 1)[0]}/dev/whatsapp "
            f"(log in as the expert in another browser to answer).")


def start_messenger(app: Flask, webhook_url: str) -> str:
    """Connect a Facebook Page on the fake Graph (started if WhatsApp did not) to the demo brand; the line
    `serve --demo` prints about it."""
    if os.environ.get("MESSENGER_GRAPH_BASE"):
        return (f"Messenger: Graph at {app.config['MESSENGER_GRAPH_BASE']} (MESSENGER_GRAPH_BASE); connect a page "
                f"on a brand's Messaging apps page.")
    fake = _fake(app)
    if fake is None:
        return ("Messenger: no demo page (the fake Graph server lives in the repository's tests/; run the demo from "
                "a checkout, or set MESSENGER_GRAPH_BASE).")
    page = fake.add_messenger_page(PAGE_ID, webhook_url=webhook_url, **MESSENGER_SECRETS)
    app.config["MESSENGER_GRAPH_BASE"] = fake.graph_base
    app.extensions[MESSENGER_EXTENSION] = DemoAccount(fake, page)
    _connect(Channel.MESSENGER, PAGE_ID, {"kind": "messenger", "page_id": PAGE_ID, **MESSENGER_SECRETS})
    return (f"Messenger: Maison Lumière's Facebook Page {PAGE_ID} runs on a fake Graph server ({fake.graph_base}).\n"
            f"  Write to it as a person: open {webhook_url.rsplit('/webhooks/', 1)[0]}/dev/messenger.")


def _fake(app: Flask) -> Any:
    """The demo's fake Graph, started by the first app that needs it (with the phone pages), else None."""
    fake = app.extensions.get(FAKE_EXTENSION)
    if fake is not None:
        return fake
    FakeGraph = _fake_graph_class()  # noqa: N806 - a class
    if FakeGraph is None:
        return None
    fake = app.extensions[FAKE_EXTENSION] = FakeGraph(auto_statuses=("sent", "delivered", "read")).start()
    app.register_blueprint(blueprint)
    return fake


def _fake_graph_class() -> type | None:
    """The fake Graph of the checkout this package runs from (its `tests/` beside `marketplace/`), else None.

    The `marketplace` command does not run from the project folder's path, so the checkout is added at the end of
    the import path (nothing installed is shadowed) when `tests` is not importable already.
    """
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "tests" / "fake_graph" / "__init__.py").is_file() and str(checkout) not in sys.path:
        sys.path.append(str(checkout))
    try:
        from tests.fake_graph import FakeGraph
    except ImportError:
        return None
    return FakeGraph


def _connect(kind: Channel, account_id: str, values: dict[str, str]) -> None:
    """Connect a number or a page to Maison Lumière as ops would (once: the database may have it from an earlier
    start)."""
    from marketplace.accounts import services as accounts
    from marketplace.brands import services as brands
    from marketplace.demo import OPS_EMAIL

    taken = db.session.scalar(sa.select(BrandChannel.id).where(BrandChannel.kind == kind,
                                                                BrandChannel.account_id == account_id))
    end_read()
    if taken is None:
        connections.connect_channel(accounts.find_user_by_email(OPS_EMAIL), brands.brand_id_for_slug(BRAND_SLUG),
                                    values)


def _record_templates() -> None:
    """The number's approved templates, recorded for the brand as its admin would (once), so that an expert whose
    customer's 24-hour window has closed can pick one."""
    from marketplace.accounts import services as accounts
    from marketplace.demo import OPS_EMAIL
    from marketplace.routing.channels import templates
    from marketplace.routing.models import ChannelTemplate

    channel = db.session.scalar(sa.select(BrandChannel).where(BrandChannel.kind == Channel.WHATSAPP,
                                                               BrandChannel.account_id == PHONE_NUMBER_ID))
    recorded = set(db.session.scalars(sa.select(ChannelTemplate.name).where(ChannelTemplate.channel_id == channel.id)))
    brand_id, channel_id = channel.brand_id, channel.id
    end_read()
    # Its display number too (the widget's "Continue on WhatsApp" links to it), from Graph, as a connect asks it; a
    # database from before it was kept gets it now.
    connections.learn_display_number(channel_id)
    ops = accounts.find_user_by_email(OPS_EMAIL)
    for template in TEMPLATES:
        if template["name"] not in recorded:
            templates.create_template(ops, brand_id, channel_id, {**template, "status": "approved"})


def stop(app: Flask) -> None:
    app.extensions.pop(EXTENSION, None)
    app.extensions.pop(MESSENGER_EXTENSION, None)
    fake = app.extensions.pop(FAKE_EXTENSION, None)
    if fake is not None:
        fake.stop()


# The customer's phone.

blueprint = Blueprint("demo_whatsapp", __name__, url_prefix="/dev")


class CustomerMessageForm(FlaskForm):
    customer = StringField(_l("Your WhatsApp number"), default=CUSTOMER, validators=[
        InputRequired(), Regexp(r"^\d{6,20}$", message=_l("Digits only, in international form without +."))])
    text = StringField(_l("Message"), validators=[InputRequired(), Length(max=1000)])
    submit = SubmitField(_l("Send on WhatsApp"))


def _demo(extension: str = EXTENSION) -> Any:
    demo = current_app.extensions.get(extension)
    if demo is None:
        abort(404)
    return demo


@blueprint.route("/whatsapp", methods=["GET", "POST"])
@blueprint.route("/whatsapp/<customer>", methods=["GET", "POST"])
def phone(customer: str = CUSTOMER):
    """Write to the brand's number as a customer (a signed webhook, as Meta posts it) and read the answers."""
    demo = _demo()
    form = CustomerMessageForm(data={"customer": customer})
    if form.validate_on_submit():
        refused = demo.write(form.customer.data, form.text.data, name="Demo customer")
        if refused:
            flash(refused, "error")
        return redirect(url_for("demo_whatsapp.phone", customer=form.customer.data))
    intro = gettext("You are +%(customer)s writing to Maison Lumière's WhatsApp number +%(business)s. The messages go "
                    "through a fake of Meta's Graph API as signed webhooks; an expert of the brand who is online gets "
                    "the chat on their phone, and their answers appear here.", customer=customer,
                    business=DISPLAY_NUMBER)
    return render_template("web/demo_app_phone.html", form=form, who=form.customer, thread=demo.thread(customer),
                           title=gettext("A customer's WhatsApp (demo)"), intro=intro, app="whatsapp",
                           customer_role="customer", endpoint="demo_whatsapp.phone",
                           refresh=url_for("demo_whatsapp.phone", customer=customer)), 422 if form.errors else 200


# The person's Messenger.

class PersonMessageForm(FlaskForm):
    person = StringField(_l("Your Messenger ID"), default=PERSON, validators=[
        InputRequired(), Regexp(r"^\d{6,20}$", message=_l("Digits only (the page-scoped ID Messenger gives you)."))])
    text = StringField(_l("Message"), validators=[InputRequired(), Length(max=1000)])
    submit = SubmitField(_l("Send on Messenger"))


@blueprint.route("/messenger", methods=["GET", "POST"])
@blueprint.route("/messenger/<person>", methods=["GET", "POST"])
def messenger(person: str = PERSON):
    """Write to the brand's page as a person on Messenger (a signed webhook, as Meta posts it) and read the answers."""
    demo = _demo(MESSENGER_EXTENSION)
    form = PersonMessageForm(data={"person": person})
    if form.validate_on_submit():
        refused = demo.write(form.person.data, form.text.data)
        if refused:
            flash(refused, "error")
        return redirect(url_for("demo_whatsapp.messenger", person=form.person.data))
    intro = gettext("You are the Messenger user %(person)s writing to Maison Lumière's Facebook Page (%(page)s). The "
                    "messages go through a fake of Meta's Graph API as signed webhooks; an expert of the brand who is "
                    "online gets the chat on their phone, and their answers appear here.", person=person,
                    page=PAGE_ID)
    return render_template("web/demo_app_phone.html", form=form, who=form.person, thread=demo.thread(person),
                           title=gettext("A person's Messenger (demo)"), intro=intro, app="messenger",
                           customer_role="person", endpoint="demo_whatsapp.messenger",
                           refresh=url_for("demo_whatsapp.messenger", person=person)), 422 if form.errors else 200
