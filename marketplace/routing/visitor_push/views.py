"""The opt-in page: opened at the top by the widget (browsers refuse to ask for notifications in a brand's frame), it
asks the visitor's permission, subscribes this browser with the site's service worker and sends the subscription with
its address's token (js/widget_push.js). A forged or expired link gets the resume link's friendly page."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, url_for
from flask_babel import get_locale

from marketplace.brands.models import Brand
from marketplace.database import db, end_read
from marketplace.errors import NotFound
from marketplace.notifications import services as notifications
from marketplace.routing.visitor_push import services

blueprint = Blueprint("visitor_push", __name__)


@blueprint.get("/widget/<key>/notify")
def opt_in(key: str):
    token = request.args.get("t", "")
    try:
        conversation = services.opted_in_conversation(key, token)
    except NotFound:
        end_read()
        return render_template("routing/resume_invalid.html"), 404
    brand = db.session.get(Brand, conversation.brand_id)
    html = render_template(
        "routing/push_opt_in.html", brand_name=brand.name, lang=str(get_locale()), token=token,
        subscribe_url=url_for("visitor_push_api.subscribe_opted_in", key=key),
        worker_url=url_for("pwa.service_worker"), public_key=notifications.vapid_public_key(),
        script=url_for("static", filename="js/widget_push.js"), css=url_for("static", filename="css/widget.css"),
    )
    end_read()
    response = current_app.make_response(html)
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "worker-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    )
    # The address holds a token: no other site learns it, and no shared cache keeps the page.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response
