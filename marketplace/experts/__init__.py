"""Expert profiles, vetting and brand enrolments."""

from flask import Flask


def init_app(app: Flask) -> None:
    from marketplace.accounts.models import Role
    from marketplace.experts import api, views
    from marketplace.web import register_home

    app.register_blueprint(views.blueprint)
    app.register_blueprint(api.blueprint)
    register_home(app, Role.EXPERT, "experts.home")
