"""Users, roles, log-in, password resets and the audit log."""

from flask import Flask


def init_app(app: Flask) -> None:
    from marketplace.accounts import api, audit, auth, views

    auth.init_app(app)
    audit.init_app(app)
    app.register_blueprint(views.blueprint)
    app.register_blueprint(api.blueprint)
