"""Channel fees: what a brand pays per outbound message of a messaging app, inside its monthly budget.

A brand's fee table holds, per app (`whatsapp`, `messenger`) and message category (`service`: a free reply inside
the customer's window; `utility`, `marketing`, `authentication`: a template's kind), an amount in cents in the
brand's currency from a day on (a day in the brand's timezone, as rate cards are: the latest row starting on or
before the message's day applies; no row, no fee).

Every outbound message is priced when it is stored (`charge`, inside its transaction): its fee is noted on its
outbound record and added to the month's committed spend under the brand's lock, beside the chats' prices, so the
router and the caps see one figure. A fee that would take that spend past `monthly_budget_cents` holds the message
(a Conflict naming `body`: nothing is stored or sent) and the brand is told (a `ChannelHold` row, shown on its
dashboard, and a live event to its pages). A message whose send finally fails (Graph refused it, the account is
gone, Meta reported it failed) is not charged: `release` takes its fee back out of the month it was counted in.
So what counts is every record not failed: reserved while it waits to go, charged once Graph accepted it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from marketplace.accounts import services as accounts
from marketplace.brands import services as brands
from marketplace.brands.models import Actor, Brand, BrandRole
from marketplace.core import clock
from marketplace.core import rates as dating
from marketplace.core import routing as rules
from marketplace.database import after_commit, after_rollback, db, unit_of_work, use_case, utcnow
from marketplace.errors import Conflict, InvalidInput
from marketplace.extensions import socketio
from marketplace.routing.models import (
    MESSAGING_CHANNELS,
    Channel,
    ChannelDelivery,
    ChannelFee,
    ChannelHold,
    Conversation,
    DeliveryState,
    FeeCategory,
    Sender,
)
from marketplace.routing.router import loads
from marketplace.shared.rooms import brand_room

MAX_FEE_CENTS = 100_000
LATEST_SCHEDULE_DAYS = 366
CHARGED = ChannelDelivery.state != DeliveryState.FAILED
PRICED_SENDERS = frozenset({Sender.EXPERT, Sender.BOT})  # whose messages go out on the app, and are priced


# What an invoice or a page calls them.
APP_NAMES = {Channel.WHATSAPP.value: "WhatsApp", Channel.MESSENGER.value: "Messenger"}
CATEGORY_NAMES = {FeeCategory.SERVICE.value: _l("service"), FeeCategory.UTILITY.value: _l("utility"),
                  FeeCategory.MARKETING.value: _l("marketing"), FeeCategory.AUTHENTICATION.value: _l("authentication")}


class FeeState:
    SCHEDULED = "scheduled"
    IN_EFFECT = "in_effect"
    PAST = "past"


@dataclass(frozen=True)
class FeeView:
    fee: ChannelFee
    state: str


def fee_in_effect(brand_id: int, timezone: str, kind: Channel, category: FeeCategory, at: dt.datetime) -> int:
    """The fee in cents for one message of `kind` and `category` stored at `at`; 0 when the table has none."""
    amount = db.session.scalar(
        sa.select(ChannelFee.amount_cents)
        .where(ChannelFee.brand_id == brand_id, ChannelFee.kind == kind, ChannelFee.category == category,
               ChannelFee.effective_from <= clock.local_day(at, timezone))
        .order_by(ChannelFee.effective_from.desc(), ChannelFee.id.desc()).limit(1))
    return amount or 0


def _choice(value: object, field: str, allowed: tuple) -> object:
    for member in allowed:
        if value == member.value:
            return member
    raise InvalidInput(_l("Choose one of: %(names)s.", names=", ".join(member.value for member in allowed)), field)


@use_case
def schedule_fee(actor: Actor, brand_id: int, *, kind: object, category: object, amount_cents: object,
                 effective_from: object) -> ChannelFee:
    """Put a fee in effect from `effective_from` (today or later in the brand's timezone); earlier messages keep
    theirs. A brand's admins only."""
    brand = brands.get_brand(actor, brand_id, need=BrandRole.ADMIN)
    channel = _choice(kind, "kind", MESSAGING_CHANNELS)
    fee_category = _choice(category, "category", tuple(FeeCategory))
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or not 0 <= amount_cents <= MAX_FEE_CENTS:
        raise InvalidInput(_l("Enter a whole number from %(low)s to %(high)s.", low=0, high=MAX_FEE_CENTS),
                           "amount_cents")
    today = clock.local_day(utcnow(), brand.timezone)
    if not isinstance(effective_from, dt.date) or isinstance(effective_from, dt.datetime):
        raise InvalidInput(_l("Enter a date."), "effective_from")
    if effective_from < today:
        raise InvalidInput(_l("A new fee starts today or later: messages already sent keep theirs."),
                           "effective_from")
    if effective_from > today + dt.timedelta(days=LATEST_SCHEDULE_DAYS):
        raise InvalidInput(_l("Schedule a fee at most a year ahead."), "effective_from")
    fee = ChannelFee(brand_id=brand.id, kind=channel, category=fee_category, amount_cents=amount_cents,
                     effective_from=effective_from, created_by_id=getattr(actor, "id", None), created_at=utcnow())
    db.session.add(fee)
    db.session.flush()
    accounts.record_audit("channel_fee_scheduled", actor_id=getattr(actor, "id", None), brand_id=brand.id,
                          fee_id=fee.id, app=channel.value, category=fee_category.value, amount_cents=amount_cents,
                          effective_from=effective_from.isoformat())
    return fee


def fee_table(actor: Actor, brand_id: int) -> list[FeeView]:
    """Every fee of the brand by app and category, newest start first, each scheduled, in effect or past."""
    brand = brands.get_brand(actor, brand_id)
    today = clock.local_day(utcnow(), brand.timezone)
    fees = db.session.scalars(sa.select(ChannelFee).where(ChannelFee.brand_id == brand.id)
                              .order_by(ChannelFee.kind, ChannelFee.category, ChannelFee.effective_from.desc(),
                                        ChannelFee.id.desc())).all()
    current = set()
    for key in {(fee.kind, fee.category) for fee in fees}:
        found = dating.card_in_effect([dating.Card(fee.id, fee.effective_from) for fee in fees
                                       if (fee.kind, fee.category) == key], today)
        if found is not None:
            current.add(found.id)
    return [FeeView(fee, FeeState.IN_EFFECT if fee.id in current
                    else FeeState.SCHEDULED if fee.effective_from > today else FeeState.PAST) for fee in fees]


# Pricing the outbound messages.

def charge(conversation_id: int, brand_id: int, kind: Channel, category: FeeCategory, at: dt.datetime) -> int:
    """Inside the message's transaction: its fee (0 without one), added to the month's committed spend under the
    brand's lock; a fee past the monthly budget refuses the message (the transaction rolls back) and tells the
    brand."""
    timezone = db.session.scalar(sa.select(Brand.timezone).where(Brand.id == brand_id))
    fee = fee_in_effect(brand_id, timezone, kind, category, at)
    if fee == 0:
        return 0  # nothing to count: no lock taken
    load, brand = loads.lock_brand(brand_id, at)
    if not rules.within_budget(brand.monthly_budget_cents, load.month_committed_cents, fee):
        after_rollback(lambda: _record_hold(brand_id, conversation_id, fee))
        raise Conflict(_l("This brand has reached its monthly budget: the message was not sent."), "body")
    load.month_committed_cents += fee
    return fee


def lock_brand_first(conversation_id: int, sender: Sender) -> None:
    """Before an expert's message in a messaging app's conversation is numbered (which locks the conversation's row):
    lock the brand's load, as `charge` will, in the router's order (brand, then conversation). The bot's messages go
    out and are priced too. A web chat's message and a customer's are not priced: they take no lock."""
    if sender not in PRICED_SENDERS:
        return
    row = db.session.execute(sa.select(Conversation.channel, Conversation.brand_id)
                             .where(Conversation.id == conversation_id)).one_or_none()
    if row is not None and Channel(row.channel) in MESSAGING_CHANNELS:
        loads.lock_brand(row.brand_id)


def _record_hold(brand_id: int, conversation_id: int, fee: int) -> None:
    """Tell the brand a message was held (its own transaction, after the message's rolled back)."""
    with unit_of_work():
        hold = ChannelHold(brand_id=brand_id, conversation_id=conversation_id, fee_cents=fee, held_at=utcnow())
        db.session.add(hold)
        payload = {"brand_id": brand_id, "conversation_id": conversation_id, "fee_cents": fee}
        after_commit(lambda: socketio.emit("channel_message_held", payload, to=brand_room(brand_id)))


def release(message_id: int) -> None:
    """A message's send finally failed: its fee no longer counts against the month it was counted in. Part of the
    caller's unit; call it once, as the record turns failed."""
    row = db.session.execute(
        sa.select(ChannelDelivery.fee_cents, ChannelDelivery.created_at, Conversation.brand_id)
        .join(Conversation, Conversation.id == ChannelDelivery.conversation_id)
        .where(ChannelDelivery.message_id == message_id)).one_or_none()
    if row is None or not row.fee_cents:
        return
    load, brand = loads.lock_brand(row.brand_id)
    if clock.local_day(row.created_at, brand.timezone).strftime("%Y-%m") == load.month:
        load.month_committed_cents = max(0, load.month_committed_cents - row.fee_cents)


@dataclass(frozen=True)
class FeeLine:
    kind: str
    category: str
    messages: int
    amount_cents: int


def charged_fees(brand_id: int, start: dt.datetime, end: dt.datetime) -> list[FeeLine]:
    """The brand's charged channel fees of messages stored in [start, end), by app and category."""
    rows = db.session.execute(
        sa.select(Conversation.channel, ChannelDelivery.fee_category, sa.func.count(),
                  sa.func.sum(ChannelDelivery.fee_cents))
        .join(Conversation, Conversation.id == ChannelDelivery.conversation_id)
        .where(Conversation.brand_id == brand_id, ChannelDelivery.fee_cents > 0, CHARGED,
               ChannelDelivery.created_at >= start, ChannelDelivery.created_at < end)
        .group_by(Conversation.channel, ChannelDelivery.fee_category)
        .order_by(Conversation.channel, ChannelDelivery.fee_category)).all()
    return [FeeLine(Channel(kind).value, FeeCategory(category).value, count, int(total))
            for kind, category, count, total in rows]


def month_to_date(brand_id: int, timezone: str, now: dt.datetime) -> tuple[int, int]:
    """(charged channel fees in cents, messages held) in the brand's month so far."""
    start, _ = clock.day_bounds(clock.local_day(now, timezone).replace(day=1), timezone)
    fees = sum(line.amount_cents for line in charged_fees(brand_id, start, now + dt.timedelta(seconds=1)))
    held = db.session.scalar(sa.select(sa.func.count()).where(ChannelHold.brand_id == brand_id,
                                                              ChannelHold.held_at >= start)) or 0
    return fees, held
