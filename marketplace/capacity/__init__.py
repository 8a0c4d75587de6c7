"""The capacity planner: forecasts, staffing plans, invitations and releases, and the simulation."""

from flask import Flask


def init_app(app: Flask) -> None:
    from marketplace.capacity import api, jobs, models, views  # noqa: F401 - models: the tables belong to the app
    from marketplace.capacity.reasons import decision_reason, forecast_reason
    from marketplace.experts import register_home_panel
    from marketplace.scheduler import register_job

    app.register_blueprint(views.blueprint)
    app.register_blueprint(api.api)
    register_home_panel(app, views.invitations_panel)
    register_job(app, jobs.SCALE)
    register_job(app, jobs.PUBLISH)
    app.jinja_env.globals.update(decision_reason=decision_reason, forecast_reason=forecast_reason)
