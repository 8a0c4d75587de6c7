"""Stripe Connect for experts: onboarding through the API and the page, and the signed webhooks that keep an
account's readiness, applied once and in order."""

from __future__ import annotations

import json
import time

import sqlalchemy as sa

from marketplace.accounts.models import User
from marketplace.payouts.models import ConnectedAccount, ProviderEvent
from marketplace.payouts.rails import gateway as gateways
from tests.conftest import log_in
from tests.factories import ApprovedExpertFactory
from tests.stripe_fake import DEFAULT_WEBHOOK_SECRET, signature_header


def deliver(client, event: dict, secret: str = DEFAULT_WEBHOOK_SECRET):
    payload = json.dumps(event)
    header = signature_header(payload, secret, int(time.time()))
    return client.post("/webhooks/stripe", data=payload, content_type="application/json",
                       headers={"Stripe-Signature": header})


def test_onboarding_through_the_api_then_account_updated_makes_the_expert_payable_by_stripe(client, session, fake):
    expert = ApprovedExpertFactory(country="BE")
    user = session.get(User, expert.user_id)
    csrf = log_in(client, user.email)

    started = client.post("/api/v1/experts/me/stripe-account", headers={"X-CSRFToken": csrf})

    assert started.status_code == 200 and started.json["url"].startswith(f"{fake.url}/onboarding/")
    account = session.get(ConnectedAccount, expert.id)
    assert account is not None and not account.transfers_enabled
    again = client.post("/api/v1/experts/me/stripe-account", headers={"X-CSRFToken": csrf})
    assert again.status_code == 200 and len(fake.accounts()) == 1  # one account per expert, however often asked

    fake.complete_onboarding(account.account_id)
    event = fake.events("account.updated")[-1]
    assert deliver(client, event).json["outcome"] == "applied"
    assert session.get(ConnectedAccount, expert.id, populate_existing=True).transfers_enabled
    assert deliver(client, event).json["outcome"] == "duplicate"  # delivered twice: changes nothing
    assert session.scalar(sa.select(sa.func.count()).select_from(ProviderEvent)) == 1
    assert client.get("/api/v1/experts/me/stripe-account").json["transfers_enabled"] is True


def test_a_webhook_with_a_wrong_signature_is_refused_and_changes_nothing(client, session, fake):
    expert = ApprovedExpertFactory(country="BE")
    state = gateways.gateway().create_account(expert_id=expert.id, email="x@example.be", country="BE")
    session.add(ConnectedAccount(expert_id=expert.id, account_id=state.account_id))
    session.commit()
    fake.complete_onboarding(state.account_id)
    event = fake.events("account.updated")[-1]

    forged = deliver(client, event, secret="whsec_not_the_right_one")
    unsigned = client.post("/webhooks/stripe", data=json.dumps(event), content_type="application/json")

    for response in (forged, unsigned):
        assert response.status_code == 400 and response.mimetype == "application/problem+json"
        assert "Stripe-Signature" in response.json["errors"]
    assert not session.get(ConnectedAccount, expert.id, populate_existing=True).transfers_enabled
    assert session.scalar(sa.select(sa.func.count()).select_from(ProviderEvent)) == 0


def test_an_older_account_event_arriving_late_is_ignored(client, session, fake):
    expert = ApprovedExpertFactory(country="BE")
    state = gateways.gateway().create_account(expert_id=expert.id, email="x@example.be", country="BE")
    session.add(ConnectedAccount(expert_id=expert.id, account_id=state.account_id))
    session.commit()
    fake.complete_onboarding(state.account_id)
    enabled = fake.events("account.updated")[-1]
    older = json.loads(json.dumps(enabled))
    older["id"], older["created"] = "evt_older", enabled["created"] - 60
    older["data"]["object"]["capabilities"]["transfers"] = "inactive"

    assert deliver(client, enabled).json["outcome"] == "applied"
    assert deliver(client, older).json["outcome"] == "ignored"
    assert session.get(ConnectedAccount, expert.id, populate_existing=True).transfers_enabled


def test_a_plain_link_to_stripe_onboarding_creates_no_account(client, session, fake):
    expert = ApprovedExpertFactory(country="BE")
    log_in(client, session.get(User, expert.user_id).email)
    response = client.get("/expert/earnings/stripe")
    assert response.status_code == 302 and response.headers["Location"].endswith("/expert/earnings")
    assert session.get(ConnectedAccount, expert.id) is None and fake.accounts() == []
