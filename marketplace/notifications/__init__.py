"""In-app notifications and Web Push to the devices people install the app on."""

from pathlib import Path

from flask import Flask


def init_app(app: Flask) -> None:
    from marketplace.notifications import api, models, views  # noqa: F401 - models: the tables join the metadata
    from marketplace.notifications.vapid import load_vapid, public_key_of

    # Load (or create, on first start) the signing key now, so a bad VAPID_PRIVATE_KEY stops start-up.
    vapid = load_vapid(app.config["VAPID_PRIVATE_KEY"], Path(app.instance_path))
    app.extensions["vapid"] = vapid
    app.extensions["vapid_public_key"] = public_key_of(vapid)
    app.register_blueprint(api.blueprint)
    app.register_blueprint(views.blueprint)
