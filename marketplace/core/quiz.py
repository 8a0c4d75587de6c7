"""Quiz rules with no framework: scoring, the pass mark, and when another attempt is allowed."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Score:
    correct: int
    total: int
    percent: int  # rounded down, for display only: passing is decided on exact integers
    passed: bool


def score(correct_choices: Mapping[int, int], answers: Mapping[int, int], pass_mark_percent: int) -> Score:
    """Score answers {question: choice} against the correct choice of each question."""
    total = len(correct_choices)
    correct = sum(1 for question, choice in correct_choices.items() if answers.get(question) == choice)
    percent = correct * 100 // total if total else 0
    return Score(correct, total, percent, total > 0 and correct * 100 >= pass_mark_percent * total)


def next_attempt_at(failed_at: Sequence[dt.datetime], now: dt.datetime, max_attempts: int,
                    cooldown: dt.timedelta) -> dt.datetime | None:
    """When the next attempt is allowed, or None if it is allowed now.

    At most `max_attempts` failed attempts fit in any `cooldown` window: after that many, the
    expert waits until the oldest of them leaves the window.
    """
    recent = sorted(moment for moment in failed_at if now - moment < cooldown)
    if len(recent) < max_attempts:
        return None
    return recent[len(recent) - max_attempts] + cooldown


def shuffled(items: Sequence[int], rng: random.Random) -> list[int]:
    """A shuffled copy, so each attempt shows questions and choices in its own order."""
    order = list(items)
    rng.shuffle(order)
    return order
