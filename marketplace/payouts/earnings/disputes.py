"""Disputes and reviews: a brand disputes an answered chat within the hold; finance or ops decide on disputed
and flagged earnings, releasing them or reversing them.

A disputed or flagged earning stays held, past its hold, until someone decides. Reversing never edits the
ledger (rule 10): it posts the reversal of the earning's transaction (and of its release, when it was already
payable), each reversed at most once (the database's unique constraint). Payable money is reversed only
while the expert is still owed it; once paid out, a correction waits for the expert's next earnings and is
not this module's business.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role, User
from marketplace.brands import services as brands
from marketplace.brands.models import BrandRole
from marketplace.core import ledger
from marketplace.database import db, use_case, utcnow
from marketplace.errors import Conflict, Forbidden, InvalidInput, NotFound, clean_text
from marketplace.experts import services as experts
from marketplace.payouts.ledger import books
from marketplace.payouts.models import Earning, EarningStatus

REVIEW_LIMIT = 200


def _reason(value: object, field: str = "reason") -> str:
    text = clean_text(str(value or ""), field, max_length=500, required=_l("Say why, in a few words."))
    if len(text) < 3:
        raise InvalidInput(_l("Say why, in a few words."), field)
    return text


@use_case
def dispute(actor: User, brand_id: int, conversation_id: int, reason: object, *, ip: str | None = None) -> Earning:
    """A brand's admin disputes one of its answered chats while its earning is held: it waits for a review."""
    brands.get_brand(actor, brand_id, need=BrandRole.ADMIN)
    text = _reason(reason)
    earning = db.session.scalar(sa.select(Earning).where(Earning.conversation_id == conversation_id,
                                                         Earning.brand_id == brand_id).with_for_update())
    if earning is None:
        raise NotFound(_l("No answered chat of this brand has that number yet (a chat is counted a few minutes "
                          "after it closes)."))
    if earning.status != EarningStatus.HELD:
        raise Conflict(_l("This chat can no longer be disputed: its hold ended on %(day)s.",
                          day=earning.hold_until.date().isoformat()), "conversation_id")
    if earning.disputed_at is not None:
        raise Conflict(_l("This chat is already disputed."), "conversation_id")
    earning.disputed_at, earning.dispute_reason, earning.disputed_by_id = utcnow(), text, actor.id
    earning.decision = earning.decision_note = earning.decided_at = earning.decided_by_id = None
    accounts.record_audit("earning_disputed", actor_id=actor.id, ip=ip, earning_id=earning.id, brand_id=brand_id,
                          conversation_id=conversation_id, reason=text)
    return earning


@use_case
def brand_disputes(actor: User, brand_id: int, limit: int = 100) -> list[Earning]:
    brands.get_brand(actor, brand_id)
    rows = db.session.scalars(sa.select(Earning).where(Earning.brand_id == brand_id, Earning.disputed_at.is_not(None))
                              .order_by(Earning.disputed_at.desc()).limit(limit)).all()
    return list(rows)


def _reviewer(actor: User) -> User:
    if actor.is_token or actor.role not in (Role.FINANCE, Role.OPS):
        raise Forbidden(_l("Only finance and ops staff review earnings."))
    return actor


@use_case
def waiting_review(actor: User) -> list[Earning]:
    """Held earnings that a fraud check flagged or a brand disputed, not yet decided: oldest first."""
    _reviewer(actor)
    flagged = sa.cast(Earning.flags, sa.Text) != "[]"  # the JSON list as stored, on both databases
    rows = db.session.scalars(sa.select(Earning).where(
        Earning.status == EarningStatus.HELD, Earning.decision.is_(None),
        sa.or_(Earning.disputed_at.is_not(None), flagged)).order_by(Earning.closed_at).limit(REVIEW_LIMIT)).all()
    return list(rows)


def _locked_for_review(earning_id: int) -> Earning:
    earning = db.session.get(Earning, earning_id, with_for_update=True, populate_existing=True)
    if earning is None:
        raise NotFound(_l("No such earning."))
    return earning


@use_case
def release(actor: User, earning_id: int, note: object, *, ip: str | None = None,
            now: dt.datetime | None = None) -> Earning:
    """The review clears a flagged or disputed earning: it becomes payable at the end of its hold."""
    _reviewer(actor)
    text = _reason(note, "note")
    earning = _locked_for_review(earning_id)
    if earning.status != EarningStatus.HELD or earning.decision is not None:
        raise Conflict(_l("This earning was already decided."), "status")
    earning.decision, earning.decision_note, earning.decided_at, earning.decided_by_id = \
        "released", text, utcnow(), actor.id
    if earning.hold_until <= (now or utcnow()):
        earning.status = EarningStatus.PAYABLE
        if earning.expert_cents:
            earning.released_by_id = books.post(ledger.release(earning.expert_id, earning.expert_cents,
                                                               earning.currency), f"earning {earning.id}")
    accounts.record_audit("earning_released", actor_id=actor.id, ip=ip, earning_id=earning.id, note=text)
    return earning


@use_case
def reverse(actor: User, earning_id: int, note: object, *, ip: str | None = None) -> Earning:
    """Cancel an earning (dispute upheld, fraud): reversing transactions, never edits; held or still payable."""
    _reviewer(actor)
    text = _reason(note, "note")
    earning = _locked_for_review(earning_id)
    if earning.status == EarningStatus.REVERSED:
        raise Conflict(_l("This earning was already reversed."), "status")
    if earning.status == EarningStatus.PAYABLE:
        experts.lock_expert(earning.expert_id)  # one at a time with a payout of this expert's money
        if books.payable_of(earning.expert_id, earning.currency) < earning.expert_cents:
            raise Conflict(_l("This earning was already paid out: it can no longer be reversed here."), "status")
        if earning.released_by_id:
            books.reverse(earning.released_by_id, f"earning {earning.id} reversed")
    if earning.transaction_id:
        books.reverse(earning.transaction_id, f"earning {earning.id} reversed")
    earning.status = EarningStatus.REVERSED
    earning.decision, earning.decision_note, earning.decided_at, earning.decided_by_id = \
        "reversed", text, utcnow(), actor.id
    accounts.record_audit("earning_reversed", actor_id=actor.id, ip=ip, earning_id=earning.id,
                          expert_cents=earning.expert_cents, note=text)
    return earning
