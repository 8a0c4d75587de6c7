"""An expert's attempts at a brand's quiz: questions in an order of their own, scored, a cooldown after failures.

Passing moves the enrolment on (`enrolments.pass_quiz`): approved at once when the brand approves
automatically and ops have approved the expert.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l

from marketplace.accounts import services as accounts
from marketplace.accounts.models import User
from marketplace.brands import quizzes
from marketplace.brands import services as brands
from marketplace.brands.models import Quiz
from marketplace.core import quiz as quiz_rules
from marketplace.database import db, use_case, utcnow
from marketplace.errors import Conflict, InvalidInput, NotFound
from marketplace.experts import enrolments
from marketplace.experts import services as experts
from marketplace.experts.models import Enrolment, EnrolmentStatus, ExpertProfile, QuizAttempt

_shuffler = random.SystemRandom()


@dataclass(frozen=True)
class QuizChoiceView:
    id: int
    text: str


@dataclass(frozen=True)
class QuizQuestionView:
    id: int
    text: str
    choices: list[QuizChoiceView]


@dataclass(frozen=True)
class QuizView:
    """An attempt as the expert sees it: questions and choices in this attempt's order, never the answers."""

    attempt_id: int
    brand_id: int
    pass_mark_percent: int
    attempts_left: int
    questions: list[QuizQuestionView]


@dataclass(frozen=True)
class QuizResult:
    attempt_id: int
    correct: int
    total: int
    score_percent: int
    passed: bool
    enrolment_status: EnrolmentStatus
    next_attempt_at: dt.datetime | None
    attempts_left: int
    waiting_for_vetting: bool = False  # passed, but the brand's decision waits until ops approve the expert


def _failed_attempt_times(enrolment_id: int, version: int) -> list[dt.datetime]:
    return list(db.session.scalars(
        sa.select(QuizAttempt.submitted_at).where(
            QuizAttempt.enrolment_id == enrolment_id, QuizAttempt.quiz_version == version,
            QuizAttempt.passed.is_(False))
    ))


def _attempt_window(quiz: Quiz, enrolment_id: int, now: dt.datetime) -> tuple[dt.datetime | None, int]:
    """When the next attempt is allowed (None: now), and how many remain in the current window."""
    failed = _failed_attempt_times(enrolment_id, quiz.version)
    cooldown = dt.timedelta(hours=quiz.cooldown_hours)
    retry_at = quiz_rules.next_attempt_at(failed, now, quiz.max_attempts, cooldown)
    recent = sum(1 for moment in failed if now - moment < cooldown)
    return retry_at, max(quiz.max_attempts - recent, 0)


def _refuse_until(retry_at: dt.datetime) -> Conflict:
    return Conflict(_l("You have used your attempts for now. You can try again from %(when)s.",
                       when=format_datetime(retry_at, "short")), "attempt")


def _quiz_for(profile: ExpertProfile, brand_id: int) -> tuple[Enrolment, Quiz]:
    enrolment = enrolments.own_enrolment(profile, brand_id)
    quiz = quizzes.quiz_of(brand_id)
    if quiz is None or not quiz.questions:
        raise NotFound(_l("This brand has no quiz."))
    if enrolment.status != EnrolmentStatus.APPLIED:
        raise Conflict(_l("You have already passed this brand's quiz."), "attempt")
    return enrolment, quiz


def _view(attempt: QuizAttempt, quiz: Quiz, attempts_left: int) -> QuizView:
    questions = {question.id: question for question in quiz.questions}
    shown = []
    for question_id in attempt.question_order:
        question = questions[question_id]
        choices = {choice.id: choice for choice in question.choices}
        shown.append(QuizQuestionView(question.id, question.text, [
            QuizChoiceView(choice_id, choices[choice_id].text) for choice_id in attempt.choice_order[str(question_id)]
        ]))
    return QuizView(attempt.id, quiz.brand_id, quiz.pass_mark_percent, attempts_left, shown)


@use_case
def start_quiz(actor: User, brand_id: int) -> QuizView:
    """Begin (or resume) an attempt at the brand's quiz, in an order of its own."""
    profile = experts.own_profile(actor)
    experts.require_may_apply(profile)
    enrolment, quiz = _quiz_for(profile, brand_id)
    now = utcnow()
    retry_at, attempts_left = _attempt_window(quiz, enrolment.id, now)
    if retry_at is not None:
        raise _refuse_until(retry_at)
    attempt = db.session.scalar(
        sa.select(QuizAttempt).where(QuizAttempt.enrolment_id == enrolment.id, QuizAttempt.submitted_at.is_(None),
                                     QuizAttempt.quiz_version == quiz.version).order_by(QuizAttempt.id.desc())
    )
    if attempt is None:
        attempt = QuizAttempt(
            enrolment_id=enrolment.id, quiz_version=quiz.version, started_at=now,
            question_order=quiz_rules.shuffled([q.id for q in quiz.questions], _shuffler),
            choice_order={str(q.id): quiz_rules.shuffled([c.id for c in q.choices], _shuffler)
                          for q in quiz.questions},
        )
        db.session.add(attempt)
        db.session.flush()
    return _view(attempt, quiz, attempts_left)


def _clean_answers(answers: Mapping[Any, Any], attempt: QuizAttempt) -> dict[int, int]:
    clean: dict[int, int] = {}
    for question_id in attempt.question_order:
        raw = answers.get(question_id, answers.get(str(question_id)))
        try:
            choice_id = int(raw)
        except (TypeError, ValueError):
            raise InvalidInput(_l("Answer every question."), f"question_{question_id}") from None
        if choice_id not in attempt.choice_order[str(question_id)]:
            raise InvalidInput(_l("Choose one of the proposed answers."), f"question_{question_id}")
        clean[question_id] = choice_id
    return clean


@use_case
def submit_quiz(actor: User, brand_id: int, attempt_id: int, answers: Mapping[Any, Any],
                *, ip: str | None = None) -> QuizResult:
    """Score an attempt; passing moves the enrolment on (and approves it when the brand is automatic)."""
    # The expert's row first (as vetting takes it), then the enrolment's: one submission at a time, and an
    # approval by ops either happens before (the brand may approve at once) or sees the passed quiz.
    profile = experts.lock_expert(experts.own_profile(actor).id)
    experts.require_may_apply(profile)
    enrolment = enrolments.own_enrolment(profile, brand_id, lock=True)
    attempt = db.session.get(QuizAttempt, attempt_id, populate_existing=True)
    if attempt is None or attempt.enrolment_id != enrolment.id:
        raise NotFound(_l("No such quiz attempt."))
    if attempt.submitted_at is not None:
        raise Conflict(_l("This attempt is already submitted."), "attempt")
    _enrolment, quiz = _quiz_for(profile, brand_id)
    if attempt.quiz_version != quiz.version:
        raise Conflict(_l("The brand changed its quiz meanwhile: start again."), "attempt")
    now = utcnow()
    retry_at, _left = _attempt_window(quiz, enrolment.id, now)
    if retry_at is not None:
        raise _refuse_until(retry_at)
    clean = _clean_answers(answers, attempt)
    correct = {q.id: next(c.id for c in q.choices if c.is_correct) for q in quiz.questions}
    result = quiz_rules.score(correct, clean, quiz.pass_mark_percent)
    attempt.submitted_at = now
    attempt.answers = {str(k): v for k, v in clean.items()}
    attempt.score_percent = result.percent
    attempt.passed = result.passed
    if result.passed:
        enrolments.pass_quiz(enrolment, brands.brands_by_id({brand_id})[brand_id], profile)
    accounts.record_audit("quiz_submitted", actor_id=actor.id, subject_id=actor.id, ip=ip, brand_id=brand_id,
                          score=result.percent, passed=result.passed)
    db.session.flush()
    next_at, attempts_left = _attempt_window(quiz, enrolment.id, now)
    outcome = QuizResult(attempt.id, result.correct, result.total, result.percent, result.passed,
                         enrolment.status, None if result.passed else next_at, attempts_left,
                         waiting_for_vetting=enrolment.waiting_for_vetting)
    return outcome
