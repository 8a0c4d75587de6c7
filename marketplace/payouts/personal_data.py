"""Payouts' part of an expert's own data: earnings, FAQ credits, payouts (their items) and monthly statements.

Nothing here is erased when the expert closes their account: money law keeps it (10 years), and it still pays them.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from marketplace.database import db
from marketplace.experts.own_data import Holder
from marketplace.payouts.models import Earning, FaqCredit, PayoutBatch, PayoutItem
from marketplace.payouts.statements import services as statements


def earnings(holder: Holder) -> list[dict[str, Any]]:
    rows = db.session.scalars(sa.select(Earning).where(Earning.expert_id == holder.profile.id).order_by(Earning.id))
    return [{"id": e.id, "conversation_id": e.conversation_id, "brand_id": e.brand_id, "currency": e.currency,
             "price_cents": e.price_cents, "commission_cents": e.commission_cents, "bonus_cents": e.bonus_cents,
             "expert_cents": e.expert_cents, "closed_at": e.closed_at, "earned_at": e.earned_at,
             "hold_until": e.hold_until, "status": e.status.value, "flags": e.flags, "disputed_at": e.disputed_at,
             "dispute_reason": e.dispute_reason, "decision": e.decision, "decision_note": e.decision_note,
             "decided_at": e.decided_at} for e in rows]


def faq_credits(holder: Holder) -> list[dict[str, Any]]:
    rows = db.session.scalars(sa.select(FaqCredit).where(FaqCredit.expert_id == holder.profile.id)
                              .order_by(FaqCredit.id))
    return [{"id": c.id, "conversation_id": c.conversation_id, "brand_id": c.brand_id, "entry_id": c.entry_id,
             "currency": c.currency, "amount_cents": c.amount_cents, "resolved_at": c.resolved_at,
             "credited_at": c.credited_at, "hold_until": c.hold_until, "status": c.status.value} for c in rows]


def payouts(holder: Holder) -> list[dict[str, Any]]:
    rows = db.session.execute(
        sa.select(PayoutItem, PayoutBatch.currency).join(PayoutBatch, PayoutBatch.id == PayoutItem.batch_id)
        .where(PayoutItem.expert_id == holder.profile.id).order_by(PayoutItem.id)).all()
    return [{"id": item.id, "batch_id": item.batch_id, "currency": currency, "amount_cents": item.amount_cents,
             "status": item.status.value, "rail": item.rail.value, "reference": item.provider_ref,
             "failure": item.failure, "submitted_at": item.submitted_at, "finished_at": item.finished_at}
            for item, currency in rows]


def statements_section(holder: Holder) -> list[dict[str, Any]]:
    """The months of the expert's statements, with their totals per currency (each month's PDF is in the app)."""
    index = statements.statement_index(holder.user)
    return [{"month": str(month.month), "currency": total.currency, "chats": total.chats,
             "price_cents": total.price_cents, "commission_cents": total.commission_cents,
             "bonus_cents": total.bonus_cents, "net_cents": total.net_cents}
            for month in index.months for total in month.totals]


def tax_summaries(holder: Holder) -> list[dict[str, Any]]:
    from marketplace.payouts.tax.services import tax_summaries_for_export

    return tax_summaries_for_export(holder.profile.id)
