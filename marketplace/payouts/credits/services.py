"""FAQ credits: when a brand's FAQ bot resolves a conversation with an entry an expert wrote (their answer,
proposed and approved), that expert earns the brand's credit per resolution (`FaqSettings.credit_cents`, read
when the credit is posted; 0 posts nothing).

A resolved conversation is no answered chat and earns nobody an earning; its credit goes through the ledger as
an earning does (the brand owes it, the expert's money is held for the hold period, then payable, and payout
batches pay it with the rest of the expert's payable money). The scheduler's minute posts the credits of new
resolutions; the unique conversation id makes a second pass, or one running at the same time, post nothing again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from marketplace.brands import services as brands
from marketplace.core import ledger
from marketplace.database import db, use_case, utcnow
from marketplace.faq.models import FaqSettings
from marketplace.payouts.ledger import books, releases
from marketplace.payouts.models import EarningStatus, FaqCredit
from marketplace.routing import history

LOOK_BACK = dt.timedelta(hours=6)  # how far before the newest credited resolution a pass looks again
FIRST_LOOK_BACK = dt.timedelta(days=1)  # with no credit yet, a pass starts this far back
PAGE = 1_000  # resolutions read at a time
BATCH = 1_000  # credits a pass posts at most, so a pass stays short; the next minute's goes on


def _paying_brands() -> dict[int, int]:
    """The credit per resolution of each brand that pays one, as set now."""
    return dict(db.session.execute(sa.select(FaqSettings.brand_id, FaqSettings.credit_cents)
                                   .where(FaqSettings.credit_cents > 0)).all())


def credit(resolution: history.BotResolution, amount_cents: int, currency: str, now: dt.datetime) -> FaqCredit | None:
    """Post one resolution's credit and its ledger transaction, in a savepoint of the caller's transaction (the
    caller commits); None if it was credited before, leaving nothing of this attempt behind."""
    hold = dt.timedelta(days=current_app.config["PAYOUT_HOLD_DAYS"])
    savepoint = db.session.begin_nested()
    try:
        posted = books.post(ledger.faq_credit(resolution.brand_id, resolution.author_expert_id, amount_cents, currency),
                            memo=f"faq credit, chat {resolution.conversation_id}")
        row = FaqCredit(conversation_id=resolution.conversation_id, brand_id=resolution.brand_id,
                        expert_id=resolution.author_expert_id, entry_id=resolution.entry_id, currency=currency,
                        amount_cents=amount_cents, resolved_at=resolution.resolved_at, credited_at=now,
                        hold_until=resolution.resolved_at + hold, status=EarningStatus.HELD, transaction_id=posted)
        db.session.add(row)
        db.session.flush()
    except IntegrityError:
        savepoint.rollback()  # another pass credited it first: nothing changes (rule 11)
        return None
    savepoint.commit()
    return row


@use_case
def record_credits(now: dt.datetime | None = None) -> int:
    """Credit the author of the entry of every conversation the bot resolved, at its brand's credit; safe to run
    again and again, and at once with another pass. One transaction a pass (a savepoint a credit)."""
    now = now or utcnow()
    paying = _paying_brands()
    if not paying:
        return 0
    newest = db.session.scalar(sa.select(sa.func.max(FaqCredit.resolved_at)))
    since = (newest - LOOK_BACK) if newest is not None else now - FIRST_LOOK_BACK
    currencies = {brand.id: brand.currency for brand in brands.brands_by_id(set(paying)).values()}
    credited, after = 0, None
    while credited < BATCH:
        # Page on: the resolutions of the look-back that are credited already must not hide the new ones behind.
        page = history.bot_resolutions(since, now, brand_ids=set(paying), after=after, limit=PAGE)
        done = set(db.session.scalars(sa.select(FaqCredit.conversation_id).where(
            FaqCredit.conversation_id.in_([r.conversation_id for r in page])))) if page else set()
        for resolution in page:
            if resolution.conversation_id in done or credited >= BATCH:
                continue
            if credit(resolution, paying[resolution.brand_id], currencies[resolution.brand_id], now) is not None:
                credited += 1
        if len(page) < PAGE:
            break
        after = (page[-1].resolved_at, page[-1].conversation_id)
    return credited


def release_due(now: dt.datetime | None = None) -> int:
    """Held credits past their hold become payable, each by its own ledger transaction, as earnings are
    (payouts/ledger/releases.py)."""
    now = now or utcnow()
    return releases.release_due(FaqCredit, FaqCredit.amount_cents, FaqCredit.status == EarningStatus.HELD,
                                FaqCredit.hold_until <= now, "faq credit")


@dataclass(frozen=True)
class CreditTotals:
    """An expert's FAQ credits in one currency: how many resolutions, and what they earned (reversed ones left
    out)."""

    currency: str
    resolutions: int
    credited_cents: int


def credits_of(expert_id: int) -> list[CreditTotals]:
    """The expert's FAQ credits per currency, in currency order (in the caller's transaction)."""
    rows = db.session.execute(
        sa.select(FaqCredit.currency, sa.func.count(), sa.func.sum(FaqCredit.amount_cents))
        .where(FaqCredit.expert_id == expert_id, FaqCredit.status != EarningStatus.REVERSED)
        .group_by(FaqCredit.currency).order_by(FaqCredit.currency)).all()
    return [CreditTotals(currency, int(count), int(cents)) for currency, count, cents in rows]
