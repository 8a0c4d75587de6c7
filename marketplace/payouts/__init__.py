"""Earnings, the ledger and payout batches (finance)."""

from flask import Flask


def init_app(app: Flask) -> None:
    from marketplace.accounts.models import Role
    from marketplace.decisions.explained import register_parameters
    from marketplace.experts.own_data import register_export_section
    from marketplace.payouts import jobs, models, personal_data  # noqa: F401 - models: the tables belong to the app
    from marketplace.payouts.batches import api as batch_api
    from marketplace.payouts.batches import views as batch_views
    from marketplace.payouts.earnings import api as earning_api
    from marketplace.payouts.earnings import services as earnings
    from marketplace.payouts.earnings import views as earning_views
    from marketplace.payouts.rails import api as rail_api
    from marketplace.payouts.rails import views as rail_views
    from marketplace.payouts.reports import views as report_views
    from marketplace.payouts.statements import views as statement_views
    from marketplace.payouts.tax import notice as tax_notice
    from marketplace.payouts.tax import views as tax_views
    from marketplace.scheduler import register_job
    from marketplace.web import register_home

    for blueprint in (batch_views.blueprint, batch_api.api, earning_views.blueprint, earning_api.api,
                      rail_views.blueprint, rail_api.api, rail_api.hooks, statement_views.blueprint,
                      report_views.blueprint, report_views.api, tax_views.blueprint):
        app.register_blueprint(blueprint)
    register_home(app, Role.FINANCE, "payouts.home")
    app.jinja_env.globals["payout_status"] = batch_views.status_label
    app.jinja_env.globals["earning_flag_reasons"] = earnings.flag_reasons
    app.jinja_env.globals["tax_notice"] = tax_notice.notice
    for job in (jobs.EARN, jobs.CREDIT, jobs.RELEASE, jobs.RELEASE_CREDITS, jobs.SUBMIT, jobs.CHECK,
                jobs.TAX_SUMMARIES):
        register_job(app, job)
    for name, section in (("earnings", personal_data.earnings), ("faq_credits", personal_data.faq_credits),
                          ("payouts", personal_data.payouts), ("statements", personal_data.statements_section),
                          ("tax_summaries", personal_data.tax_summaries)):
        register_export_section(app, name, section)
    register_parameters(app, "fraud_checks", earnings.fraud_check_parameters)
