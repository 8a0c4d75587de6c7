"""Expert profiles, vetting, brand enrolments and presence."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from markupsafe import Markup

# A panel on the expert's home page, given by a domain above this one (e.g. today's shifts):
# called with the expert's profile, it returns the panel's HTML.
HomePanel = Callable[[object], Markup | str]


def register_home_panel(app: Flask, panel: HomePanel) -> None:
    app.extensions.setdefault("expert_home_panels", []).append(panel)


def init_app(app: Flask) -> None:
    from marketplace.accounts.models import Role
    from marketplace.experts import api, jobs, own_data, sockets, status_bar, views
    from marketplace.extensions import socketio
    from marketplace.scheduler import register_job
    from marketplace.web import register_home

    app.extensions.setdefault("expert_home_panels", [])
    app.register_blueprint(views.blueprint)
    app.register_blueprint(api.blueprint)
    register_home(app, Role.EXPERT, "experts.home")
    socketio.on_event("heartbeat", sockets.on_heartbeat)
    socketio.on_event("presence_set", sockets.on_presence_set)
    app.context_processor(status_bar.context)
    register_job(app, jobs.sweep_presence(app))
    own_data.init_app(app)
