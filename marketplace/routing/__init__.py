"""Conversations: the chat widget, the router that offers them to experts, and the real-time chat."""

from flask import Flask


def init_app(app: Flask) -> None:
    from marketplace.experts.presence import register_presence_listener
    from marketplace.routing import (  # noqa: F401 - models: tables
        api,
        dashboard_views,
        expert_stats,
        jobs,
        models,
        router,
        sockets,
        transcript_views,
        views,
        widget,
    )
    from marketplace.scheduler import register_job

    app.register_blueprint(views.blueprint)
    app.register_blueprint(api.blueprint)
    app.register_blueprint(widget.blueprint)
    for console in (dashboard_views, transcript_views):
        app.register_blueprint(console.blueprint)
        app.register_blueprint(console.api)
    sockets.init_app()
    register_presence_listener(app, router.on_presence_changed)
    expert_stats.register(app)
    for job in jobs.jobs(app):
        register_job(app, job)
