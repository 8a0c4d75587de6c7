"""A plain-text form of a quiz that people can write in one text box.

Questions are separated by a blank line; each question's first line is its text, and every following
line is a choice starting with "*" (the correct one) or "-" (a wrong one):

    Which bulb lasts longest?
    * LED
    - Halogen
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class QuizTextError(ValueError):
    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.message = message
        self.line = line


def parse(text: str) -> list[dict[str, Any]]:
    """Turn the text into [{"text": ..., "choices": [{"text": ..., "is_correct": bool}]}]."""
    questions: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            current = None
            continue
        if line[0] in "*-":
            if current is None:
                raise QuizTextError("choice_without_question", number)
            choice = line[1:].strip()
            if not choice:
                raise QuizTextError("empty_choice", number)
            current["choices"].append({"text": choice, "is_correct": line[0] == "*"})
        elif current is None:
            current = {"text": line, "choices": []}
            questions.append(current)
        else:
            raise QuizTextError("choice_needs_marker", number)
    return questions


def format_quiz(questions: Iterable[Any]) -> str:
    """The text form of saved questions (objects with .text and .choices of .text/.is_correct)."""
    blocks = []
    for question in questions:
        lines = [question.text] + [f"{'*' if c.is_correct else '-'} {c.text}" for c in question.choices]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
