"""Faults to inject into the next matching requests: errors, timeouts and lost responses."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

TIMEOUT_EFFECTS = ("before", "after", "none")
LOST_ANSWERS = ("close", "500")


@dataclass
class Fault:
    """One armed fault, applied to the next `remaining` requests that match `method` and `path`."""

    kind: str  # "fail", "timeout" or "lose"
    remaining: int
    method: str | None = None  # None matches any method
    path: str | None = None  # a glob on the URL path such as "/v1/transfers*"; None matches any
    status: int = 500  # "fail": the status answered
    seconds: float = 0.0  # "timeout": how long the answer is held back
    effect: str = "before"  # "timeout": act before the wait, after it, or not at all
    answer: str = "close"  # "lose": close the connection, or answer a 500 after acting

    def matches(self, method: str, path: str) -> bool:
        return ((self.method is None or self.method.upper() == method)
                and (self.path is None or fnmatchcase(path, self.path)))


class Faults:
    """Armed faults, taken in the order they were armed. The caller holds the server's lock."""

    def __init__(self) -> None:
        self._armed: list[Fault] = []

    def arm(self, fault: Fault) -> Fault:
        if fault.remaining < 1:
            raise ValueError("a fault must apply to at least one request")
        if fault.kind == "timeout" and fault.effect not in TIMEOUT_EFFECTS:
            raise ValueError(f"effect must be one of {TIMEOUT_EFFECTS}")
        if fault.kind == "lose" and fault.answer not in LOST_ANSWERS:
            raise ValueError(f"answer must be one of {LOST_ANSWERS}")
        self._armed.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """Return the fault that applies to this request, if any, and count it as used."""
        for fault in self._armed:
            if fault.matches(method, path):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._armed.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        self._armed.clear()

    @property
    def armed(self) -> list[Fault]:
        return list(self._armed)
