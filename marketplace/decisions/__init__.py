"""Automated decisions about experts explained (EU Platform Work Directive, art. 9-11): each recorded with its
reason where the system takes it, shown to the expert, reviewable by a person on request."""

from flask import Flask


def init_app(app: Flask) -> None:
    from marketplace.decisions import api, models, views  # noqa: F401 - models: the tables join the metadata
    from marketplace.decisions.services import decisions_for_export, record_away
    from marketplace.experts import presence
    from marketplace.experts.own_data import register_export_section

    presence.register_away_recorder(app, record_away)
    register_export_section(app, "decisions", lambda holder: decisions_for_export(holder.profile.id))
    app.register_blueprint(api.blueprint)
    app.register_blueprint(views.blueprint)
