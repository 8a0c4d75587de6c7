"""A brand's product quiz: its members write it; the experts domain runs attempts against it."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from marketplace.accounts import services as accounts
from marketplace.brands.models import Actor, BrandRole, Quiz, QuizChoice, QuizQuestion
from marketplace.brands.services import get_brand
from marketplace.database import db, use_case
from marketplace.errors import InvalidInput, clean_text

MAX_QUESTIONS = 50
MAX_CHOICES = 8


def get_quiz(actor: Actor, brand_id: int) -> Quiz:
    """The brand's quiz with its answers, for the brand's own people; an unsaved empty one when none."""
    get_brand(actor, brand_id)
    return quiz_of(brand_id) or Quiz(brand_id=brand_id, pass_mark_percent=80, max_attempts=2, cooldown_hours=24,
                                     version=0, questions=[])


def quiz_of(brand_id: int) -> Quiz | None:
    """The quiz with its answers; callers must never send `is_correct` to an expert."""
    return db.session.scalar(sa.select(Quiz).where(Quiz.brand_id == brand_id))


def _int_in(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(_l("Enter a whole number from %(low)d to %(high)d.", low=low, high=high), field)
    return value


def _clean_questions(questions: list[dict[str, Any]]) -> list[QuizQuestion]:
    if not questions:
        raise InvalidInput(_l("Write at least one question."), "questions")
    if len(questions) > MAX_QUESTIONS:
        raise InvalidInput(_l("Use at most %(count)d questions.", count=MAX_QUESTIONS), "questions")
    built = []
    for q_index, question in enumerate(questions):
        where = f"questions.{q_index}"
        text = clean_text(question.get("text"), f"{where}.text", max_length=500, required=_l("Write the question."))
        choices = question.get("choices") or []
        if not 2 <= len(choices) <= MAX_CHOICES:
            raise InvalidInput(_l("Give from 2 to %(count)d choices.", count=MAX_CHOICES), f"{where}.choices")
        if sum(1 for choice in choices if choice.get("is_correct")) != 1:
            raise InvalidInput(_l("Mark exactly one choice as correct."), f"{where}.choices")
        built.append(QuizQuestion(position=q_index, text=text, choices=[
            QuizChoice(position=c_index, is_correct=bool(choice.get("is_correct")),
                       text=clean_text(choice.get("text"), f"{where}.choices.{c_index}.text", max_length=200,
                                       required=_l("Write the choice.")))
            for c_index, choice in enumerate(choices)
        ]))
    return built


@use_case
def set_quiz(actor: Actor, brand_id: int, *, questions: list[dict[str, Any]], pass_mark_percent: int = 80,
             max_attempts: int = 2, cooldown_hours: int = 24) -> Quiz:
    """Replace the brand's quiz (its admins); attempts begun on the old questions no longer count."""
    get_brand(actor, brand_id, need=BrandRole.ADMIN)
    settings = {
        "pass_mark_percent": _int_in(pass_mark_percent, "pass_mark_percent", 1, 100),
        "max_attempts": _int_in(max_attempts, "max_attempts", 1, 10),
        "cooldown_hours": _int_in(cooldown_hours, "cooldown_hours", 0, 24 * 30),
    }
    new_questions = _clean_questions(questions)
    quiz = quiz_of(brand_id)
    if quiz is None:
        quiz = Quiz(brand_id=brand_id, version=1, **settings)
        db.session.add(quiz)
    else:
        for key, value in settings.items():
            setattr(quiz, key, value)
        quiz.version += 1
        quiz.questions.clear()
        db.session.flush()  # delete the old questions before their positions are reused
    quiz.questions.extend(new_questions)
    accounts.record_audit("quiz_changed", actor_id=getattr(actor, "id", None), brand_id=brand_id,
                          version=quiz.version, questions=len(new_questions))
    return quiz


def brands_with_quiz(brand_ids: set[int] | None = None) -> set[int]:
    """Which brands (of `brand_ids`, or all) have a quiz."""
    query = sa.select(Quiz.brand_id)
    if brand_ids is not None:
        query = query.where(Quiz.brand_id.in_(brand_ids))
    return set(db.session.scalars(query))
