"""Each automated decision about an expert's work or pay is recorded with its reason and the figures in force,
in the transaction that takes it."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import User
from marketplace.capacity import pool
from marketplace.capacity.models import Invitation, InvitationStatus
from marketplace.database import unit_of_work, utcnow
from marketplace.decisions import services as decisions
from marketplace.decisions.models import ExpertDecision
from marketplace.experts import presence
from marketplace.experts.models import AwayReason, ExpertProfile, PresenceStatus
from marketplace.payouts.earnings import services as earnings
from marketplace.payouts.models import Earning
from marketplace.routing.models import Offer, OfferStatus
from marketplace.routing.router import offers
from tests.factories import BrandFactory, ClosedChatFactory, EnrolmentFactory
from tests.routing.conftest import arrive, online_expert


def decisions_of(session, expert_id: int) -> list[ExpertDecision]:
    return list(session.scalars(sa.select(ExpertDecision).where(ExpertDecision.expert_id == expert_id)
                                .order_by(ExpertDecision.id)))


def test_missed_offers_that_turn_an_expert_away_are_recorded_once_with_the_limit_and_the_last_offer(
        app, session, monkeypatch):
    monkeypatch.setitem(app.config, "PRESENCE_MISSED_OFFERS_AWAY", 2)
    brand = BrandFactory(offer_timeout_seconds=10)
    expert = online_expert(brand)
    session.commit()
    expired_offers = []
    for _ in range(2):
        arrive(brand)
        offer = session.scalar(sa.select(Offer).where(Offer.expert_id == expert.id,
                                                      Offer.status == OfferStatus.PENDING))
        assert offer is not None
        assert offers.expire_offers(offer.expires_at + dt.timedelta(seconds=1)) == 1
        expired_offers.append(offer.id)
        if len(expired_offers) == 1:
            assert decisions_of(session, expert.id) == []  # one miss under the limit decides nothing
    assert presence.presence_of(expert.id).away_reason == AwayReason.MISSED_OFFERS
    [decision] = decisions_of(session, expert.id)
    assert (decision.kind, decision.reason_code) == ("turned_away", "missed_offers")
    assert decision.params == {"missed_offers": 2, "limit": 2}
    assert (decision.subject_type, decision.subject_id) == ("offer", expired_offers[-1])


def test_a_silent_phone_set_away_is_recorded_with_the_grace_in_force(app, session):
    expert = EnrolmentFactory().expert
    session.commit()
    user = session.get(User, expert.user_id)
    presence.go_online(user)
    grace = app.config["PRESENCE_GRACE_SECONDS"]
    presence.sweep(utcnow() + dt.timedelta(seconds=grace - 5))
    assert decisions_of(session, expert.id) == []
    presence.sweep(utcnow() + dt.timedelta(seconds=grace + 30))
    [decision] = decisions_of(session, expert.id)
    assert decision.reason_code == "heartbeat_lost" and decision.params["grace_seconds"] == grace
    assert decision.params["silent_seconds"] >= grace + 29
    # Going offline later is not a new decision about them: only being turned away is.
    presence.sweep(utcnow() + dt.timedelta(seconds=grace, minutes=app.config["PRESENCE_OFFLINE_AFTER_MINUTES"] + 1))
    assert presence.presence_of(expert.id).status == PresenceStatus.OFFLINE
    assert len(decisions_of(session, expert.id)) == 1


def test_a_paused_expert_has_no_decision_recorded(session):
    expert = EnrolmentFactory().expert
    session.commit()
    user = session.get(User, expert.user_id)
    presence.go_online(user)
    presence.pause(user)
    assert decisions_of(session, expert.id) == []


def test_a_decision_is_rolled_back_with_the_transaction_that_took_it(session):
    expert = EnrolmentFactory().expert
    session.commit()
    with pytest.raises(RuntimeError), unit_of_work():
        decisions.record(expert.id, "missed_offers", {"missed_offers": 3, "limit": 3})
        raise RuntimeError("the deciding service failed")
    assert decisions_of(session, expert.id) == []


def test_an_unknown_reason_is_refused_by_the_code_that_records_it(session):
    with pytest.raises(ValueError):
        decisions.record(1, "because", {})


def test_the_planner_records_each_release_with_the_brand_the_invitation_and_the_figures(session):
    brand = BrandFactory(name="Atelier", allow_unbooked_online=False, expert_concurrency=2)
    for _ in range(2):
        EnrolmentFactory(brand_id=brand.id)
    session.commit()
    for _ in range(12):
        arrive(brand)
    start = utcnow()
    pool.scale_brand(brand.id, start)
    for invitation in session.scalars(sa.select(Invitation).where(Invitation.status == InvitationStatus.PENDING)):
        expert = session.get(ExpertProfile, invitation.expert_id)
        pool.accept_invitation(session.get(User, expert.user_id), invitation.id)
    later = start + dt.timedelta(minutes=16)
    pool.scale_brand(brand.id, later)
    assert session.scalar(sa.select(sa.func.count()).select_from(ExpertDecision)) == 0  # not yet released
    calm = pool.scale_brand(brand.id, later + dt.timedelta(minutes=15, seconds=1))
    assert calm.released == 2
    rows = session.scalars(sa.select(ExpertDecision).order_by(ExpertDecision.id)).all()
    released = {i.expert_id: i.id for i in session.scalars(sa.select(Invitation)
                                                              .where(Invitation.released_at.is_not(None)))}
    assert {(r.expert_id, r.subject_type, r.subject_id) for r in rows} == {
        (expert_id, "invitation", invitation_id) for expert_id, invitation_id in released.items()}
    for row in rows:
        assert (row.kind, row.reason_code, row.brand_id) == ("released", "released", brand.id)
        assert row.params["desired"] == 0 and row.params["online"] == 2
        assert row.params["open_chats"] >= 0 and row.params["online_minutes"] >= 31


def test_an_earning_held_by_a_fraud_check_is_recorded_with_the_checks_and_the_hold(app, session):
    brand = BrandFactory(price_cents=200)
    expert = EnrolmentFactory(brand_id=brand.id).expert
    half_hour_ago = utcnow() - dt.timedelta(minutes=30)
    ClosedChatFactory(brand=brand, expert=expert, closed_at=half_hour_ago)
    short = ClosedChatFactory(brand=brand, expert=expert, closed_at=half_hour_ago, length=dt.timedelta(seconds=25))
    session.commit()
    assert earnings.record_earnings(utcnow()) == 2
    [decision] = decisions_of(session, expert.id)
    held = session.scalar(sa.select(Earning).where(Earning.conversation_id == short.id))
    assert (decision.kind, decision.reason_code, decision.brand_id) == ("earning_held", "fraud_check", brand.id)
    assert (decision.subject_type, decision.subject_id) == ("earning", held.id)
    assert decision.params["checks"] == ["short_chat"]
    assert decision.params["hold_days"] == app.config["PAYOUT_HOLD_DAYS"]
    assert "implausibly short chat" in decisions.own_decisions(session.get(User, expert.user_id))[0].text
    earnings.record_earnings(utcnow())  # a second pass earns nothing and decides nothing
    assert len(decisions_of(session, expert.id)) == 1


def test_a_visitors_rating_is_recorded_as_counted_for_the_expert(client, session):
    from tests.routing.conftest import visitor_token

    brand = BrandFactory()
    expert = online_expert(brand)
    session.commit()
    token = visitor_token()
    headers = {"X-Visitor-Token": token}
    started = client.post(f"/api/widget/{brand.widget_key}/conversations", json={}, headers=headers)
    offer = session.scalar(sa.select(Offer).where(Offer.conversation_id == started.json["id"]))
    offers.accept_offer(expert.id, offer.id)
    base = f"/api/widget/{brand.widget_key}/conversations/{started.json['id']}"
    assert client.post(f"{base}/leave", headers=headers).json["status"] == "closed"
    assert client.post(f"{base}/rating", json={"rating": 4}, headers=headers).status_code == 200
    [decision] = decisions_of(session, expert.id)
    assert (decision.reason_code, decision.params, decision.brand_id) == ("rating_counted", {"rating": 4}, brand.id)
    assert (decision.subject_type, decision.subject_id) == ("conversation", started.json["id"])
    # A refused second rating records nothing.
    assert client.post(f"{base}/rating", json={"rating": 1}, headers=headers).status_code == 409
    assert len(decisions_of(session, expert.id)) == 1
