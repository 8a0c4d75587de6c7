"""Shift slots, bookings, reminders and attendance."""

from flask import Flask


def init_app(app: Flask) -> None:
    from marketplace.shifts import models  # noqa: F401 - the tables belong to the app's metadata
