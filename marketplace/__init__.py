"""The expert-network marketplace: `create_app` builds the Flask application."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from marketplace import i18n, mail, scheduler
from marketplace.config import load_config
from marketplace.database import configure_engine, db, ping_when_idle
from marketplace.extensions import csrf, limiter, login_manager, migrate, socketio
from marketplace.group_commit import init_grouped_units
from marketplace.web.requests import SocketJSON, SocketPacket

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: Mapping[str, Any] | None = None, *, environ: Mapping[str, str] | None = None) -> Flask:
    """Build the application from the environment (or `environ`), then apply `overrides`."""
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder="static",
        instance_relative_config=True,
    )
    app.config.update(load_config(Path(app.instance_path), environ))
    app.config.update(overrides or {})
    if app.config["ENV_NAME"] != "test":
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
        ping_when_idle(db.engine, app.config["DATABASE_PING_IDLE_SECONDS"])
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    socketio.init_app(
        app,
        message_queue=app.config["SOCKETIO_MESSAGE_QUEUE"],
        async_mode=None if app.config["SOCKETIO_ASYNC_MODE"] == "auto" else app.config["SOCKETIO_ASYNC_MODE"],
        cors_allowed_origins=app.config.get("SOCKETIO_CORS_ORIGINS"),
        json=SocketJSON,
        serializer=SocketPacket,
    )
    # Shared units of work wait and yield as the server's async mode does (gevent's events, or threads').
    init_grouped_units(app, create_event=socketio.server.eio.create_event, pause=socketio.sleep)
    if socketio.server.eio.async_mode == "gevent":
        _spawn_lightly()
    app.jinja_env.add_extension("jinja2.ext.do")
    mail.init_app(app)
    i18n.init_app(app)
    scheduler.init_app(app)

    from marketplace import (
        accounts,
        brands,
        capacity,
        decisions,
        experts,
        faq,
        notifications,
        ops,
        payouts,
        routing,
        shifts,
        skills,
        web,
    )

    web.init_app(app)
    accounts.init_app(app)
    notifications.init_app(app)
    skills.init_app(app)
    brands.init_app(app)
    experts.init_app(app)
    decisions.init_app(app)
    shifts.init_app(app)
    faq.init_app(app)
    routing.init_app(app)
    capacity.init_app(app)
    ops.init_app(app)
    payouts.init_app(app)
    return app


def _spawn_lightly() -> None:
    """Socket.IO spawns a greenlet for every event it hands to a handler, and gevent records the stack each greenlet was
    spawned from unless told not to: a twentieth of a relayed message's CPU, for a record nothing here reads."""
    import gevent

    gevent.config.track_greenlet_tree = False


def settle_heap() -> None:
    """Before a long-running process starts serving: collect start-up's garbage, then leave what remains (modules,
    models, compiled statements, translations: hundreds of thousands of objects that live as long as the process)
    out of the cycle collector's full passes. Each full pass walked them all, a stall of up to 150 ms in the middle of
    requests under load; after this it walks only what serving made."""
    import gc

    gc.collect()
    gc.freeze()
