"""What routing's socket handlers share: an answer through the acknowledgement, and record ids read from payloads.

Each handler (chat/sockets.py for the expert, door/sockets.py for the visitor; README.md) checks who is calling,
calls one service and answers `{"ok": true, ...}` or `{"ok": false, "error": "...", "field": "..."}`; nothing
in a handler commits.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Flask

from marketplace.database import ID_MAX, db
from marketplace.errors import DomainError
from marketplace.extensions import socketio

# A frequent event's handler: (the socket's sid, its WSGI environ, the payload) -> the answer's fields.
FrequentHandler = Callable[[str, dict, dict], dict]


def _refusal(error: DomainError) -> dict:
    db.session.rollback()
    return {"ok": False, "error": str(error.message), "field": error.field}


def answer(handler: Callable[..., dict]) -> Callable[..., dict]:
    """Turn domain errors into a refusal the client can show, and never leave a transaction open."""
    @functools.wraps(handler)
    def wrapper(data: Any = None) -> dict:
        try:
            return {"ok": True, **handler(data if isinstance(data, dict) else {})}
        except DomainError as error:
            return _refusal(error)
    return wrapper


def on_frequent_event(event: str, handler: FrequentHandler, namespace: str) -> None:
    """Register a handler for an event sent many times a second (a message), answered as `answer` does.

    Flask-SocketIO runs every event inside a request context built from the socket's WSGI environ: a cookie
    session opened and a URL matched each time, a tenth of a relayed message's CPU. The handler here runs in the
    app context alone and is given the socket's sid and environ instead; it must not read the request, the
    Flask-SocketIO session or the logged-in user (the visitor's socket keeps what it needs in its environ). A
    refusal is still worded inside the request context, in the caller's language.
    """
    server = socketio.server  # this app's (each create_app makes its own)

    def dispatch(sid: str, data: Any = None) -> dict | None:
        environ = server.get_environ(sid, namespace=namespace)
        if not environ:
            return None  # a socket the server no longer knows (as Flask-SocketIO, which ignores its events)
        app: Flask = environ["flask.app"]
        with app.app_context():
            try:
                return {"ok": True, **handler(sid, environ, data if isinstance(data, dict) else {})}
            except DomainError as error:
                with app.request_context(environ):
                    return _refusal(error)

    server.on(event, dispatch, namespace=namespace)


def record_id(data: dict, name: str) -> Any:
    """A record id from an event's payload; -1 (found nowhere) when it is not one the database can hold."""
    value = data.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= ID_MAX else -1
