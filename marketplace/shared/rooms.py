"""The Socket.IO rooms, by name: a person's own, a brand's members', a visitor's conversation."""

from __future__ import annotations


def user_room(user_id: int) -> str:
    """Every socket of one logged-in person (all their tabs and devices)."""
    return f"user:{user_id}"


def brand_room(brand_id: int) -> str:
    """The sockets of a brand's members (its live view and dashboard)."""
    return f"brand:{brand_id}"


def conversation_room(conversation_id: int) -> str:
    """The visitor's sockets of one conversation (on the `/visitor` namespace)."""
    return f"conversation:{conversation_id}"
