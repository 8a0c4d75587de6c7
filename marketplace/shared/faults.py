"""Named places where a fault can be injected, to see a failure handled as a person would meet it.

Only the demo arms them (`marketplace serve --demo`, `demo_faults.py`), and tests: the FAQ bot's answering is one
(`faq.answer`), so a browser can watch a failing bot hand the visitor over to an expert rather than fall silent.
Nothing is armed in a served app otherwise, and a check then costs one dictionary look-up.
"""

from __future__ import annotations

import threading

_armed: dict[str, int] = {}
_lock = threading.Lock()


class InjectedFault(RuntimeError):
    """A failure asked for on purpose."""


def arm(name: str, times: int = 1) -> None:
    """Make the next `times` checks of `name` fail."""
    with _lock:
        _armed[name] = max(0, times)


def armed() -> dict[str, int]:
    with _lock:
        return dict(_armed)


def check(name: str) -> None:
    """Raise InjectedFault when `name` is armed (and count the use down)."""
    if not _armed:
        return
    with _lock:
        left = _armed.get(name, 0)
        if left <= 0:
            return
        _armed[name] = left - 1
    raise InjectedFault(f"fault injected at {name}")
