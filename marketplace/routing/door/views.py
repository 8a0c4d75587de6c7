"""The visitor's pages: the loader script brands put on their site, and the chat frame it opens.

The frame is served from our origin, so its calls are same-origin; where it may be embedded is the brand's
list of origins, enforced by the browser through `frame-ancestors`.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, current_app, render_template, request, send_from_directory, url_for
from flask_babel import get_locale

from marketplace.brands import services as brands
from marketplace.brands.models import Brand
from marketplace.core import lifecycles
from marketplace.database import end_read
from marketplace.notifications import services as notifications
from marketplace.routing.door.schemas import PAGE_URL_LENGTH

blueprint = Blueprint("widget", __name__)
STATIC = Path(__file__).resolve().parents[2] / "static"


@blueprint.get("/widget.js")
def loader():
    """The snippet brands put on their pages."""
    response = send_from_directory(STATIC / "widget", "loader.js", max_age=300)
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def frame_ancestors(origins: list[str]) -> str:
    return " ".join(["'self'", *origins])


def page_address(page: str | None) -> str:
    """The brand's page the frame opened on, as a conversation can store it; empty when it is not a web page."""
    page = (page or "").strip()[:PAGE_URL_LENGTH]
    try:
        scheme = urlsplit(page).scheme
    except ValueError:  # a malformed host ("http://[x")
        return ""
    return page if scheme in ("http", "https") else ""


@blueprint.get("/widget/<key>")
def frame(key: str):
    """The chat panel the loader opens in an iframe."""
    return frame_response(key, brands.brand_for_widget(key))


def frame_response(key: str, brand: Brand, resume_token: str | None = None):
    """The chat frame of the brand; with `resume_token` (the e-mailed resume link, opened full page), its script
    binds this browser to that conversation first."""
    html = render_template(
        "routing/widget_frame.html", key=key, brand_name=brand.name, topics=list(brand.topics or []),
        page_url=page_address(request.args.get("page")), lang=str(get_locale()), resume_token=resume_token,
        queued_statuses=lifecycles.CONVERSATION_QUEUED, assigned_statuses=lifecycles.CONVERSATION_ASSIGNED,
        bot_statuses=lifecycles.CONVERSATION_WITH_BOT,
        over_statuses=(*lifecycles.CONVERSATION_ENDED, *lifecycles.CONVERSATION_REFUSED,
                       *lifecycles.CONVERSATION_RESOLVED_BY_BOT),
        socketio_src=url_for("web.vendor", name="socket.io.min.js"),
        widget_js=url_for("static", filename="js/widget.js"), widget_css=url_for("static", filename="css/widget.css"),
        push_public_key=notifications.vapid_public_key(),  # the widget opened as a page subscribes itself
    )
    end_read()
    response = current_app.make_response(html)
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; "
        f"frame-ancestors {frame_ancestors(brand.widget_origins or [])}; base-uri 'self'; form-action 'self'"
    )
    if resume_token:
        # The address holds a token: no other site learns it, and no shared cache keeps the page.
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
    return response
