"""Automated decisions about experts explained (EU Platform Work Directive, art. 9-11): each recorded with its
reason where the system takes it, shown to the expert, reviewable by a person on request."""

from flask import Flask


def init_app(app: Flask) -> None:
    from marketplace.decisions import api, models, views  # noqa: F401 - models: the tables join the metadata
    from marketplace.decisions.services import record_away
    from marketplace.experts import presence

    presence.register_away_recorder(app, record_away)
    app.register_blueprint(api.blueprint)
    app.register_blueprint(views.blueprint)
