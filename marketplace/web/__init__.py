"""Shared web pieces: layout, error pages, problem+json, the API plumbing, sockets."""

from flask import Flask
from werkzeug.routing import IntegerConverter


class DatabaseId(IntegerConverter):
    """`<int:...>` in every route: ASCII digits only. A number larger than any id is matched here and found
    nowhere (404, by `requests.refuse_unknown_path_values`): refused in the converter, it would make
    werkzeug answer 405 where another method's rule shares the path."""

    regex = r"[0-9]+"


def init_app(app: Flask) -> None:
    from marketplace.web import dev_mail, filters, openapi, problems, requests, sockets, views

    app.url_map.converters["int"] = DatabaseId  # before any route is added
    app.extensions.setdefault("home_endpoints", {})
    app.extensions.setdefault("health_checks", {})
    requests.init_app(app)
    problems.init_app(app)
    views.init_app(app)
    filters.init_app(app)
    sockets.init_app(app)
    app.register_blueprint(views.blueprint)
    app.register_blueprint(openapi.blueprint)
    if "sent_mails" in app.extensions:  # outside production only: the mails carry password reset links
        app.register_blueprint(dev_mail.blueprint)


def register_home(app: Flask, role: str, endpoint: str) -> None:
    """Say which page is home for a role; `/` sends logged-in users there."""
    app.extensions.setdefault("home_endpoints", {})[str(role)] = endpoint
