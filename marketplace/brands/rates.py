"""Rate cards: what a brand pays per answered chat, effective-dated in the brand's timezone.

Brand admins schedule a new price from today or a later day; ops may also set the platform's commission.
A card in effect is never changed; a card not yet in effect may be cancelled. A chat keeps the card in
effect when it was accepted (the router records it on the conversation).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role
from marketplace.brands.models import Actor, Brand, BrandRole, RateCard
from marketplace.brands.services import get_brand
from marketplace.core import clock
from marketplace.core import rates as rules
from marketplace.database import db, use_case, utcnow
from marketplace.errors import Conflict, Forbidden, InvalidInput, NotFound

MAX_PRICE_CENTS = 100_000
LATEST_SCHEDULE_DAYS = 366


class CardState:
    SCHEDULED = "scheduled"
    IN_EFFECT = "in_effect"
    PAST = "past"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class CardView:
    card: RateCard
    state: str
    ends_on: dt.date | None  # the last day it was (or will be) in effect, when a later card replaces it


def _live_cards(brand_id: int) -> sa.Select:
    return sa.select(RateCard).where(RateCard.brand_id == brand_id, RateCard.cancelled_at.is_(None))


def card_on(brand_id: int | sa.ColumnElement[int], day: dt.date | sa.ColumnElement[dt.date]) -> sa.ScalarSelect:
    """The id of the brand's card in effect on `day`, the latest live card starting on or before it (NULL without
    one), as a subquery: every read of the card in effect goes through it, and a statement that reads the card with
    other rows joins it (the router's brand lock, so that an offer's pay costs no statement)."""
    live = so.aliased(RateCard)
    return (sa.select(live.id).where(live.brand_id == brand_id, live.cancelled_at.is_(None), live.effective_from <= day)
            .order_by(live.effective_from.desc(), live.id.desc()).limit(1).scalar_subquery())


def card_in_effect(brand: Brand, at: dt.datetime | None = None) -> RateCard | None:
    """The card in effect at `at` (now by default), on the brand's local day."""
    day = clock.local_day(at or utcnow(), brand.timezone)
    return db.session.scalar(sa.select(RateCard).where(RateCard.id == card_on(brand.id, day)))


Terms = tuple[int, int, list[dict]]  # a card's price, commission and bonus rules


@functools.cache
def _terms_in_effect() -> sa.Select:
    return (sa.select(RateCard.price_cents, RateCard.commission_bps, RateCard.bonus_rules)
            .where(RateCard.id == card_on(sa.bindparam("brand"), sa.bindparam("day", type_=sa.Date))))


def terms_in_effect(brand: Brand, at: dt.datetime | None = None) -> Terms | None:
    """(price, commission, bonus rules) of the card in effect at `at`, or None: what an offer shows it pays.

    Three columns by one statement built once, past the ORM (a routing pass reads them with its brand lock instead,
    and asks here only when its guess of the brand's day was wrong).
    """
    day = clock.local_day(at or utcnow(), brand.timezone)
    row = db.session.connection().execute(_terms_in_effect(), {"brand": brand.id, "day": day}).first()
    return None if row is None else (row.price_cents, row.commission_bps, row.bonus_rules or [])


def cards_by_id(card_ids: set[int]) -> dict[int, RateCard]:
    """Rate cards by id (a chat keeps the card in effect when it was accepted)."""
    if not card_ids:
        return {}
    return {card.id: card for card in db.session.scalars(sa.select(RateCard).where(RateCard.id.in_(card_ids)))}


def _whole(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(_l("Enter a whole number from %(low)s to %(high)s.", low=low, high=high), field)
    return value


@use_case
def schedule_rate(actor: Actor, brand_id: int, *, effective_from: dt.date, price_cents: int,
                  commission_bps: int | None = None, bonus_rules: list[dict] | None = None) -> RateCard:
    """Put a new price in effect from `effective_from` (today or later, in the brand's timezone)."""
    brand = get_brand(actor, brand_id, need=BrandRole.ADMIN)
    today = clock.local_day(utcnow(), brand.timezone)
    if not isinstance(effective_from, dt.date) or isinstance(effective_from, dt.datetime):
        raise InvalidInput(_l("Enter a date."), "effective_from")
    if effective_from < today:
        raise InvalidInput(_l("A new rate starts today or later: past chats keep their rate."), "effective_from")
    if effective_from > today + dt.timedelta(days=LATEST_SCHEDULE_DAYS):
        raise InvalidInput(_l("Schedule a rate at most a year ahead."), "effective_from")
    price = _whole(price_cents, "price_cents", 0, MAX_PRICE_CENTS)
    current = card_in_effect(brand) or db.session.scalar(_live_cards(brand_id).order_by(RateCard.effective_from))
    commission = current.commission_bps if current else rules.DEFAULT_COMMISSION_BPS
    if commission_bps is not None and commission_bps != commission:
        if getattr(actor, "is_token", False) or getattr(actor, "role", None) != Role.OPS:
            raise Forbidden(_l("Only the platform's staff change the commission."), "commission_bps")
        commission = _whole(commission_bps, "commission_bps", 0, 10_000)
    try:
        bonuses = [rule.as_dict() for rule in rules.parse_bonus_rules(bonus_rules)]
    except ValueError as error:
        raise InvalidInput(str(error), "bonus_rules") from None
    now = utcnow()
    if effective_from > today:  # a card scheduled for the same day before is replaced, never in effect
        for earlier in db.session.scalars(_live_cards(brand_id).where(RateCard.effective_from == effective_from)):
            earlier.cancelled_at = now
    card = RateCard(brand_id=brand_id, effective_from=effective_from, price_cents=price, commission_bps=commission,
                    bonus_rules=bonuses, created_by_id=getattr(actor, "id", None), created_at=now)
    db.session.add(card)
    db.session.flush()
    accounts.record_audit("rate_scheduled", actor_id=getattr(actor, "id", None), brand_id=brand_id,
                          card_id=card.id, effective_from=effective_from.isoformat(), price_cents=price,
                          commission_bps=commission)
    return card


@use_case
def cancel_rate(actor: Actor, brand_id: int, card_id: int) -> RateCard:
    """Withdraw a card not yet in effect; a card that was ever in effect stays."""
    brand = get_brand(actor, brand_id, need=BrandRole.ADMIN)
    card = db.session.scalar(sa.select(RateCard).where(RateCard.id == card_id, RateCard.brand_id == brand_id))
    if card is None:
        raise NotFound(_l("No such rate."))
    if card.cancelled_at is not None:
        raise Conflict(_l("This rate is already cancelled."))
    if card.effective_from <= clock.local_day(utcnow(), brand.timezone):
        raise Conflict(_l("This rate is in effect or was: only a rate still to come can be cancelled."))
    card.cancelled_at = utcnow()
    accounts.record_audit("rate_cancelled", actor_id=getattr(actor, "id", None), brand_id=brand_id, card_id=card_id)
    return card


def rate_history(actor: Actor, brand_id: int) -> list[CardView]:
    """Every card of the brand, newest start first, with its state and the day it ended."""
    brand = get_brand(actor, brand_id)
    today = clock.local_day(utcnow(), brand.timezone)
    cards = db.session.scalars(sa.select(RateCard).where(RateCard.brand_id == brand_id)
                               .order_by(RateCard.effective_from.desc(), RateCard.id.desc())).all()
    live = [card for card in cards if card.cancelled_at is None]
    current = rules.card_in_effect([rules.Card(c.id, c.effective_from) for c in live], today)
    views = []
    for card in cards:
        later = [c.effective_from for c in live if (c.effective_from, c.id) > (card.effective_from, card.id)]
        ends_on = max(min(later) - dt.timedelta(days=1), card.effective_from) if later else None
        if card.cancelled_at is not None:
            state = CardState.CANCELLED
        elif current is not None and card.id == current.id:
            state = CardState.IN_EFFECT
        elif card.effective_from > today:
            state = CardState.SCHEDULED
        else:
            state = CardState.PAST
        views.append(CardView(card, state, ends_on if state != CardState.CANCELLED else None))
    return views
