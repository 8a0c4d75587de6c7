"""Rate cards through the router: a chat keeps the price in effect, on the brand's clock, when it was accepted."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from marketplace.accounts.models import Role
from marketplace.brands import rates
from marketplace.core import clock
from marketplace.database import utcnow
from marketplace.errors import Conflict, Forbidden, InvalidInput
from marketplace.routing.models import BrandLoad, Offer, OfferStatus
from marketplace.routing.router import offers
from tests.factories import BrandFactory, UserFactory
from tests.routing.conftest import admin_of, arrive, online_expert

AUCKLAND = zoneinfo.ZoneInfo("Pacific/Auckland")  # UTC+13 in December: its midnight is midday in UTC


def at(monkeypatch, moment: dt.datetime) -> None:
    """Stop the clocks the router, the door and the rate cards read at `moment`."""
    for module in ("marketplace.routing.router.loads", "marketplace.routing.router.decisions",
                   "marketplace.routing.router.offers", "marketplace.routing.router.admission",
                   "marketplace.brands.rates", "marketplace.brands.opening"):
        monkeypatch.setattr(f"{module}.utcnow", lambda: moment.astimezone(dt.UTC))


def accepted_price(session, brand, expert) -> tuple[int, int | None]:
    conversation = arrive(brand)
    offer = session.scalar(session.query(Offer).filter_by(conversation_id=conversation.id,
                                                          status=OfferStatus.PENDING).statement)
    chat = offers.accept_offer(expert.id, offer.id)
    return chat.rate_cents, chat.rate_card_id


@pytest.fixture
def auckland(session):
    brand = BrandFactory(timezone="Pacific/Auckland", price_cents=200, expert_concurrency=10)
    session.commit()
    return brand


def test_a_rate_scheduled_for_tomorrow_leaves_todays_chats_at_todays_rate(session, auckland, monkeypatch):
    expert = online_expert(auckland)
    admin = admin_of(session, auckland)
    at(monkeypatch, dt.datetime(2026, 12, 1, 9, 0, tzinfo=AUCKLAND))
    tomorrow = rates.schedule_rate(admin, auckland.id, effective_from=dt.date(2026, 12, 2), price_cents=300)
    before_midnight = dt.datetime(2026, 12, 1, 23, 59, 30, tzinfo=AUCKLAND)
    assert before_midnight.astimezone(dt.UTC).date() == dt.date(2026, 12, 1)  # 10:59 UTC, same UTC day as after
    at(monkeypatch, before_midnight)
    today_price, today_card = accepted_price(session, auckland, expert)
    at(monkeypatch, dt.datetime(2026, 12, 2, 0, 0, 30, tzinfo=AUCKLAND))
    tomorrow_price, tomorrow_card = accepted_price(session, auckland, expert)
    assert (today_price, tomorrow_price) == (200, 300)
    assert today_card != tomorrow.id and tomorrow_card == tomorrow.id
    load = session.get(BrandLoad, auckland.id)
    assert (load.day, load.day_accepted) == (dt.date(2026, 12, 2), 1)  # the day's cap counts from local midnight


def test_a_new_rate_never_starts_in_the_past_nor_more_than_a_year_ahead(session, auckland, monkeypatch):
    admin = admin_of(session, auckland)
    at(monkeypatch, dt.datetime(2026, 12, 1, 0, 30, tzinfo=AUCKLAND))  # still 30 November in UTC
    with pytest.raises(InvalidInput) as past:
        rates.schedule_rate(admin, auckland.id, effective_from=dt.date(2026, 11, 30), price_cents=250)
    assert past.value.field == "effective_from"
    with pytest.raises(InvalidInput):
        rates.schedule_rate(admin, auckland.id, effective_from=dt.date(2028, 1, 1), price_cents=250)
    today = rates.schedule_rate(admin, auckland.id, effective_from=dt.date(2026, 12, 1), price_cents=250)
    assert rates.card_in_effect(auckland).id == today.id


def test_only_the_platforms_staff_change_the_commission(session, auckland):
    admin = admin_of(session, auckland)
    day = clock.local_day(utcnow(), auckland.timezone) + dt.timedelta(days=3)
    with pytest.raises(Forbidden) as refused:
        rates.schedule_rate(admin, auckland.id, effective_from=day, price_cents=250, commission_bps=1000)
    assert refused.value.field == "commission_bps"
    ops = UserFactory(role=Role.OPS)
    card = rates.schedule_rate(ops, auckland.id, effective_from=day, price_cents=250, commission_bps=1250)
    assert (card.price_cents, card.commission_bps) == (250, 1250)
    kept = rates.schedule_rate(admin, auckland.id, effective_from=day + dt.timedelta(days=1), price_cents=260)
    assert kept.commission_bps == 2000  # the admin's card keeps the commission in effect


def test_a_second_rate_for_the_same_day_replaces_the_first_and_the_history_shows_both(session, auckland):
    admin = admin_of(session, auckland)
    day = clock.local_day(utcnow(), auckland.timezone) + dt.timedelta(days=2)
    first = rates.schedule_rate(admin, auckland.id, effective_from=day, price_cents=250,
                                bonus_rules=[{"kind": "rating_at_least", "value": 4, "bonus_cents": 50}])
    second = rates.schedule_rate(admin, auckland.id, effective_from=day, price_cents=275)
    states = {view.card.id: view.state for view in rates.rate_history(admin, auckland.id)}
    assert states[first.id] == rates.CardState.CANCELLED and states[second.id] == rates.CardState.SCHEDULED
    assert list(states.values()).count(rates.CardState.IN_EFFECT) == 1
    current = next(v for v in rates.rate_history(admin, auckland.id) if v.state == rates.CardState.IN_EFFECT)
    assert current.ends_on == day - dt.timedelta(days=1)


def test_only_a_rate_still_to_come_can_be_cancelled(session, auckland):
    admin = admin_of(session, auckland)
    current = rates.card_in_effect(auckland)
    with pytest.raises(Conflict):
        rates.cancel_rate(admin, auckland.id, current.id)
    in_five_days = clock.local_day(utcnow(), auckland.timezone) + dt.timedelta(days=5)
    later = rates.schedule_rate(admin, auckland.id, effective_from=in_five_days, price_cents=999)
    rates.cancel_rate(admin, auckland.id, later.id)
    assert rates.card_in_effect(auckland, dt.datetime.now(dt.UTC) + dt.timedelta(days=6)).id == current.id


@pytest.mark.parametrize("rules", [
    [{"kind": "tip", "value": 1, "bonus_cents": 10}],
    [{"kind": "rating_at_least", "value": 6, "bonus_cents": 10}],
    [{"kind": "rating_at_least", "value": 4, "bonus_cents": 0}],
    [{"kind": "rating_at_least", "value": 4, "bonus_cents": 10}, {"kind": "rating_at_least", "value": 5,
                                                                  "bonus_cents": 20}],
])
def test_bad_bonus_rules_are_refused_naming_the_field_and_nothing_is_written(session, auckland, rules):
    admin = admin_of(session, auckland)
    count = len(rates.rate_history(admin, auckland.id))
    tomorrow = clock.local_day(utcnow(), auckland.timezone) + dt.timedelta(days=1)
    with pytest.raises(InvalidInput) as refused:
        rates.schedule_rate(admin, auckland.id, effective_from=tomorrow, price_cents=250, bonus_rules=rules)
    session.rollback()
    assert refused.value.field == "bonus_rules"
    assert len(rates.rate_history(admin, auckland.id)) == count


def test_the_api_schedules_lists_and_cancels_rates(client, session, auckland):
    from tests.conftest import log_in

    csrf = log_in(client, admin_of(session, auckland).email)
    day = (clock.local_day(utcnow(), auckland.timezone) + dt.timedelta(days=1)).isoformat()
    made = client.post(f"/api/v1/brands/{auckland.id}/rates", headers={"X-CSRFToken": csrf},
                       json={"effective_from": day, "price_cents": 310,
                             "bonus_rules": [{"kind": "first_reply_within", "value": 30, "bonus_cents": 20}]})
    assert made.status_code == 201, made.json
    assert (made.json["state"], made.json["price_cents"], made.json["commission_bps"]) == ("scheduled", 310, 2000)
    listed = client.get(f"/api/v1/brands/{auckland.id}/rates").json
    assert [card["state"] for card in listed] == ["scheduled", "in_effect"]
    bad = client.post(f"/api/v1/brands/{auckland.id}/rates", headers={"X-CSRFToken": csrf},
                      json={"effective_from": day, "price_cents": -5})
    assert bad.status_code == 422 and "price_cents" in bad.json["errors"]
    gone = client.delete(f"/api/v1/brands/{auckland.id}/rates/{made.json['id']}", headers={"X-CSRFToken": csrf})
    assert gone.json["state"] == "cancelled"
