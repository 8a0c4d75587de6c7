"""The shared product-skill taxonomy."""

from flask import Flask


def init_app(app: Flask) -> None:
    from marketplace.skills import models  # noqa: F401 - the tables belong to the app's metadata
