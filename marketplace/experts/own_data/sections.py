"""The export sections of the layers up to this one: the account, the profile, enrolments and quizzes, presence,
payout details, the audit log about the expert, notifications and push devices, log-in sessions."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask

from marketplace.accounts import personal_data as accounts
from marketplace.database import db
from marketplace.experts import presence
from marketplace.experts import services as experts
from marketplace.experts.models import Enrolment, PresenceSession, QuizAttempt
from marketplace.experts.own_data import Holder, register_export_section
from marketplace.notifications import services as notifications


def profile(holder: Holder) -> dict[str, Any]:
    p = holder.profile
    return {"account": accounts.account_of(holder.user),
            "expert": {"id": p.id, "display_name": p.display_name, "bio": p.bio, "languages": p.languages,
                       "phone": p.phone, "country": p.country, "business_id": p.business_id,
                       "motivation": p.motivation, "skills": [skill.slug for skill in p.skills],
                       "status": p.status.value, "status_reason": p.status_reason, "created_at": p.created_at,
                       "status_changed_at": p.status_changed_at}}


def enrolments(holder: Holder) -> list[dict[str, Any]]:
    rows = db.session.scalars(sa.select(Enrolment).where(Enrolment.expert_id == holder.profile.id)
                              .order_by(Enrolment.id))
    return [{"id": row.id, "brand_id": row.brand_id, "status": row.status.value, "created_at": row.created_at,
             "status_changed_at": row.status_changed_at, "status_reason": row.status_reason} for row in rows]


def quiz_attempts(holder: Holder) -> list[dict[str, Any]]:
    rows = db.session.execute(
        sa.select(QuizAttempt, Enrolment.brand_id).join(Enrolment, Enrolment.id == QuizAttempt.enrolment_id)
        .where(Enrolment.expert_id == holder.profile.id).order_by(QuizAttempt.id)).all()
    return [{"id": attempt.id, "brand_id": brand_id, "quiz_version": attempt.quiz_version,
             "started_at": attempt.started_at, "submitted_at": attempt.submitted_at, "answers": attempt.answers,
             "score_percent": attempt.score_percent, "passed": attempt.passed} for attempt, brand_id in rows]


def current_presence(holder: Holder) -> dict[str, Any]:
    info = presence.presence_of(holder.profile.id)
    return {"status": info.status.value, "away_reason": info.away_reason.value if info.away_reason else None,
            "since": info.since, "last_heartbeat_at": info.last_heartbeat_at,
            "missed_offers_in_row": info.missed_offers_in_row}


def presence_history(holder: Holder) -> list[dict[str, Any]]:
    rows = db.session.scalars(sa.select(PresenceSession).where(PresenceSession.expert_id == holder.profile.id)
                              .order_by(PresenceSession.started_at, PresenceSession.id))
    return [{"id": row.id, "started_at": row.started_at, "ended_at": row.ended_at} for row in rows]


def payout_details(holder: Holder) -> dict[str, Any] | None:
    """The expert's own bank details in full (the export that holds them is audited as a read of them)."""
    view = experts.own_payout_details(holder.profile.id)
    return None if view is None else {"account_holder": view.account_holder, "iban": view.iban,
                                      "iban_country": view.iban_country, "bic": view.bic}


def audit_entries(holder: Holder) -> list[dict[str, Any]]:
    return accounts.audit_about(holder.user.id, excluding=(accounts.BANK_DETAILS_READ,))


def bank_detail_reads(holder: Holder) -> list[dict[str, Any]]:
    return accounts.audit_about(holder.user.id, kinds=(accounts.BANK_DETAILS_READ,))


def notifications_section(holder: Holder) -> list[dict[str, Any]]:
    return notifications.own_data(holder.user.id)["notifications"]


def push_subscriptions(holder: Holder) -> list[dict[str, Any]]:
    return notifications.own_data(holder.user.id)["push_subscriptions"]


def sessions(holder: Holder) -> list[dict[str, Any]]:
    return accounts.sessions_of(holder.user.id)


def register(app: Flask) -> None:
    for name, section in (("profile", profile), ("enrolments", enrolments), ("quiz_attempts", quiz_attempts),
                          ("presence", current_presence), ("presence_history", presence_history),
                          ("payout_details", payout_details), ("audit_entries", audit_entries),
                          ("bank_detail_reads", bank_detail_reads), ("notifications", notifications_section),
                          ("push_subscriptions", push_subscriptions), ("sessions", sessions)):
        register_export_section(app, name, section)
