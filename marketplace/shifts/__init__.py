"""Shift slots, bookings, reminders and attendance."""

from flask import Flask


def init_app(app: Flask) -> None:
    from marketplace.experts import register_home_panel
    from marketplace.experts.own_data import register_closure_step, register_export_section
    from marketplace.scheduler import register_job
    from marketplace.shifts import api, jobs, models, personal_data, views  # noqa: F401 - models: the tables belong to the app's metadata

    app.register_blueprint(views.blueprint)
    app.register_blueprint(api.blueprint)
    register_home_panel(app, views.today_panel)
    register_job(app, jobs.SEND_REMINDERS)
    register_job(app, jobs.RECORD_ATTENDANCE)
    register_export_section(app, "shifts", personal_data.shifts)
    register_closure_step(app, personal_data.cancel_future_shifts)
