"""Earnings, the ledger and payout batches (finance)."""

from flask import Flask


def init_app(app: Flask) -> None:
    from marketplace.accounts.models import Role
    from marketplace.payouts import jobs, models  # noqa: F401 - models: the tables belong to the app
    from marketplace.payouts.batches import api, views
    from marketplace.payouts.earnings import services as earnings
    from marketplace.payouts.statements import views as statement_views
    from marketplace.scheduler import register_job
    from marketplace.web import register_home

    app.register_blueprint(views.blueprint)
    app.register_blueprint(views.expert_pages)
    app.register_blueprint(api.api)
    app.register_blueprint(api.hooks)
    app.register_blueprint(statement_views.blueprint)
    from marketplace.payouts.reports import views as report_views
    app.register_blueprint(report_views.blueprint)
    app.register_blueprint(report_views.api)
    register_home(app, Role.FINANCE, "payouts.home")
    app.jinja_env.globals["payout_status"] = views.status_label
    app.jinja_env.globals["earning_flag_reasons"] = earnings.flag_reasons
    for job in (jobs.EARN, jobs.RELEASE, jobs.SUBMIT, jobs.CHECK):
        register_job(app, job)
