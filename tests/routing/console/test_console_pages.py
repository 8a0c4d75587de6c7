"""The brand console's program, rate card and caps pages, as brand admins and viewers use them."""

from __future__ import annotations

import datetime as dt

import pytest

from marketplace.brands import opening
from marketplace.brands.models import BrandClosure, BrandRole, RateCard
from marketplace.core import clock
from marketplace.database import db, utcnow
from marketplace.errors import Conflict
from marketplace.routing.chat import messages
from marketplace.routing.models import BrandLoad, ConversationStatus, EndReason, Offer, OfferStatus, Sender
from marketplace.routing.router import admission, loads, offers
from tests.conftest import log_in
from tests.routing.conftest import admin_of, arrive, online_expert, visitor_token
from tests.routing.router.test_rate_cards import at
from tests.routing.test_pages import form_token

PROGRAM = {
    "topics": "Livraison\nRetours", "languages": "fr, en", "hours_mon": "09:00-12:00, 14:00-18:00",
    "hours_tue": "9h-18h", "hours_wed": "", "hours_thu": "08:00-24:00", "hours_fri": "", "hours_sat": "",
    "hours_sun": "", "holiday_country": "FR", "holiday_subdivision": "", "service_level_percent": "90",
    "service_level_seconds": "45", "max_wait_seconds": "240", "offer_timeout_seconds": "20",
    "inactivity_close_minutes": "10", "expert_concurrency": "2", "enrolment_approval": "automatic",
    "async_expert_limit": "4", "async_first_reply_minutes": "15", "async_quiet_hours": "48",
    "reopen_window_hours": "24", "retention_months": "12",
}


def test_an_admin_sets_up_the_program_and_a_bad_day_is_named(client, session, brand):
    log_in(client, admin_of(session, brand).email)
    page = client.get(f"/brands/{brand.slug}/program").get_data(as_text=True)
    saved = client.post(f"/brands/{brand.slug}/program", data={"csrf_token": form_token(page), **PROGRAM})
    assert saved.status_code == 302, saved.get_data(as_text=True)
    db.session.refresh(brand)
    assert brand.opening_hours == {"mon": [["09:00", "12:00"], ["14:00", "18:00"]], "tue": [["09:00", "18:00"]],
                                   "wed": [], "thu": [["08:00", "00:00"]], "fri": [], "sat": [], "sun": []}
    assert (brand.topics, brand.languages, brand.holiday_country) == (["Livraison", "Retours"], ["fr", "en"], "FR")
    assert (brand.service_level_percent, brand.service_level_seconds, brand.expert_concurrency) == (90, 45, 2)
    assert brand.enrolment_approval.value == "automatic"
    assert (brand.async_expert_limit, brand.async_first_reply_minutes, brand.async_quiet_hours,
            brand.reopen_window_hours) == (4, 15, 48, 24)
    bad_quiet = client.post(f"/brands/{brand.slug}/program",
                            data={"csrf_token": form_token(page), **PROGRAM, "async_quiet_hours": "0"})
    assert bad_quiet.status_code == 422 and 'id="async_quiet_hours-error"' in bad_quiet.get_data(as_text=True)
    bad = client.post(f"/brands/{brand.slug}/program",
                      data={"csrf_token": form_token(page), **PROGRAM, "hours_wed": "noon to 3"})
    assert bad.status_code == 422
    assert 'id="hours_wed-error"' in bad.get_data(as_text=True)
    bad_language = client.post(f"/brands/{brand.slug}/program",
                               data={"csrf_token": form_token(page), **PROGRAM, "languages": "fr, xx"})
    assert bad_language.status_code == 422 and "xx is not a language code" in bad_language.get_data(as_text=True)
    db.session.refresh(brand)
    assert brand.opening_hours["wed"] == [] and brand.languages == ["fr", "en"]  # nothing half-written


def test_a_viewer_reads_the_console_but_changes_nothing(client, session, brand):
    viewer = admin_of(session, brand, BrandRole.VIEWER)
    log_in(client, viewer.email)
    for path in ("program", "rates", "caps"):
        page = client.get(f"/brands/{brand.slug}/{path}")
        assert page.status_code == 200, path
    token = form_token(client.get(f"/brands/{brand.slug}/program").get_data(as_text=True))
    for path, data in (("program", PROGRAM), ("caps", {"max_concurrent": "1"}),
                       ("rates", {"effective_from": "2030-01-01", "price": "9"}),
                       ("closures", {"day": "2030-01-01"})):
        assert client.post(f"/brands/{brand.slug}/{path}", data={"csrf_token": token, **data}).status_code == 403
    assert db.session.scalar(db.select(db.func.count()).select_from(BrandClosure)) == 0
    assert db.session.scalar(db.select(db.func.count()).select_from(RateCard).where(RateCard.brand_id == brand.id)) == 1


def test_an_admin_schedules_a_rate_typed_the_french_way(client, session, brand):
    log_in(client, admin_of(session, brand).email)
    page = client.get(f"/brands/{brand.slug}/rates").get_data(as_text=True)
    tomorrow = clock.local_day(utcnow(), brand.timezone) + dt.timedelta(days=1)
    saved = client.post(f"/brands/{brand.slug}/rates", data={
        "csrf_token": form_token(page), "effective_from": tomorrow.isoformat(), "price": "2,50",
        "rating_at_least": "4", "rating_bonus": "0,30", "commission_percent": "5"})
    assert saved.status_code == 302
    card = db.session.scalar(db.select(RateCard).where(RateCard.effective_from == tomorrow))
    assert (card.price_cents, card.commission_bps) == (250, 2000)  # an admin's commission box is ignored
    assert card.bonus_rules == [{"kind": "rating_at_least", "value": 4, "bonus_cents": 30}]
    history = client.get(f"/brands/{brand.slug}/rates").get_data(as_text=True)
    assert 'data-state="scheduled"' in history and 'data-state="in_effect"' in history
    past = client.post(f"/brands/{brand.slug}/rates", data={
        "csrf_token": form_token(page), "effective_from": "2020-01-01", "price": "3"})
    assert past.status_code == 422 and "past chats keep their rate" in past.get_data(as_text=True)


def test_the_caps_page_saves_caps_and_shows_use_and_refusals(client, session, brand):
    log_in(client, admin_of(session, brand).email)
    page = client.get(f"/brands/{brand.slug}/caps").get_data(as_text=True)
    saved = client.post(f"/brands/{brand.slug}/caps", data={
        "csrf_token": form_token(page), "max_concurrent": "1", "max_active_experts": "", "daily_cap": "",
        "monthly_budget": "1 500,50"})
    assert saved.status_code == 302
    db.session.refresh(brand)
    assert (brand.max_concurrent, brand.max_active_experts, brand.monthly_budget_cents) == (1, None, 150_050)
    first, second = arrive(brand), arrive(brand)
    assert (first.status, second.status) == (ConversationStatus.WAITING, ConversationStatus.CAPPED)
    shown = client.get(f"/brands/{brand.slug}/caps").get_data(as_text=True)
    assert '<dd data-reason="max_concurrent">1</dd>' in shown
    usage = client.get(f"/api/v1/brands/{brand.id}/caps").json
    assert usage["refusals_today"]["max_concurrent"] == 1 and usage["refusals_total"] == 1
    assert {c["name"]: (c["used"], c["cap"]) for c in usage["caps"]}["max_concurrent"] == (1, 1)


def test_a_public_holiday_and_a_one_off_closure_close_the_door(session, brand, monkeypatch):
    admin = admin_of(session, brand)
    brand.holiday_country = "FR"
    session.commit()
    at(monkeypatch, dt.datetime(2026, 12, 25, 11, 0, tzinfo=dt.UTC))
    christmas = arrive(brand)
    assert (christmas.status, christmas.end_reason) == (ConversationStatus.CAPPED, EndReason.CLOSED_HOURS)
    at(monkeypatch, dt.datetime(2026, 12, 1, 11, 0, tzinfo=dt.UTC))
    opening.add_closure(admin, brand.id, dt.date(2026, 12, 2), "Inventaire")
    assert arrive(brand).status == ConversationStatus.WAITING
    at(monkeypatch, dt.datetime(2026, 12, 2, 11, 0, tzinfo=dt.UTC))
    assert arrive(brand).end_reason == EndReason.CLOSED_HOURS
    with pytest.raises(Conflict):
        opening.add_closure(admin, brand.id, dt.date(2026, 12, 2))


def test_a_chat_closed_before_any_reply_gives_its_price_back_to_the_budget(session, brand):
    expert = online_expert(brand)
    session.commit()
    answered, silent = arrive(brand), arrive(brand)
    for conversation in (answered, silent):
        offer = session.scalar(db.select(Offer).where(Offer.conversation_id == conversation.id))
        offers.accept_offer(expert.id, offer.id)
    assert session.get(BrandLoad, brand.id).month_committed_cents == 400  # in progress: both count
    messages.post_message(answered.id, Sender.EXPERT, visitor_token()[:32], "Bonjour", expert_id=expert.id)
    for conversation in (answered, silent):
        admission.end_conversation(conversation.id, ConversationStatus.CLOSED, EndReason.EXPERT)
    load = session.get(BrandLoad, brand.id, populate_existing=True)
    assert (load.month_committed_cents, load.day_accepted) == (200, 2)


def test_a_cap_lowered_while_an_offer_waits_applies_when_it_is_accepted(session, brand):
    expert = online_expert(brand)
    session.commit()
    conversation = arrive(brand)
    offer = session.scalar(db.select(Offer).where(Offer.conversation_id == conversation.id))
    brand.daily_cap = 0
    session.commit()
    with pytest.raises(Conflict):
        offers.accept_offer(expert.id, offer.id)
    session.refresh(offer)
    session.refresh(conversation)
    assert (offer.status, conversation.status) == (OfferStatus.RESCINDED, ConversationStatus.WAITING)
    assert loads.counters_match() == []


def test_max_active_experts_keeps_new_chats_with_the_experts_already_working(session, brand):
    first, _second = online_expert(brand), online_expert(brand)
    brand.max_active_experts = 1
    session.commit()
    chats = [arrive(brand) for _ in range(3)]
    offered_to = {session.scalar(db.select(Offer.expert_id).where(Offer.conversation_id == c.id)) for c in chats}
    assert len(offered_to) == 1 and offered_to <= {first.id, _second.id}
    fourth = arrive(brand)  # 1 expert x 3 seats are all taken
    assert (fourth.status, fourth.end_reason) == (ConversationStatus.CAPPED, EndReason.MAX_ACTIVE_EXPERTS)
