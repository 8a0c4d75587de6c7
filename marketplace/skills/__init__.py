"""The shared product-skill taxonomy."""

from flask import Flask


def init_app(app: Flask) -> None:
    from marketplace.skills import api

    app.register_blueprint(api.blueprint)
