"""The expert's side of a rating: contest it or report the visitor; the brand reads the reports and answers contests.

A rating the brand removes stays on the conversation for audit (`rating`, `rating_removed_at`) and counts nowhere:
every figure reads `Conversation.counted_rating`, which is NULL for it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from marketplace.accounts import services as accounts
from marketplace.accounts.language import in_language_of
from marketplace.brands import services as brands
from marketplace.brands.models import Actor, BrandRole
from marketplace.database import db, end_read, use_case, utcnow
from marketplace.errors import Conflict, InvalidInput, NotFound, clean_text
from marketplace.experts import services as experts
from marketplace.notifications import services as notifications
from marketplace.routing.chat.services import expert_conversation
from marketplace.routing.models import (
    ContestStatus,
    Conversation,
    RatingContest,
    VisitorReport,
    VisitorReportReason,
)
from marketplace.shared.links import path_for

TEXT_LENGTH = 2000  # RatingContest.reason and .answer, VisitorReport.comment
DECISIONS = (ContestStatus.KEPT, ContestStatus.REMOVED)
HISTORY_LIMIT = 100  # the expert's page shows their latest answered chats


@dataclass(frozen=True)
class ContestView:
    id: int
    conversation_id: int
    brand_id: int
    expert_id: int
    expert_name: str | None
    rating: int
    rating_comment: str | None
    reason: str
    created_at: dt.datetime
    status: str
    answer: str | None
    decided_at: dt.datetime | None


@dataclass(frozen=True)
class ReportView:
    id: int
    conversation_id: int
    brand_id: int
    expert_id: int
    expert_name: str | None
    reason: str
    comment: str | None
    created_at: dt.datetime


@dataclass(frozen=True)
class RatedChat:
    """One chat the expert answered, as their history page shows it, with what they did about it."""

    conversation_id: int
    brand_name: str
    brand_timezone: str  # the chat's day is shown on the brand's clock, as everywhere else
    topic: str | None
    closed_at: dt.datetime | None
    rating: int | None  # the visitor's, as given (the expert sees a removed one, marked so)
    rating_comment: str | None
    rating_removed: bool
    contest: ContestView | None
    report: ReportView | None


def _contest_view(contest: RatingContest, conversation: Conversation, names: dict[int, str]) -> ContestView:
    return ContestView(contest.id, contest.conversation_id, contest.brand_id, contest.expert_id,
                       names.get(contest.expert_id), contest.rating, conversation.rating_comment, contest.reason,
                       contest.created_at, contest.status.value, contest.answer, contest.decided_at)


def _report_view(report: VisitorReport, names: dict[int, str]) -> ReportView:
    return ReportView(report.id, report.conversation_id, report.brand_id, report.expert_id,
                      names.get(report.expert_id), report.reason.value, report.comment, report.created_at)


def _names(expert_ids: set[int]) -> dict[int, str]:
    return {expert_id: profile.display_name for expert_id, profile in experts.profiles_by_id(expert_ids).items()}


def _answered(expert_id: int, conversation_id: int) -> Conversation:
    """A chat this expert answered (accepted); another's, or one never accepted, is not found."""
    conversation = expert_conversation(expert_id, conversation_id)
    if conversation.accepted_at is None:
        raise NotFound(_l("No such conversation."))
    return conversation


# The expert.

@use_case
def contest_rating(expert_id: int, conversation_id: int, reason: object) -> ContestView:
    """Contest the visitor's rating of a chat the expert answered, once, with a written reason."""
    text = clean_text(reason if isinstance(reason, str) else None, "reason", max_length=TEXT_LENGTH,
                      required=_l("Say why you contest this rating."))
    conversation = _answered(expert_id, conversation_id)
    if conversation.rating is None:
        raise Conflict(_l("This chat has no rating to contest."), "conversation_id")
    if conversation.rating_removed_at is not None:
        raise Conflict(_l("This rating was already removed."), "conversation_id")
    taken = db.session.scalar(sa.select(RatingContest.id).where(RatingContest.conversation_id == conversation.id))
    if taken is not None:
        raise Conflict(_l("You already contested this rating."), "conversation_id")
    contest = RatingContest(conversation_id=conversation.id, brand_id=conversation.brand_id, expert_id=expert_id,
                            rating=conversation.rating, reason=text, status=ContestStatus.PENDING)
    db.session.add(contest)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:  # sent twice at the same moment: the unique conversation id keeps the first
        raise Conflict(_l("You already contested this rating."), "conversation_id") from None
    return _contest_view(contest, conversation, _names({expert_id}))


@use_case
def report_visitor(expert_id: int, conversation_id: int, reason: object, comment: object) -> ReportView:
    """Report the visitor of a chat the expert answered as abusive, once: the brand sees it."""
    try:
        code = VisitorReportReason(reason) if isinstance(reason, str) else None
    except ValueError:
        code = None
    if code is None:
        raise InvalidInput(_l("Choose a reason."), "reason")
    if comment is not None and not isinstance(comment, str):
        raise InvalidInput(_l("Write the comment as text."), "comment")
    text = clean_text(comment, "comment", max_length=TEXT_LENGTH)
    if code == VisitorReportReason.OTHER and not text:
        raise InvalidInput(_l("Say what happened."), "comment")
    conversation = _answered(expert_id, conversation_id)
    taken = db.session.scalar(sa.select(VisitorReport.id).where(
        VisitorReport.conversation_id == conversation.id, VisitorReport.expert_id == expert_id))
    if taken is not None:
        raise Conflict(_l("You already reported this visitor for this chat."), "conversation_id")
    report = VisitorReport(conversation_id=conversation.id, brand_id=conversation.brand_id, expert_id=expert_id,
                           reason=code, comment=text or None)
    db.session.add(report)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:  # sent twice at the same moment: one report per expert and chat
        raise Conflict(_l("You already reported this visitor for this chat."), "conversation_id") from None
    return _report_view(report, _names({expert_id}))


def expert_contests(expert_id: int) -> list[ContestView]:
    """The expert's contests, newest first, with the brand's answers."""
    rows = db.session.execute(
        sa.select(RatingContest, Conversation).join(Conversation, Conversation.id == RatingContest.conversation_id)
        .where(RatingContest.expert_id == expert_id).order_by(RatingContest.created_at.desc(), RatingContest.id.desc())
    ).all()
    names = _names({expert_id})
    views = [_contest_view(contest, conversation, names) for contest, conversation in rows]
    end_read()
    return views


def expert_reports(expert_id: int) -> list[ReportView]:
    """The expert's reports of visitors, newest first."""
    rows = db.session.scalars(sa.select(VisitorReport).where(VisitorReport.expert_id == expert_id)
                              .order_by(VisitorReport.created_at.desc(), VisitorReport.id.desc())).all()
    names = _names({expert_id})
    views = [_report_view(report, names) for report in rows]
    end_read()
    return views


def expert_history(expert_id: int, *, limit: int = HISTORY_LIMIT) -> list[RatedChat]:
    """The chats the expert answered, latest first, each with its rating, contest and report."""
    chats = db.session.scalars(
        sa.select(Conversation).where(Conversation.expert_id == expert_id, Conversation.accepted_at.is_not(None))
        .order_by(Conversation.accepted_at.desc(), Conversation.id.desc()).limit(limit)).all()
    ids = [chat.id for chat in chats]
    contests = {c.conversation_id: c for c in db.session.scalars(
        sa.select(RatingContest).where(RatingContest.conversation_id.in_(ids), RatingContest.expert_id == expert_id))}
    reports = {r.conversation_id: r for r in db.session.scalars(
        sa.select(VisitorReport).where(VisitorReport.conversation_id.in_(ids), VisitorReport.expert_id == expert_id))}
    by_id = brands.brands_by_id({chat.brand_id for chat in chats})
    names = _names({expert_id})
    history = [
        RatedChat(chat.id, by_id[chat.brand_id].name, by_id[chat.brand_id].timezone, chat.topic, chat.closed_at,
                  chat.rating, chat.rating_comment, chat.rating_removed_at is not None,
                  _contest_view(contests[chat.id], chat, names) if chat.id in contests else None,
                  _report_view(reports[chat.id], names) if chat.id in reports else None)
        for chat in chats
    ]
    end_read()
    return history


def rating_contests_for_export(expert_id: int) -> list[dict]:
    """The expert's contests as plain values, for the export of their data."""
    return [{"id": c.id, "conversation_id": c.conversation_id, "brand_id": c.brand_id, "rating": c.rating,
             "reason": c.reason, "created_at": c.created_at.isoformat(), "status": c.status, "answer": c.answer,
             "decided_at": c.decided_at.isoformat() if c.decided_at else None}
            for c in expert_contests(expert_id)]


def visitor_reports_for_export(expert_id: int) -> list[dict]:
    """The expert's reports of visitors as plain values, for the export of their data."""
    return [{"id": r.id, "conversation_id": r.conversation_id, "brand_id": r.brand_id, "reason": r.reason,
             "comment": r.comment, "created_at": r.created_at.isoformat()}
            for r in expert_reports(expert_id)]


# The brand.

def brand_contests(actor: Actor, brand_id: int, status: str | None = None) -> list[ContestView]:
    """The contests of the brand's ratings, pending first then newest (its people and ops)."""
    brands.get_brand(actor, brand_id)
    if status is not None and status not in {s.value for s in ContestStatus}:
        raise InvalidInput(_l("Choose pending, kept or removed."), "status")
    query = (sa.select(RatingContest, Conversation).join(Conversation, Conversation.id == RatingContest.conversation_id)
             .where(RatingContest.brand_id == brand_id))
    if status is not None:
        query = query.where(RatingContest.status == ContestStatus(status))
    rows = db.session.execute(query.order_by(
        (RatingContest.status != ContestStatus.PENDING), RatingContest.created_at.desc(), RatingContest.id.desc())
    ).all()
    names = _names({contest.expert_id for contest, _ in rows})
    views = [_contest_view(contest, conversation, names) for contest, conversation in rows]
    end_read()
    return views


def brand_reports(actor: Actor, brand_id: int) -> list[ReportView]:
    """The experts' reports of the brand's visitors, newest first."""
    brands.get_brand(actor, brand_id)
    rows = db.session.scalars(sa.select(VisitorReport).where(VisitorReport.brand_id == brand_id)
                              .order_by(VisitorReport.created_at.desc(), VisitorReport.id.desc())).all()
    names = _names({report.expert_id for report in rows})
    views = [_report_view(report, names) for report in rows]
    end_read()
    return views


def reported_conversations(conversation_ids: list[int]) -> set[int]:
    """Which of these conversations an expert reported (the brand's console marks them)."""
    if not conversation_ids:
        return set()
    return set(db.session.scalars(sa.select(VisitorReport.conversation_id).where(
        VisitorReport.conversation_id.in_(conversation_ids))))


@use_case
def decide_contest(actor: Actor, brand_id: int, contest_id: int, decision: object, answer: object) -> ContestView:
    """Keep or remove a contested rating (the brand's admins and ops), once, with a written answer the expert reads."""
    brand = brands.get_brand(actor, brand_id, need=BrandRole.ADMIN)
    try:
        outcome = ContestStatus(decision) if isinstance(decision, str) else None
    except ValueError:
        outcome = None
    if outcome not in DECISIONS:
        raise InvalidInput(_l("Choose to keep or remove the rating."), "decision")
    text = clean_text(answer if isinstance(answer, str) else None, "answer", max_length=TEXT_LENGTH,
                      required=_l("Write your answer to the expert."))
    contest = db.session.scalar(sa.select(RatingContest).where(
        RatingContest.id == contest_id, RatingContest.brand_id == brand_id))
    if contest is None:
        raise NotFound(_l("No such contest."))
    now = utcnow()
    actor_id = None if actor.is_token else actor.id
    # Compare-and-set: of two admins answering at once, only the first decides.
    moved = db.session.execute(
        sa.update(RatingContest).where(RatingContest.id == contest.id, RatingContest.status == ContestStatus.PENDING)
        .values(status=outcome, answer=text, decided_at=now, decided_by_id=actor_id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        raise Conflict(_l("This contest already has an answer."), "decision")
    if outcome == ContestStatus.REMOVED:
        db.session.execute(sa.update(Conversation).where(Conversation.id == contest.conversation_id)
                           .values(rating_removed_at=now).execution_options(synchronize_session=False))
    accounts.record_audit(f"rating_contest_{outcome.value}", actor_id=actor_id, brand_id=brand_id,
                          contest_id=contest.id, conversation_id=contest.conversation_id,
                          expert_id=contest.expert_id, token_id=getattr(actor, "token_id", None))
    db.session.refresh(contest)
    conversation = db.session.get(Conversation, contest.conversation_id)
    db.session.refresh(conversation)
    _tell_expert(contest, brand.name)
    return _contest_view(contest, conversation, _names({contest.expert_id}))


def _tell_expert(contest: RatingContest, brand_name: str) -> None:
    """Notify the expert of the brand's answer, in the expert's language."""
    profile = experts.get_profile(contest.expert_id)
    if profile is None:
        return
    user = accounts.get_user(profile.user_id)
    with in_language_of(user):
        if contest.status == ContestStatus.REMOVED:
            title = gettext("%(brand)s removed the rating you contested", brand=brand_name)
        else:
            title = gettext("%(brand)s kept the rating you contested", brand=brand_name)
    notifications.notify(profile.user_id, f"rating_contest_{contest.status.value}", title, contest.answer or "",
                         url=path_for("ratings.history"))
