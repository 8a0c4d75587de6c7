"""The expert's own data: the export of everything held about them, and the closing of their account.

Both are registries the domains fill, since the data lives in layers above this one (shifts, routing, payouts):

- an export section is one small function of the expert (`Holder`) giving a list of rows (a table: a CSV of its own
  in the archive, and a list in the JSON) or one object (JSON only); a domain adds one with
  `register_export_section(app, "name", function)`, one line in its `init_app`;
- a closure step runs inside the closing transaction (e.g. shifts cancels the future bookings); a closure listener
  runs once it has committed (routing ends the chats the expert still held), as the presence listeners do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask

from marketplace.accounts.models import User
from marketplace.experts.models import ExpertProfile

SECTIONS = "expert_export_sections"
CLOSURE_STEPS = "expert_closure_steps"
CLOSURE_LISTENERS = "expert_closure_listeners"


@dataclass(frozen=True)
class Holder:
    """Whose data it is: the expert's profile and their user."""

    profile: ExpertProfile
    user: User


# Rows (a table: a CSV in the archive), one object, or None when there is nothing of the kind.
ExportSection = Callable[[Holder], list[dict[str, Any]] | dict[str, Any] | None]
# Called inside the closure's transaction, before the personal data is erased (the holder still reads as before).
ClosureStep = Callable[[Holder, dt.datetime], None]
# Called with the expert's id once the closure has committed.
ClosureListener = Callable[[int], None]


def register_export_section(app: Flask, name: str, section: ExportSection) -> None:
    sections = app.extensions.setdefault(SECTIONS, {})
    if name in sections and sections[name] is not section:
        raise ValueError(f"two export sections are called {name!r}")
    sections[name] = section


def register_closure_step(app: Flask, step: ClosureStep) -> None:
    steps = app.extensions.setdefault(CLOSURE_STEPS, [])
    if step not in steps:
        steps.append(step)


def register_closure_listener(app: Flask, listener: ClosureListener) -> None:
    listeners = app.extensions.setdefault(CLOSURE_LISTENERS, [])
    if listener not in listeners:
        listeners.append(listener)


def init_app(app: Flask) -> None:
    from marketplace.experts.own_data import api, sections, views

    app.register_blueprint(api.blueprint)
    app.register_blueprint(views.blueprint)
    sections.register(app)
