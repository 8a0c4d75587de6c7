"""Shift slots, bookings, reminders and attendance."""

from flask import Flask


def init_app(app: Flask) -> None:
    from marketplace.experts import register_home_panel
    from marketplace.scheduler import register_job
    from marketplace.shifts import api, jobs, models, views  # noqa: F401 - models: the tables belong to the app's metadata

    app.register_blueprint(views.blueprint)
    app.register_blueprint(api.blueprint)
    register_home_panel(app, views.today_panel)
    register_job(app, jobs.SEND_REMINDERS)
    register_job(app, jobs.RECORD_ATTENDANCE)
