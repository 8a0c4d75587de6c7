"""Earnings: each answered chat earns its expert the brand's price at acceptance, less the commission, plus
the bonuses that apply; held for the hold period, then payable.

A chat is earned once the visitor has had `PAYOUT_RATING_GRACE_MINUTES` to rate it (a rating bonus needs
the rating), by the scheduler's minute; the unique conversation id makes a second pass change nothing.
Fraud checks run then: an earning they flag stays held for ops to look at instead of becoming payable.
Disputed or fraudulent earnings are reversed by a new ledger transaction, never edited (rule 10).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from marketplace.accounts.models import User
from marketplace.brands import rates
from marketplace.brands import services as brands
from marketplace.core import ledger
from marketplace.core import rates as pricing
from marketplace.database import db, unit_of_work, utcnow
from marketplace.decisions import services as decisions
from marketplace.experts import services as experts
from marketplace.payouts.credits import services as credits
from marketplace.payouts.ledger import books, releases
from marketplace.payouts.models import Earning, EarningStatus
from marketplace.routing import history

LOOK_BACK = dt.timedelta(hours=6)  # how far before the newest earned close a pass looks again
FIRST_LOOK_BACK = dt.timedelta(days=35)  # with no earning yet, a pass starts this far back (older: a backfill)
BATCH = 1_000  # chats a pass earns at most, so a pass stays short; the next minute's goes on
COMMIT_EVERY = 100  # chats earned per transaction
SHORT_CHAT = dt.timedelta(seconds=20)  # answered and closed faster than this: implausibly short
REPEAT_WINDOW = dt.timedelta(days=30)
REPEAT_LIMIT = 5  # one visitor with one expert more often than this in the window: suspicious

# Each fraud check by its code: a short name, and the sentence its figures go into (when it kept them).
FLAGS = {
    "short_chat": (_l("implausibly short chat"),
                   _l("implausibly short chat: answered and closed within %(seconds)d seconds")),
    "repeat_pair": (_l("same visitor again and again"),
                    _l("same visitor again and again: %(chats)d chats with this expert in %(days)d days")),
    "same_network": (_l("visitor on the expert's network"), None),
}


def fraud_flags(chat: history.AnsweredChat) -> dict[str, dict[str, int]]:
    """The checks an answered chat fails, each with its figures (the caller records them; they hold the
    earning for review)."""
    flags: dict[str, dict[str, int]] = {}
    lasted = chat.closed_at - chat.first_reply_at
    if lasted < SHORT_CHAT:
        flags["short_chat"] = {"seconds": max(0, int(lasted.total_seconds()))}
    if chat.visitor_network and chat.visitor_network == chat.expert_network:
        flags["same_network"] = {}
    chats = history.chats_between(chat.expert_id, chat.visitor_token_hash, chat.closed_at - REPEAT_WINDOW)
    if chats > REPEAT_LIMIT:
        flags["repeat_pair"] = {"chats": chats, "days": REPEAT_WINDOW.days}
    return flags


def fraud_check_parameters() -> dict[str, int]:
    """The fraud checks' figures, as the "How decisions are made" page tells experts."""
    return {"short_chat_seconds": int(SHORT_CHAT.total_seconds()), "repeat_limit": REPEAT_LIMIT,
            "repeat_days": REPEAT_WINDOW.days}


def flag_reason(code: str, params: dict[str, Any] | None = None) -> str:
    """A fraud check in the reader's language, with its figures when it kept them."""
    if code not in FLAGS:
        return code
    name, sentence = FLAGS[code]
    return str(sentence % params if sentence is not None and params else name)


def flag_reasons(earning: Earning) -> list[dict[str, Any]]:
    """Why a fraud check holds the earning: each flag's code, figures and words in the reader's language."""
    kept = earning.flag_params or {}
    return [{"code": code, "params": kept.get(code, {}), "text": flag_reason(code, kept.get(code))}
            for code in earning.flags or ()]


def _price(chat: history.AnsweredChat, card) -> tuple[int, int, int]:
    """Price, commission and bonus of a chat, on the card in effect when it was accepted."""
    commission_bps = card.commission_bps if card is not None else pricing.DEFAULT_COMMISSION_BPS
    rules = pricing.parse_bonus_rules(card.bonus_rules) if card is not None else []
    reply_s = (chat.first_reply_at - chat.accepted_at).total_seconds()
    bonus = pricing.bonus_cents(rules, rating=chat.rating, first_reply_seconds=reply_s)
    return chat.rate_cents, pricing.commission_cents(chat.rate_cents, commission_bps), bonus


@dataclass(frozen=True)
class _Planned:
    """One chat's earning as a pass will write it: its row, its ledger transaction (None when nothing moves: a
    free chat still counts as answered) and the fraud checks it fails."""

    row: dict[str, Any]
    transaction: ledger.Transaction | None
    flags: dict[str, dict[str, int]]


def _plan(chat: history.AnsweredChat, card, currency: str, now: dt.datetime) -> _Planned:
    price, commission, bonus = _price(chat, card)
    hold = dt.timedelta(days=current_app.config["PAYOUT_HOLD_DAYS"])
    flags = fraud_flags(chat)
    row = {"conversation_id": chat.conversation_id, "brand_id": chat.brand_id, "expert_id": chat.expert_id,
           "rate_card_id": chat.rate_card_id, "currency": currency, "price_cents": price,
           "commission_cents": commission, "bonus_cents": bonus, "expert_cents": price + bonus - commission,
           "closed_at": chat.closed_at, "earned_at": now, "hold_until": chat.closed_at + hold,
           "status": EarningStatus.HELD, "flags": list(flags), "flag_params": flags}
    transaction = (ledger.earning(chat.brand_id, chat.expert_id, price, commission, bonus, currency)
                   if price + bonus else None)
    return _Planned(row, transaction, flags)


def _write(planned: list[_Planned], now: dt.datetime) -> list[int]:
    """Insert the earnings with their ledger transactions, and a decision for each one a fraud check holds (the
    expert is told why); their ids. Raises IntegrityError when another pass earned one of the chats first."""
    with_money = [plan for plan in planned if plan.transaction is not None]
    posted = dict(zip((id(plan) for plan in with_money), books.post_many(
        [(plan.transaction, f"chat {plan.row['conversation_id']}") for plan in with_money]), strict=True))
    ids = db.session.scalars(sa.insert(Earning).returning(Earning.id, sort_by_parameter_order=True),
                             [{**plan.row, "transaction_id": posted.get(id(plan))} for plan in planned]).all()
    for plan, earning_id in zip(planned, ids, strict=True):
        if plan.flags:
            decisions.record(plan.row["expert_id"], "fraud_check",
                             {"checks": sorted(plan.flags), "figures": plan.flags,
                              "hold_days": current_app.config["PAYOUT_HOLD_DAYS"]},
                             brand_id=plan.row["brand_id"], subject=("earning", earning_id), now=now)
    db.session.flush()
    return list(ids)


def _written(planned: list[_Planned], now: dt.datetime) -> list[int] | None:
    """Write the earnings in a savepoint of the caller's transaction; their ids, or None when another pass earned
    one of the chats first (nothing of this attempt is left behind: rule 11)."""
    savepoint = db.session.begin_nested()
    try:
        ids = _write(planned, now)
    except IntegrityError:
        savepoint.rollback()
        return None
    savepoint.commit()
    return ids


def _earn_together(planned: list[_Planned], now: dt.datetime) -> int:
    """Write the earnings of several chats together (a few statements for them all); should another pass have
    earned one of them first, each is tried alone. How many were earned."""
    if _written(planned, now) is not None:
        return len(planned)
    return sum(_written([plan], now) is not None for plan in planned) if len(planned) > 1 else 0


def earn(chat: history.AnsweredChat, card, currency: str, now: dt.datetime) -> Earning | None:
    """Record one chat's earning and its ledger transaction, in a savepoint of the caller's transaction (the
    caller commits); None if it was earned before, leaving nothing of this attempt behind."""
    ids = _written([_plan(chat, card, currency, now)], now)
    return db.session.get(Earning, ids[0]) if ids else None


def record_earnings(now: dt.datetime | None = None) -> int:
    """Earn every answered chat closed long enough ago to be rated; safe to run again and again, and at once
    with another pass. A commit every COMMIT_EVERY chats, written together (each alone only when another pass got
    there first): on SQLite a pass holds the one write lock for a fraction of a second at a time, not for its whole
    thousand chats (seconds on a busy machine, during which every request and job waits, past the busy timeout)."""
    now = now or utcnow()
    with unit_of_work():
        until = now - dt.timedelta(minutes=current_app.config["PAYOUT_RATING_GRACE_MINUTES"])
        newest = db.session.scalar(sa.select(sa.func.max(Earning.closed_at)))
        since = (newest - LOOK_BACK) if newest is not None else now - FIRST_LOOK_BACK
        chats = history.answered_chats_closed(since, until, limit=BATCH)
        done = set(db.session.scalars(sa.select(Earning.conversation_id).where(
            Earning.conversation_id.in_([chat.conversation_id for chat in chats])))) if chats else set()
        chats = [chat for chat in chats if chat.conversation_id not in done]
        cards = rates.cards_by_id({chat.rate_card_id for chat in chats if chat.rate_card_id})
        currencies = {brand.id: brand.currency for brand in brands.brands_by_id({c.brand_id for c in chats}).values()}
    earned = 0
    for start in range(0, len(chats), COMMIT_EVERY):
        with unit_of_work():
            earned += _earn_together([_plan(chat, cards.get(chat.rate_card_id), currencies[chat.brand_id], now)
                                      for chat in chats[start:start + COMMIT_EVERY]], now)
    return earned


def needs_review(earning: Earning) -> bool:
    """A fraud check flagged it or the brand disputed it: it stays held until finance or ops decide."""
    return bool(earning.flags) or earning.disputed_at is not None


def release_due(now: dt.datetime | None = None) -> int:
    """Held earnings past their hold become payable, each by its own ledger transaction, unless flagged or
    disputed and not yet released by a review (payouts/ledger/releases.py)."""
    now = now or utcnow()
    releasable = sa.and_(Earning.status == EarningStatus.HELD, sa.or_(
        sa.and_(sa.cast(Earning.flags, sa.Text) == "[]", Earning.disputed_at.is_(None)),
        Earning.decision == "released"))
    return releases.release_due(Earning, Earning.expert_cents, releasable, Earning.hold_until <= now, "earning")


@dataclass(frozen=True)
class BrandLine:
    brand_id: int
    currency: str
    chats: int
    earned_cents: int


@dataclass(frozen=True)
class Totals:
    """An expert's money in one currency."""

    currency: str
    held_cents: int
    payable_cents: int
    in_transit_cents: int
    paid_cents: int


@dataclass(frozen=True)
class EarningsSummary:
    totals: list[Totals]  # one per currency the expert earned in
    by_brand: list[BrandLine]
    recent: list[Earning]
    next_payout: dt.date  # the next payout day (payable money is paid then)
    # What the FAQ bot's resolutions with entries the expert wrote earned them, per currency (none: an empty list).
    faq_credits: list[credits.CreditTotals] = field(default_factory=list)


def next_payout_day(today: dt.date, weekday: int) -> dt.date:
    """The next payout day strictly after today (today's batch may already have run)."""
    return today + dt.timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)


def own_earnings(actor: User, *, recent: int = 20) -> EarningsSummary:
    """The calling expert's money per currency (held, payable, in transit, paid), per brand, latest chats, and
    their FAQ credits."""
    with unit_of_work():
        profile = experts.own_profile(actor)
        owed = books.expert_balances(profile.id)
        counted = Earning.status != EarningStatus.REVERSED
        by_brand = [BrandLine(brand_id, currency, chats, int(cents)) for brand_id, currency, chats, cents in
                    db.session.execute(
                        sa.select(Earning.brand_id, Earning.currency, sa.func.count(),
                                  sa.func.sum(Earning.expert_cents))
                        .where(Earning.expert_id == profile.id, counted)
                        .group_by(Earning.brand_id, Earning.currency)
                        .order_by(sa.func.sum(Earning.expert_cents).desc()))]
        earned = dict(db.session.execute(
            sa.select(Earning.currency, sa.func.sum(Earning.expert_cents))
            .where(Earning.expert_id == profile.id, counted).group_by(Earning.currency)).all())
        latest = list(db.session.scalars(sa.select(Earning).where(Earning.expert_id == profile.id)
                                         .order_by(Earning.closed_at.desc(), Earning.id.desc()).limit(recent)))
        credited = credits.credits_of(profile.id)
    for line in credited:  # the ledger holds both: what was paid is what both earned less what is still owed
        earned[line.currency] = int(earned.get(line.currency, 0)) + line.credited_cents
    totals = []
    for currency in sorted(set(earned) | set(owed)):
        money = owed.get(currency, {"expert_held": 0, "expert_payable": 0, "expert_in_transit": 0})
        held, payable, transit = money["expert_held"], money["expert_payable"], money["expert_in_transit"]
        paid = int(earned.get(currency, 0)) - held - payable - transit
        totals.append(Totals(currency, held, payable, transit, paid))
    return EarningsSummary(totals, by_brand, latest,
                           next_payout_day(utcnow().date(), current_app.config["PAYOUT_WEEKDAY"] % 7), credited)
