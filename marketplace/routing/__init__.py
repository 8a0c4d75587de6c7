"""Conversations: the chat widget, the router that offers them to experts, and the real-time chat."""

from flask import Flask


def init_app(app: Flask) -> None:
    from marketplace.experts.presence import register_presence_listener
    from marketplace.routing import api, jobs, models, router, sockets, views, widget  # noqa: F401 - models: tables
    from marketplace.scheduler import register_job

    app.register_blueprint(views.blueprint)
    app.register_blueprint(api.blueprint)
    app.register_blueprint(widget.blueprint)
    sockets.init_app()
    register_presence_listener(app, router.on_presence_changed)
    for job in jobs.jobs(app):
        register_job(app, job)
