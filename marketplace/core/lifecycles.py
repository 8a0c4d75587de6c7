"""The allowed status changes of experts and enrolments (DESIGN section 3), as plain data."""

from __future__ import annotations

# Expert: applied -> approved | rejected; approved -> suspended -> approved. A rejected applicant may
# correct their application and resubmit it: rejected -> applied, back in the vetting queue.
EXPERT_TRANSITIONS: dict[str, dict[str, str]] = {
    "approve": {"applied": "approved"},
    "reject": {"applied": "rejected"},
    "suspend": {"approved": "suspended"},
    "reinstate": {"suspended": "approved"},
    "resubmit": {"rejected": "applied"},
}

# The decisions ops take on an expert; the other actions are the expert's own.
EXPERT_DECISIONS: tuple[str, ...] = ("approve", "reject", "suspend", "reinstate")

# Enrolment with one brand: applied -> quiz_passed -> approved | rejected. A brand may also turn
# down an applicant before the quiz, and take back an approval (both end as rejected).
ENROLMENT_TRANSITIONS: dict[str, dict[str, str]] = {
    "pass_quiz": {"applied": "quiz_passed"},
    "approve": {"quiz_passed": "approved"},
    "reject": {"applied": "rejected", "quiz_passed": "rejected", "approved": "rejected"},
}


def next_status(transitions: dict[str, dict[str, str]], action: str, current: str) -> str | None:
    """The status `action` leads to from `current`, or None when the lifecycle does not allow it."""
    return transitions.get(action, {}).get(current)
