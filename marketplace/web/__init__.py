"""Shared web pieces: layout, error pages, problem+json, the API plumbing, sockets."""

from flask import Flask
from werkzeug.routing import IntegerConverter, Map


class DatabaseId(IntegerConverter):
    """`<int:...>` in every route: a whole number the database's ids can hold, so a path naming a larger one
    is not found (404) instead of failing in the database driver (500)."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None, max: int | None = None,  # noqa: A002
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits, min, BIGGEST_ID if max is None else max, signed)


BIGGEST_ID = 2**63 - 1


def init_app(app: Flask) -> None:
    from marketplace.web import openapi, problems, sockets, views

    app.url_map.converters["int"] = DatabaseId  # before any route is added
    app.extensions.setdefault("home_endpoints", {})
    app.extensions.setdefault("health_checks", {})
    problems.init_app(app)
    views.init_app(app)
    sockets.init_app(app)
    app.register_blueprint(views.blueprint)
    app.register_blueprint(openapi.blueprint)


def register_home(app: Flask, role: str, endpoint: str) -> None:
    """Say which page is home for a role; `/` sends logged-in users there."""
    app.extensions.setdefault("home_endpoints", {})[str(role)] = endpoint
