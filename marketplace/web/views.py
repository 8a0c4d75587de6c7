"""The landing page, the health check and the npm-installed front-end files."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_login import current_user

from marketplace.database import db

blueprint = Blueprint("web", __name__)

# The only files served from node_modules: what the pages use, pinned by package-lock.json.
VENDOR_FILES = {
    "socket.io.min.js": "socket.io-client/dist/socket.io.min.js",
    "socket.io.min.js.map": "socket.io-client/dist/socket.io.min.js.map",
    "chart.umd.min.js": "chart.js/dist/chart.umd.min.js",
    "chart.umd.min.js.map": "chart.js/dist/chart.umd.min.js.map",
}

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    ),
}


# Answers anyone may have from a cache: the API's public description and the widget's loader.
PUBLIC_API_PATHS = frozenset({"/api/openapi.json"})


def _private(path: str) -> bool:
    """An answer that may carry someone's data: the API's, and any page of a logged-in person."""
    if path.startswith("/api/"):
        return path not in PUBLIC_API_PATHS
    return current_user.is_authenticated and not path.startswith("/static/")


def safe_next(target: str | None, fallback: str) -> str:
    """Only follow redirects to paths on this site."""
    if not target:
        return fallback
    try:
        parts = urlsplit(target)
    except ValueError:  # "//[x": no address at all
        return fallback
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target


@blueprint.get("/")
def index():
    if current_user.is_authenticated and not current_user.is_token:
        endpoint = current_app.extensions["home_endpoints"].get(str(current_user.role))
        if endpoint:
            return redirect(url_for(endpoint))
    return render_template("web/landing.html")


@blueprint.get("/healthz")
def healthz():
    checks: dict[str, str] = {}
    try:
        db.session.execute(sa.text("SELECT 1"))
        checks["database"] = "ok"
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        checks["database"] = "unreachable"
    for name, check in current_app.extensions["health_checks"].items():
        checks[name] = check()
    healthy = checks["database"] == "ok"
    return jsonify(status="ok" if healthy else "failing", checks=checks), 200 if healthy else 503


@blueprint.get("/static/vendor/<name>")
def vendor(name: str):
    relative = VENDOR_FILES.get(name)
    if relative is None:
        abort(404)
    path = Path(current_app.config["VENDOR_DIR"]) / relative
    if not path.is_file():
        current_app.logger.error("front-end file %s is missing: run `npm ci` in the project folder", path)
        abort(404)
    return send_from_directory(path.parent, path.name, max_age=3600)


def init_app(app: Flask) -> None:
    @app.after_request
    def security_headers(response):
        # A page that sets its own policy (the chat widget's frame names where it may be embedded) keeps
        # it, and X-Frame-Options, which cannot name origins, stays off it.
        own_policy = "Content-Security-Policy" in response.headers
        for name, value in SECURITY_HEADERS.items():
            if not (own_policy and name == "X-Frame-Options"):
                response.headers.setdefault(name, value)
        if _private(request.path):
            response.headers.setdefault("Cache-Control", "no-store")  # nobody's answers end up in a shared cache
            response.vary.add("Cookie")
        return response
