"""The payment provider's webhooks: verified, applied once, in one transaction with their record.

The signature is checked before anything is read. The event's id is recorded in the same transaction as its
effect, so an event delivered twice (or redelivered after a timeout) changes nothing, and a failure rolls
both back so the provider's next delivery tries again.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from marketplace.database import db, use_case, utcnow
from marketplace.errors import InvalidInput
from marketplace.payouts.batches import settlement
from marketplace.payouts.models import ProviderEvent
from marketplace.payouts.rails import connect
from marketplace.payouts.rails import gateway as gateways


@use_case
def handle(payload: bytes, signature: str | None) -> str:
    """Verify and apply one delivery; what it did: `applied`, `duplicate` or `ignored`."""
    try:
        event = gateways.gateway().parse_event(payload, signature)
    except gateways.BadSignature:
        raise InvalidInput(_l("The webhook's signature does not verify."), "Stripe-Signature") from None
    except gateways.NotConfigured:
        raise connect.stripe_unavailable() from None
    try:
        with db.session.begin_nested():  # a duplicate rolls back this savepoint only, which wrote nothing else
            db.session.add(ProviderEvent(id=event.id, type=event.type, received_at=utcnow()))
    except IntegrityError:
        return "duplicate"
    if event.type == "account.updated":
        outcome = connect.account_updated(event)
    elif event.type == "transfer.reversed":
        outcome = settlement.transfer_reversed(str(event.object["id"]), int(event.object.get("amount_reversed") or 0),
                                               str((event.object.get("metadata") or {}).get("payout_item", "")))
    else:
        outcome = "ignored"
    return outcome
