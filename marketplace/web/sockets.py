"""The Socket.IO backbone: only logged-in people connect, each into the rooms that concern them."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import Flask, current_app
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, emit, join_room

from marketplace.database import utcnow
from marketplace.extensions import socketio
from marketplace.shared.rooms import user_room

RoomProvider = Callable[[object], Iterable[str]]


def register_rooms(app: Flask, provider: RoomProvider) -> None:
    """Let a domain add rooms a user joins on connect (e.g. a brand's room for its members)."""
    app.extensions.setdefault("socket_room_providers", []).append(provider)


def on_connect(auth: dict | None = None) -> None:
    if not current_user.is_authenticated or current_user.is_token:
        raise ConnectionRefusedError("unauthorized")
    rooms = [user_room(current_user.id)]
    for provider in current_app.extensions.get("socket_room_providers", []):
        rooms.extend(provider(current_user))
    for room in rooms:
        join_room(room)
    emit("welcome", {"user_id": current_user.id, "rooms": rooms, "server_time": utcnow().isoformat()})


def on_ping(data: object = None) -> dict:
    """Answer a client's round-trip check with the server time."""
    return {"server_time": utcnow().isoformat()}


def init_app(app: Flask) -> None:
    """Register the handlers on this app's Socket.IO server (create_app has just made it)."""
    app.extensions.setdefault("socket_room_providers", [])
    socketio.on_event("connect", on_connect)
    socketio.on_event("ping_server", on_ping)
