"""Disputes and reviews: a brand disputes a held chat; finance or ops release or reverse it, by reversing
ledger transactions (rule 10), never by editing."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import AuditEvent, Role, User
from marketplace.brands.models import BrandRole
from marketplace.payouts.earnings import disputes
from marketplace.payouts.earnings import services as earnings
from marketplace.payouts.ledger import checks
from marketplace.payouts.models import Earning, EarningStatus, LedgerEntry, LedgerTransaction
from tests.conftest import log_in
from tests.factories import MembershipFactory, RecordedEarningFactory, UserFactory
from tests.payouts.earnings.test_services import NOW, owed


@pytest.fixture
def people(session, shop):
    admin = MembershipFactory(brand=shop, role=BrandRole.ADMIN)
    viewer = MembershipFactory(brand=shop, role=BrandRole.VIEWER)
    finance = UserFactory(role=Role.FINANCE)
    session.commit()
    return session.get(User, admin.user_id), session.get(User, viewer.user_id), finance


def test_a_disputed_chat_stays_held_past_its_hold_until_finance_decides(session, shop, people):
    admin, _viewer, finance = people
    earning = RecordedEarningFactory(brand=shop, now=NOW)
    disputes.dispute(admin, shop.id, earning.conversation_id, "The expert gave the wrong size chart")

    assert earnings.release_due(NOW + dt.timedelta(days=15)) == 0
    assert [e.id for e in disputes.waiting_review(finance)] == [earning.id]

    released = disputes.release(finance, earning.id, "Checked the transcript: the answer was right",
                                now=NOW + dt.timedelta(days=15))
    assert (released.status, released.decision) == (EarningStatus.PAYABLE, "released")
    assert owed(earning_expert(session, earning)) == {"expert_held": 0, "expert_payable": 160, "expert_in_transit": 0}
    assert disputes.waiting_review(finance) == []
    assert checks.check_invariants().breaches == []


def earning_expert(session, earning: Earning):
    from marketplace.experts.models import ExpertProfile

    return session.get(ExpertProfile, earning.expert_id)


def test_an_upheld_dispute_reverses_the_earning_with_new_transactions(session, shop, people):
    admin, _viewer, finance = people
    earning = RecordedEarningFactory(brand=shop, now=NOW, conversation__rating=5)  # 2.00 + 0.50 bonus, 0.40 commission
    entries_before = session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry))
    disputes.dispute(admin, shop.id, earning.conversation_id, "Abusive answer")

    reversed_ = disputes.reverse(finance, earning.id, "Upheld: the transcript is abusive")

    assert reversed_.status == EarningStatus.REVERSED
    reversal = session.scalar(sa.select(LedgerTransaction).where(LedgerTransaction.reverses_id ==
                                                                 earning.transaction_id))
    assert reversal is not None and reversal.kind == "reversal"
    assert session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)) == entries_before + 3  # appended
    assert owed(earning_expert(session, earning))["expert_held"] == 0
    receivable = session.scalar(sa.select(sa.func.sum(LedgerEntry.amount_cents)).where(
        LedgerEntry.account_kind == "brand_receivable", LedgerEntry.owner_id == shop.id))
    assert receivable == 0  # the brand is not charged
    with pytest.raises(disputes.Conflict):
        disputes.reverse(finance, earning.id, "again")
    assert checks.check_invariants().breaches == []
    kinds = set(session.scalars(sa.select(AuditEvent.kind)))
    assert {"earning_disputed", "earning_reversed"} <= kinds


def test_a_payable_earning_is_reversed_with_its_release(session, shop, people):
    _admin, _viewer, finance = people
    earning = RecordedEarningFactory(brand=shop, now=NOW)
    earnings.release_due(NOW + dt.timedelta(days=15))

    disputes.reverse(finance, earning.id, "Fraud: the visitor is the expert's own phone")

    assert owed(earning_expert(session, earning)) == {"expert_held": 0, "expert_payable": 0, "expert_in_transit": 0}
    assert checks.check_invariants().breaches == []


def test_only_held_chats_of_ones_own_brand_are_disputed_by_its_admins(session, shop, people):
    admin, viewer, _finance = people
    earning = RecordedEarningFactory(brand=shop, now=NOW)
    with pytest.raises(disputes.Forbidden):
        disputes.dispute(viewer, shop.id, earning.conversation_id, "I am only a viewer")
    other = MembershipFactory(role=BrandRole.ADMIN)
    session.commit()
    with pytest.raises(disputes.NotFound):
        disputes.dispute(session.get(User, other.user_id), shop.id, earning.conversation_id, "Not my brand")
    earnings.release_due(NOW + dt.timedelta(days=15))
    with pytest.raises(disputes.Conflict) as late:
        disputes.dispute(admin, shop.id, earning.conversation_id, "Too late now")
    assert late.value.field == "conversation_id"
    assert session.get(Earning, earning.id).disputed_at is None


def test_the_api_refuses_bad_disputes_naming_the_field_and_writes_nothing(client, session, shop, people):
    admin, _viewer, _finance = people
    earning = RecordedEarningFactory(brand=shop, now=NOW)
    csrf = log_in(client, admin.email)
    url = f"/api/v1/brands/{shop.id}/disputes"
    for body, field in (({"conversation_id": earning.conversation_id, "reason": ""}, "reason"),
                        ({"conversation_id": -4, "reason": "Wrong answer"}, "conversation_id"),
                        ({"reason": "Wrong answer"}, "conversation_id")):
        response = client.post(url, json=body, headers={"X-CSRFToken": csrf})
        assert response.status_code == 422 and field in response.json["errors"], body
    assert session.get(Earning, earning.id, populate_existing=True).disputed_at is None

    created = client.post(url, json={"conversation_id": earning.conversation_id, "reason": "Wrong answer"},
                          headers={"X-CSRFToken": csrf})
    assert created.status_code == 201 and created.json["dispute_reason"] == "Wrong answer"
    twice = client.post(url, json={"conversation_id": earning.conversation_id, "reason": "Wrong answer"},
                        headers={"X-CSRFToken": csrf})
    assert twice.status_code == 409
    assert [d["conversation_id"] for d in client.get(url).json] == [earning.conversation_id]


def test_the_review_page_lists_flagged_earnings_and_reverses_one(client, session, shop, people):
    _admin, _viewer, finance = people
    flagged = RecordedEarningFactory(brand=shop, now=NOW, conversation__length=dt.timedelta(seconds=25))
    assert flagged.flags == ["short_chat"]
    csrf = log_in(client, finance.email)
    page = client.get("/finance/review").get_data(as_text=True)
    assert "implausibly short chat" in page and f'data-testid="earning-{flagged.id}"' in page

    blank = client.post(f"/finance/review/{flagged.id}/reverse", data={"csrf_token": csrf, "note": ""},
                        follow_redirects=True)
    assert "Say why" in blank.get_data(as_text=True)
    assert session.get(Earning, flagged.id, populate_existing=True).status == EarningStatus.HELD
    done = client.post(f"/finance/review/{flagged.id}/reverse", data={"csrf_token": csrf, "note": "Bot traffic"},
                       follow_redirects=True)
    assert "Reversed" in done.get_data(as_text=True)
    assert session.get(Earning, flagged.id, populate_existing=True).status == EarningStatus.REVERSED
    assert "Nothing to review" in client.get("/finance/review").get_data(as_text=True)


def test_the_brand_disputes_tab_files_a_dispute(client, session, shop, people):
    admin, _viewer, _finance = people
    earning = RecordedEarningFactory(brand=shop, now=NOW)
    csrf = log_in(client, admin.email)
    page = client.get(f"/brands/{shop.slug}/disputes")
    assert page.status_code == 200 and "Dispute a chat" in page.get_data(as_text=True)
    bad = client.post(f"/brands/{shop.slug}/disputes", data={"csrf_token": csrf, "conversation_id": "999999",
                                                             "reason": "Wrong answer"})
    assert bad.status_code == 422 and "No answered chat" in bad.get_data(as_text=True)
    done = client.post(f"/brands/{shop.slug}/disputes", data={"csrf_token": csrf,
                                                              "conversation_id": str(earning.conversation_id),
                                                              "reason": "Wrong answer"}, follow_redirects=True)
    assert "Waiting for finance" in done.get_data(as_text=True)
