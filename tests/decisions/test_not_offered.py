"""Chats offered to other experts while an expert was online are recorded as "not offered" decisions: one per
expert, brand and hour, with the counts and the online time, shown to the expert in their words."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import User
from marketplace.database import READ_ONLY
from marketplace.decisions import services as decisions
from marketplace.decisions.models import ExpertDecision
from marketplace.experts.models import Enrolment, PresenceSession
from marketplace.routing.models import OfferStatus
from marketplace.routing.router import passed_over
from tests.factories import BrandFactory, EnrolmentFactory, OfferFactory

HOUR = dt.datetime(2026, 11, 30, 14, 0, tzinfo=dt.UTC)


def at(minutes: float) -> dt.datetime:
    return HOUR + dt.timedelta(minutes=minutes)


def offered(brand, expert, minutes: float) -> None:
    OfferFactory(brand=brand, expert=expert, created_at=at(minutes), expires_at=at(minutes + 1),
                 status=OfferStatus.EXPIRED, decided_at=at(minutes + 1))


def not_offered(session, expert_id: int | None = None) -> list[ExpertDecision]:
    query = sa.select(ExpertDecision).where(ExpertDecision.reason_code == "not_offered").order_by(ExpertDecision.id)
    if expert_id is not None:
        query = query.where(ExpertDecision.expert_id == expert_id)
    return list(session.scalars(query))


def _add_session(session, expert, start, end):
    session.add(PresenceSession(expert_id=expert.id, started_at=at(start), ended_at=None if end is None else at(end)))


def test_an_expert_online_while_chats_went_to_others_gets_one_decision_with_the_counts(session):
    brand = BrandFactory(name="Lumière")
    chosen = EnrolmentFactory(brand_id=brand.id).expert
    passed = EnrolmentFactory(brand_id=brand.id).expert
    _add_session(session, chosen, -30, None)
    _add_session(session, passed, 10, 40)  # online 30 minutes of the hour
    for minutes in (5, 15, 25, 35, 50):  # three of them while `passed` was online
        offered(brand, chosen, minutes)
    offered(brand, passed, 20)
    session.flush()

    assert passed_over.record_hour(HOUR) == 2  # the offer at 20 passed `chosen` over too
    [decision] = not_offered(session, passed.id)
    assert decision.brand_id == brand.id
    assert decision.kind == "not_offered"
    assert decision.params == {"offers_to_others": 3, "offers_to_you": 1, "online_minutes": 30,
                               "hour_start": HOUR.isoformat()}
    assert (decision.subject_type, decision.subject_id) == ("hour", passed_over.hour_number(HOUR))
    assert decision.created_at == at(60)
    [other] = not_offered(session, chosen.id)
    assert other.params == {"offers_to_others": 1, "offers_to_you": 5, "online_minutes": 60,
                            "hour_start": HOUR.isoformat()}


def test_nothing_is_recorded_for_an_expert_offline_for_another_brand_or_given_every_chat(session):
    brand, other_brand = BrandFactory(), BrandFactory()
    only_one = EnrolmentFactory(brand_id=brand.id).expert
    offline = EnrolmentFactory(brand_id=brand.id).expert
    elsewhere = EnrolmentFactory(brand_id=other_brand.id).expert
    _add_session(session, only_one, 0, 60)
    _add_session(session, offline, 61, None)  # online only after the hour
    _add_session(session, elsewhere, 0, 60)  # online, but not approved by the brand whose chats went out
    offered(brand, only_one, 10)
    offered(brand, only_one, 30)
    session.flush()

    assert passed_over.record_hour(HOUR) == 0
    assert not_offered(session) == []


def test_a_suspended_expert_is_not_told_they_were_passed_over(session):
    brand = BrandFactory()
    chosen = EnrolmentFactory(brand_id=brand.id).expert
    suspended = EnrolmentFactory(brand_id=brand.id, expert__status="suspended").expert
    _add_session(session, chosen, 0, 60)
    _add_session(session, suspended, 0, 60)
    offered(brand, chosen, 10)
    session.flush()
    assert passed_over.record_hour(HOUR) == 0


def test_each_brand_gets_its_own_decision_and_a_second_pass_records_nothing_twice(session):
    lamps, bikes = BrandFactory(), BrandFactory()
    both = EnrolmentFactory(brand_id=lamps.id).expert
    EnrolmentFactory(brand_id=bikes.id, expert=both)
    lamp_expert = EnrolmentFactory(brand_id=lamps.id).expert
    bike_expert = EnrolmentFactory(brand_id=bikes.id).expert
    for expert in (both, lamp_expert, bike_expert):
        _add_session(session, expert, 0, 60)
    offered(lamps, lamp_expert, 5)
    offered(bikes, bike_expert, 6)
    offered(bikes, bike_expert, 7)
    session.flush()

    assert passed_over.record_recent_hours(at(62)) == 2
    assert passed_over.record_recent_hours(at(65)) == 0
    by_brand = {d.brand_id: d.params["offers_to_others"] for d in not_offered(session, both.id)}
    assert by_brand == {lamps.id: 1, bikes.id: 2}
    assert not_offered(session, lamp_expert.id) == [] and not_offered(session, bike_expert.id) == []


def test_the_expert_reads_the_decision_in_words_and_the_hours_missed_by_a_stopped_scheduler_are_caught_up(
        session):
    brand = BrandFactory(name="Vélo Rapide")
    chosen = EnrolmentFactory(brand_id=brand.id).expert
    passed = EnrolmentFactory(brand_id=brand.id).expert
    for expert in (chosen, passed):
        _add_session(session, expert, 0, 180)
    offered(brand, chosen, 10)  # hour one
    offered(brand, chosen, 130)  # hour three
    session.flush()

    assert passed_over.record_recent_hours(at(185)) == 2  # run three hours late: hours one and three
    views = decisions.own_decisions(session.get(User, passed.user_id))
    assert [view.title for view in views] == ["Chats offered to other experts"] * 2
    assert "1 chats of this brand were offered to other experts, and 0 to you" in views[0].text
    assert "online for 60 minutes" in views[0].text
    assert views[0].brand_name == "Vélo Rapide"


def test_the_database_keeps_one_decision_per_expert_brand_and_hour(session):
    """Two passes over one hour at once (no lease, two schedulers): the second one's row is refused."""
    expert = EnrolmentFactory().expert
    brand_id = session.scalar(sa.select(Enrolment.brand_id).where(Enrolment.expert_id == expert.id))
    params = {"offers_to_others": 1, "offers_to_you": 0, "online_minutes": 60, "hour_start": HOUR.isoformat()}
    decisions.record(expert.id, "not_offered", params, brand_id=brand_id, subject=("hour", 1))
    session.flush()
    savepoint = session.begin_nested()
    decisions.record(expert.id, "not_offered", params, brand_id=brand_id, subject=("hour", 1))
    with pytest.raises(sa.exc.IntegrityError):
        session.flush()
    savepoint.rollback()
    decisions.record(expert.id, "not_offered", params, brand_id=brand_id, subject=("hour", 2))  # the next hour
    session.flush()
    assert len(not_offered(session, expert.id)) == 2


def test_the_hour_is_read_without_the_write_lock_and_the_decisions_written_after(session, monkeypatch):
    """An hour of offers can be many rows: on SQLite a read-only transaction reads them without holding up the
    router; the decisions go in a short transaction after."""
    brand = BrandFactory()
    chosen = EnrolmentFactory(brand_id=brand.id).expert
    passed = EnrolmentFactory(brand_id=brand.id).expert
    for expert in (chosen, passed):
        _add_session(session, expert, 0, 60)
    offered(brand, chosen, 10)
    session.flush()
    read = passed_over._passed_over  # noqa: SLF001 - spied on
    seen = []

    def spy(start, end):
        seen.append(session.connection().get_execution_options().get(READ_ONLY))
        return read(start, end)

    monkeypatch.setattr(passed_over, "_passed_over", spy)
    assert passed_over.record_hour(HOUR) == 1
    assert seen == [True]
    assert len(not_offered(session, passed.id)) == 1
