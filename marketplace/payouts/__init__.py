"""Earnings, the ledger and payout batches (finance)."""

from flask import Flask


def init_app(app: Flask) -> None:
    from marketplace.accounts.models import Role
    from marketplace.payouts import views
    from marketplace.web import register_home

    app.register_blueprint(views.blueprint)
    register_home(app, Role.FINANCE, "payouts.home")
