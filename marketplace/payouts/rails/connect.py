"""Stripe Connect for experts: a connected account, its onboarding link, and the webhooks that keep
payout readiness, plus which rail pays each expert.

An expert asks to be paid through Stripe: the platform creates their connected account (once: the call's
idempotency key is the expert's) and sends them to Stripe's onboarding link; when Stripe reports the account
can receive transfers (`account.updated`), batches pay them by transfer. The others are paid by SEPA
transfer file, in euros, when they have an IBAN on file. Experts in France need a SIRET either way.

An `account.updated` older than the one already applied is ignored (deliveries can arrive out of order).
"""

from __future__ import annotations

import logging
import time

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from marketplace.accounts.models import User
from marketplace.database import db, unit_of_work, use_case, utcnow
from marketplace.errors import Conflict
from marketplace.experts import services as experts
from marketplace.payouts.models import ConnectedAccount, PayoutRail
from marketplace.payouts.rails import gateway as gateways

log = logging.getLogger(__name__)
SEPA_CURRENCY = "EUR"


@use_case
def own_account(actor: User) -> ConnectedAccount | None:
    profile = experts.own_profile(actor)
    return db.session.get(ConnectedAccount, profile.id)


def stripe_unavailable() -> Conflict:
    """The refusal of anything that needs Stripe on a server that has none set up."""
    return Conflict(_l("Payouts through Stripe are not available on this server: add your IBAN instead."), "stripe")


def _gateway() -> gateways.PaymentGateway:
    try:
        return gateways.gateway()
    except gateways.NotConfigured:
        raise stripe_unavailable() from None


def start_onboarding(actor: User, *, refresh_url: str, return_url: str) -> str:
    """The Stripe onboarding address for the calling expert, creating their connected account the first time."""
    with unit_of_work():  # ended before Stripe is called
        profile = experts.own_profile(actor)
        experts.require_approved(profile)
        provider = _gateway()
        found = db.session.get(ConnectedAccount, profile.id)
    try:
        if found is None:
            state = provider.create_account(expert_id=profile.id, email=actor.email, country=profile.country or "FR")
            try:
                with unit_of_work():
                    found = ConnectedAccount(expert_id=profile.id, account_id=state.account_id,
                                             transfers_enabled=state.transfers_enabled,
                                             details_submitted=state.details_submitted)
                    db.session.add(found)
            except IntegrityError:  # a double tap created it first: the same account (same idempotency key)
                found = db.session.get(ConnectedAccount, profile.id)
        return provider.onboarding_link(found.account_id, refresh_url=refresh_url, return_url=return_url)
    except gateways.GatewayError as error:
        log.warning("Stripe onboarding for expert %s failed: %s", profile.id, error)
        raise Conflict(_l("Stripe did not answer: try again in a minute."), "stripe") from None


@use_case
def refresh_own_account(actor: User) -> ConnectedAccount | None:
    """Ask Stripe for the account's state (back from onboarding, before the webhook arrives)."""
    profile = experts.own_profile(actor)
    found = db.session.get(ConnectedAccount, profile.id)
    if found is None:
        return None
    try:
        state = _gateway().account(found.account_id)
    except gateways.GatewayError as error:
        log.warning("Stripe account %s could not be read: %s", found.account_id, error)
        return found
    found.transfers_enabled, found.details_submitted = state.transfers_enabled, state.details_submitted
    found.updated_at = utcnow()
    found.event_created = max(found.event_created, int(time.time()))  # events older than this read are stale
    return found


def account_updated(event: gateways.Event) -> str:
    """Apply an `account.updated` event (the caller records the event and commits)."""
    state = gateways.account_state(event.object)
    found = db.session.scalar(sa.select(ConnectedAccount).where(ConnectedAccount.account_id == state.account_id)
                              .with_for_update())
    if found is None or event.created < found.event_created:
        return "ignored"
    found.transfers_enabled, found.details_submitted = state.transfers_enabled, state.details_submitted
    found.event_created, found.updated_at = event.created, utcnow()
    return "applied"


def stripe_destinations(expert_ids: set[int], *, ready_only: bool = True) -> dict[int, str]:
    """The connected account of each expert who can receive transfers (or of each who has one)."""
    if not expert_ids:
        return {}
    query = sa.select(ConnectedAccount.expert_id, ConnectedAccount.account_id).where(
        ConnectedAccount.expert_id.in_(expert_ids))
    return dict(db.session.execute(query.where(ConnectedAccount.transfers_enabled) if ready_only else query).all())


def rails(expert_ids: set[int], currency: str) -> dict[int, PayoutRail]:
    """How each payable expert is paid: by Stripe transfer when their account can receive one, else by SEPA
    transfer (euros only) when an IBAN is on file; experts with neither, or a French one without a SIRET,
    are left out (they wait in the batch's `not_ready`)."""
    billable = experts.billing_ready(expert_ids)
    chosen = {expert_id: PayoutRail.STRIPE for expert_id in stripe_destinations(billable)}
    if currency == SEPA_CURRENCY:
        chosen.update({expert_id: PayoutRail.SEPA for expert_id in experts.payout_ready(billable - set(chosen))})
    return chosen
