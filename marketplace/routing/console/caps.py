"""A brand's demand caps as they stand: how much of each is used now, and what the door refused today."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from marketplace.brands import services as brands
from marketplace.brands.models import Actor, Brand
from marketplace.core import clock
from marketplace.database import db, end_read, utcnow
from marketplace.routing.models import LIVE_STATUSES, BrandLoad, Conversation, ConversationStatus, EndReason
from marketplace.routing.router.loads import working_expert_ids

REFUSAL_REASONS = (EndReason.CLOSED_HOURS, EndReason.MAX_CONCURRENT, EndReason.MAX_ACTIVE_EXPERTS,
                   EndReason.DAILY_CAP, EndReason.MONTHLY_BUDGET)


@dataclass(frozen=True)
class CapUse:
    name: str
    used: int
    cap: int | None  # None: no cap

    @property
    def share(self) -> float | None:
        """How full it is, 0 to 1 (above when a cap was lowered below use); None without a cap."""
        if self.cap is None:
            return None
        return 1.0 if self.cap == 0 else self.used / self.cap


@dataclass(frozen=True)
class CapUsage:
    caps: list[CapUse]  # max_concurrent, max_active_experts, daily_cap, monthly_budget_cents (cents)
    refusals_today: dict[str, int]  # by reason, every reason present (0 when none)
    refusals_total: int  # since the brand began


def cap_uses(brand: Brand, today: dt.date, open_conversations: int, load: BrandLoad | None) -> list[CapUse]:
    """Each cap with its use now; the day's and month's counters read as zero once the brand's day rolled."""
    day_accepted = load.day_accepted if load is not None and load.day == today else 0
    committed = load.month_committed_cents if load is not None and load.month == today.strftime("%Y-%m") else 0
    return [CapUse("max_concurrent", open_conversations, brand.max_concurrent),
            CapUse("max_active_experts", len(working_expert_ids(brand.id)), brand.max_active_experts),
            CapUse("daily_cap", day_accepted, brand.daily_cap),
            CapUse("monthly_budget_cents", committed, brand.monthly_budget_cents)]


def cap_usage(actor: Actor, brand_id: int, now: dt.datetime | None = None) -> CapUsage:
    """Each cap with its use now; the day's and month's figures roll over at the brand's midnight."""
    brand = brands.get_brand(actor, brand_id)
    now = now or utcnow()
    today = clock.local_day(now, brand.timezone)
    load = db.session.get(BrandLoad, brand_id)
    open_now = db.session.scalar(sa.select(sa.func.count()).where(Conversation.brand_id == brand_id,
                                                                  Conversation.status.in_(LIVE_STATUSES)))
    start, end = clock.day_bounds(today, brand.timezone)
    refused = dict(db.session.execute(
        sa.select(Conversation.end_reason, sa.func.count())
        .where(Conversation.brand_id == brand_id, Conversation.status == ConversationStatus.CAPPED,
               Conversation.created_at >= start, Conversation.created_at < end)
        .group_by(Conversation.end_reason)
    ).all())
    usage = CapUsage(
        caps=cap_uses(brand, today, open_now, load),
        refusals_today={reason.value: refused.get(reason, 0) for reason in REFUSAL_REASONS},
        refusals_total=load.refusals if load is not None else 0,
    )
    end_read()
    return usage
