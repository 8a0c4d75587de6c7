"""The demo's WhatsApp: a Meta-compatible fake Graph server in this process, a number connected to Maison Lumière,
and a customer's phone at `/dev/whatsapp` to write as a customer and read what the experts answer.

`serve --demo` starts it unless `WHATSAPP_GRAPH_BASE` is set in the environment (a real or another fake Graph:
that address always wins, and the demo connects nothing). The fake is the test suite's (`tests/fake_graph/`,
standard library only), so it runs from the repository: an installed package has no `tests`, and then the demo
says so and goes on without it (shipping a fake of Meta's API inside the product would make it part of the
product). It runs in this process rather than beside it, so the customer's phone can drive it (post a signed
webhook) and show its record of what the app sent, without a control API of its own.

The number's ids and secrets are fixed, so a demo database started again finds its channel connected already.
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


@dataclass
class DemoWhatsApp:
    """The running fake and its number, and what customers wrote from the phone page (the fake keeps the rest)."""

    fake: Any  # tests.fake_graph.FakeGraph
    number: Any  # tests.fake_graph.WhatsAppNumber
    written: list[tuple[float, str, str]] = field(default_factory=list)  # (at, customer, text)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def thread(self, customer: str) -> list[dict[str, Any]]:
        """The customer's conversation with the brand's number, oldest first, as their phone shows it."""
        with self.lock:
            mine = [{"at": at, "from_customer": True, "text": text} for at, who, text in self.written
                    if who == customer]
        sent = [{"at": record.at, "from_customer": False, "kind": record.kind, "to": record.to,
                 "text": record.text or _template_name(record.body)}
                for record in self.fake.sent(to=customer, account=self.number)]
        return sorted(mine + sent, key=lambda item: item["at"])


def _template_name(body: dict[str, Any]) -> str:
    return f"[{(body.get('template') or {}).get('name', '?')}]"


def start(app: Flask, webhook_url: str) -> str:
    """Start the fake Graph and connect its number to the demo brand; the line `serve --demo` prints about it."""
    if os.environ.get("WHATSAPP_GRAPH_BASE"):
        return (f"WhatsApp: Graph at {app.config['WHATSAPP_GRAPH_BASE']} (WHATSAPP_GRAPH_BASE); connect a number "
                f"on a brand's Messaging apps page.")
    FakeGraph = _fake_graph_class()  # noqa: N806 - a class
    if FakeGraph is None:
        return ("WhatsApp: no demo number (the fake Graph server lives in the repository's tests/; run the demo from "
                "a checkout, or set WHATSAPP_GRAPH_BASE).")
    fake = FakeGraph(auto_statuses=("sent", "delivered", "read")).start()
    number = fake.add_whatsapp_number(PHONE_NUMBER_ID, display_phone_number=DISPLAY_NUMBER, webhook_url=webhook_url,
                                      **SECRETS)
    fake.add_template(number, "hello_world", "en_US")
    app.config["WHATSAPP_GRAPH_BASE"] = fake.graph_base
    app.extensions[EXTENSION] = DemoWhatsApp(fake, number)
    app.register_blueprint(blueprint)
    _connect()
    return (f"WhatsApp: Maison Lumière's number +{DISPLAY_NUMBER} runs on a fake Graph server ({fake.graph_base}).\n"
            f"  Write to it as a customer: open {webhook_url.rsplit('/webhooks/', 1)[0]}/dev/whatsapp "
            f"(log in as the expert in another browser to answer).")


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


def _connect() -> None:
    """Connect the number to Maison Lumière as ops would (once: the database may have it from an earlier start)."""
    from marketplace.accounts import services as accounts
    from marketplace.brands import services as brands
    from marketplace.demo import OPS_EMAIL

    taken = db.session.scalar(sa.select(BrandChannel.id).where(BrandChannel.kind == Channel.WHATSAPP,
                                                                BrandChannel.account_id == PHONE_NUMBER_ID))
    end_read()
    if taken is None:
        connections.connect_channel(accounts.find_user_by_email(OPS_EMAIL), brands.brand_id_for_slug(BRAND_SLUG),
                                    {"kind": "whatsapp", "phone_number_id": PHONE_NUMBER_ID, **SECRETS})


def stop(app: Flask) -> None:
    demo = app.extensions.pop(EXTENSION, None)
    if demo is not None:
        demo.fake.stop()


# The customer's phone.

blueprint = Blueprint("demo_whatsapp", __name__, url_prefix="/dev")


class CustomerMessageForm(FlaskForm):
    customer = StringField(_l("Your WhatsApp number"), default=CUSTOMER, validators=[
        InputRequired(), Regexp(r"^\d{6,20}$", message=_l("Digits only, in international form without +."))])
    text = StringField(_l("Message"), validators=[InputRequired(), Length(max=1000)])
    submit = SubmitField(_l("Send on WhatsApp"))


def _demo() -> DemoWhatsApp:
    demo = current_app.extensions.get(EXTENSION)
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
        customer = form.customer.data
        with demo.lock:
            demo.written.append((time.time(), customer, form.text.data))
        delivered = demo.fake.deliver_inbound(demo.number, customer, form.text.data, name="Demo customer")
        if not delivered.ok:
            flash(gettext("The app did not take the message: %(status)s.",
                          status=delivered.deliveries[-1].status if delivered.deliveries else "?"), "error")
        return redirect(url_for("demo_whatsapp.phone", customer=customer))
    return render_template("web/demo_whatsapp.html", form=form, customer=customer, thread=demo.thread(customer),
                           business=DISPLAY_NUMBER), 422 if form.errors else 200
