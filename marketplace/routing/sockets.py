"""What routing's socket handlers share: an answer through the acknowledgement, and record ids read from payloads.

Each handler (chat/sockets.py for the expert, door/sockets.py for the visitor; README.md) checks who is calling,
calls one service and answers `{"ok": true, ...}` or `{"ok": false, "error": "...", "field": "..."}`; nothing
in a handler commits.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from marketplace.database import ID_MAX, db
from marketplace.errors import DomainError


def answer(handler: Callable[..., dict]) -> Callable[..., dict]:
    """Turn domain errors into a refusal the client can show, and never leave a transaction open."""
    @functools.wraps(handler)
    def wrapper(data: Any = None) -> dict:
        try:
            return {"ok": True, **handler(data if isinstance(data, dict) else {})}
        except DomainError as error:
            db.session.rollback()
            return {"ok": False, "error": str(error.message), "field": error.field}
    return wrapper


def record_id(data: dict, name: str) -> Any:
    """A record id from an event's payload; -1 (found nowhere) when it is not one the database can hold."""
    value = data.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= ID_MAX else -1
