"""The installable app: its manifest, its service worker and offline page; marking notifications read."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, json, redirect, render_template, request, send_from_directory, url_for
from flask_babel import get_locale, gettext
from flask_login import current_user

from marketplace.accounts.models import Role
from marketplace.notifications import services
from marketplace.web.roles import role_required
from marketplace.web.views import safe_next

blueprint = Blueprint("pwa", __name__)

THEME_COLOR = "#1d4ed8"  # --brand in app.css
BACKGROUND_COLOR = "#f6f7f9"  # --bg in app.css
# (file under static/icons, sizes, type, purpose); "maskable" keeps its drawing inside the safe zone.
ICONS = [
    ("icon-192.png", "192x192", "image/png", "any"),
    ("icon-512.png", "512x512", "image/png", "any"),
    ("icon-maskable-512.png", "512x512", "image/png", "maskable"),
    ("icon.svg", "any", "image/svg+xml", "any"),
]


@blueprint.get("/manifest.webmanifest")
def manifest():
    document = {
        "id": url_for("experts.home"),
        "name": gettext("Marketplace for experts"),
        "short_name": gettext("Marketplace"),
        "description": gettext("Answer the chats of brands you love, from your phone."),
        "lang": str(get_locale()),
        "dir": "ltr",
        "start_url": url_for("experts.home"),
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_COLOR,
        "icons": [{"src": url_for("static", filename=f"icons/{name}"), "sizes": sizes, "type": kind,
                   "purpose": purpose} for name, sizes, kind, purpose in ICONS],
    }
    response = current_app.response_class(json.dumps(document), mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "no-cache"  # it follows the reader's language
    return response


@blueprint.get("/service-worker.js")
def service_worker():
    # Served from the root, not /static/js/, so that its scope can be the whole site.
    folder = Path(current_app.static_folder or "") / "js"
    response = send_from_directory(folder, "service-worker.js", mimetype="text/javascript", max_age=0)
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"  # browsers then check for a new worker on each visit
    return response


@blueprint.get("/offline")
def offline():
    return render_template("notifications/offline.html")


@blueprint.post("/notifications/read-all")
@role_required(*Role)
def read_all():
    services.mark_all_read(current_user)
    flash(gettext("All notifications are marked as read."), "success")
    return redirect(_back())


def _back() -> str:
    """The page the form was on, when it is on this site; else home."""
    home = url_for("web.index")
    try:
        referrer = urlsplit(request.referrer or "")
    except ValueError:  # "http://[x/": no page of ours
        return home
    if referrer.netloc != request.host:
        return home
    return safe_next(referrer.path + (f"?{referrer.query}" if referrer.query else ""), home)
