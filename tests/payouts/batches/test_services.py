"""Payout batches: drafted by one finance user from what is payable, approved by another, one open at a time."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import AuditEvent, Role, User
from marketplace.experts.models import PayoutDetails
from marketplace.payouts.batches import services as batches
from marketplace.payouts.models import BatchStatus, PayoutBatch, PayoutItem
from tests.conftest import log_in
from tests.factories import ApprovedExpertFactory, UserFactory
from tests.payouts.money import owed


def payable(session, cents: int, *, ready: bool = True, currency: str = "EUR", country: str = "BE"):
    """An expert owed `cents` past the hold, with payout details on file when `ready`."""
    expert = ApprovedExpertFactory(country=country)
    if ready:
        session.add(PayoutDetails(expert_id=expert.id, account_holder="A. Expert", iban_sealed="x",
                                  iban_country="BE", iban_last4="1234"))
    owed(session, expert.id, cents, currency)
    return expert


@pytest.fixture
def finance(session) -> tuple[User, User]:
    first, second = UserFactory(role=Role.FINANCE), UserFactory(role=Role.FINANCE)
    session.commit()
    return first, second


def test_a_draft_pays_the_ready_carries_small_amounts_and_waits_for_details(session, finance):
    big, small, unready = payable(session, 5_000), payable(session, 300), payable(session, 9_000, ready=False)
    french_without_siret = payable(session, 4_000, country="FR")
    batch = batches.create_draft(finance[0], "eur", 1_000)
    items = {item.expert_id: item.amount_cents for item in session.scalars(sa.select(PayoutItem))}
    assert (batch.status, batch.currency) == (BatchStatus.DRAFT, "EUR")
    assert items == {big.id: 5_000}
    assert batch.carried_forward == {str(small.id): 300}
    assert batch.not_ready == {str(unready.id): 9_000, str(french_without_siret.id): 4_000}
    audit = session.scalar(sa.select(AuditEvent).where(AuditEvent.kind == "payout_batch_created"))
    assert audit is not None and audit.actor_id == finance[0].id


def test_the_creator_cannot_approve_and_another_finance_user_can(session, finance):
    payable(session, 5_000)
    batch = batches.create_draft(finance[0], "EUR", 0)
    with pytest.raises(batches.Forbidden):
        batches.approve(finance[0], batch.id)
    assert session.get(PayoutBatch, batch.id).status == BatchStatus.DRAFT
    approved = batches.approve(finance[1], batch.id)
    assert (approved.status, approved.approved_by_id) == (BatchStatus.APPROVED, finance[1].id)
    with pytest.raises(batches.Conflict):
        batches.approve(finance[1], batch.id)  # approved once


def test_one_batch_per_currency_is_open_at_a_time(session, finance):
    payable(session, 5_000)
    first = batches.create_draft(finance[0], "EUR", 0)
    with pytest.raises(batches.Conflict) as refused:
        batches.create_draft(finance[1], "EUR", 0)
    assert refused.value.field == "currency"
    assert session.scalar(sa.select(sa.func.count()).select_from(PayoutBatch)) == 1
    batches.create_draft(finance[1], "CHF", 0)  # another currency is another ledger
    batches.cancel(finance[1], first.id)
    assert batches.create_draft(finance[1], "EUR", 0).status == BatchStatus.DRAFT


@pytest.mark.parametrize(("body", "field"), [
    ({"currency": "EUR", "minimum_cents": -5}, "minimum_cents"),
    ({"currency": "EUR", "minimum_cents": 10.5}, "minimum_cents"),
    ({"currency": "XYZ", "minimum_cents": 0}, "currency"),
    ({"currency": "EUR"}, "minimum_cents"),
])
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(client, session, finance, body, field):
    csrf = log_in(client, finance[0].email)
    answer = client.post("/api/v1/payout-batches", json=body, headers={"X-CSRFToken": csrf})
    assert answer.status_code == 422 and answer.mimetype == "application/problem+json"
    assert field in answer.json["errors"]
    assert session.scalar(sa.select(sa.func.count()).select_from(PayoutBatch)) == 0


def test_two_finance_users_draft_and_approve_through_the_api(client, session, finance):
    expert = payable(session, 7_500)
    csrf = log_in(client, finance[0].email)
    made = client.post("/api/v1/payout-batches", json={"currency": "EUR", "minimum_cents": 1_000},
                       headers={"X-CSRFToken": csrf})
    assert made.status_code == 201
    batch_id = made.json["id"]
    own = client.post(f"/api/v1/payout-batches/{batch_id}/approve", headers={"X-CSRFToken": csrf})
    assert own.status_code == 403
    client.post("/logout", data={"csrf_token": csrf})
    csrf = log_in(client, finance[1].email)
    assert client.post(f"/api/v1/payout-batches/{batch_id}/approve", headers={"X-CSRFToken": csrf}).json[
        "status"] == "approved"
    detail = client.get(f"/api/v1/payout-batches/{batch_id}").json
    assert [(i["expert_id"], i["amount_cents"], i["status"]) for i in detail["items"]] == [(expert.id, 7_500,
                                                                                           "pending")]


def test_the_finance_pages_draft_show_and_approve_a_batch(client, session, finance):
    payable(session, 7_500)
    log_in(client, finance[0].email)
    page = client.get("/finance/").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    drafted = client.post("/finance/", data={"csrf_token": token, "currency": "EUR", "minimum": "10"})
    assert drafted.status_code == 302
    batch_page = client.get(drafted.headers["Location"]).get_data(as_text=True)
    assert "€75.00" in batch_page and "another finance user must approve it" in batch_page
    assert "Approve the batch" not in batch_page
    bad = client.post("/finance/", data={"csrf_token": token, "currency": "EUR", "minimum": "-1"})
    assert bad.status_code == 422


def test_only_finance_runs_payouts(client, session):
    for role in (Role.OPS, Role.EXPERT, Role.BRAND):
        with pytest.raises(batches.Forbidden):
            batches.list_batches(UserFactory(role=role))
