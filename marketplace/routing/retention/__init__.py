"""Personal data: each brand's retention period enforced by a scheduled job, and erasing one contact on request."""

from flask import Flask


def init_app(app: Flask) -> None:
    from marketplace.routing.retention import api, services, views
    from marketplace.scheduler import Job, register_job

    app.register_blueprint(api.blueprint)
    app.register_blueprint(views.blueprint)
    # Hourly: a period is counted in months, so an hour late is nothing, and each run finds only what expired since.
    register_job(app, Job("retention", services.anonymise_expired, "interval", {"hours": 1}))
