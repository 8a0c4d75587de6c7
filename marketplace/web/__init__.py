"""Shared web pieces: layout, error pages, problem+json, the API plumbing, sockets."""

from flask import Flask


def init_app(app: Flask) -> None:
    from marketplace.web import openapi, problems, sockets, views

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
