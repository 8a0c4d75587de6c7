"""Users, roles, log-in and its server-side sessions, password resets and the audit log."""

from flask import Flask


def init_app(app: Flask) -> None:
    from marketplace.accounts import api, audit, auth, jobs, passwords, views
    from marketplace.scheduler import register_job

    passwords.init_app(app)
    auth.init_app(app)
    register_job(app, jobs.PURGE_SESSIONS)
    audit.init_app(app)
    app.register_blueprint(views.blueprint)
    app.register_blueprint(api.blueprint)
