"""Ops staff's view of the whole network: figures, users and roles, the audit log."""

from flask import Flask


def init_app(app: Flask) -> None:
    from marketplace.accounts.models import Role
    from marketplace.ops import views
    from marketplace.web import register_home

    app.register_blueprint(views.blueprint)
    register_home(app, Role.OPS, "ops.home")
