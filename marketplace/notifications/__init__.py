"""In-app notifications and Web Push to the devices people install the app on."""

from flask import Flask


def init_app(app: Flask) -> None:
    from marketplace.notifications import models  # noqa: F401 - the tables belong to the app's metadata
