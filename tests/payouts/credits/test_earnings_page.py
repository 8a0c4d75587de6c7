"""The expert sees their FAQ credits on their earnings, apart from their answered chats, in the API and the page."""

from __future__ import annotations

import datetime as dt

from marketplace.accounts.models import User
from marketplace.database import utcnow
from marketplace.payouts.credits import services as credits
from marketplace.payouts.earnings import services as earnings
from tests.conftest import log_in
from tests.factories import ClosedChatFactory, EnrolmentFactory
from tests.payouts.credits.resolutions import entry, pays_credit, resolved

NOW = utcnow()


def test_the_api_shows_the_credits_apart_and_counts_them_in_the_money(client, session, shop):
    author = EnrolmentFactory(brand_id=shop.id).expert
    ClosedChatFactory(brand=shop, expert=author, closed_at=NOW - dt.timedelta(minutes=30))  # earns 1.60
    pays_credit(shop, 30)
    written = entry(shop, author)
    resolved(shop, written)
    resolved(shop, written, confirmed=False)
    earnings.record_earnings(NOW)
    credits.record_credits()
    log_in(client, session.get(User, author.user_id).email)
    summary = client.get("/api/v1/experts/me/earnings").json
    assert summary["faq_credits"] == [{"currency": "EUR", "resolutions": 2, "credited_cents": 60}]
    assert summary["totals"] == [{"currency": "EUR", "held_cents": 220, "payable_cents": 0, "in_transit_cents": 0,
                                  "paid_cents": 0}]
    # A resolved conversation is no answered chat.
    assert summary["by_brand"] == [{"brand_id": shop.id, "currency": "EUR", "chats": 1, "earned_cents": 160}]
    assert len(summary["recent"]) == 1


def test_the_page_shows_a_faq_credits_section_in_french(client, session, shop):
    author = EnrolmentFactory(brand_id=shop.id).expert
    pays_credit(shop, 45)
    resolved(shop, entry(shop, author))
    credits.record_credits()
    log_in(client, session.get(User, author.user_id).email)
    page = client.get("/expert/earnings").get_data(as_text=True)
    assert "FAQ credits" in page and "€0.45" in page and 'data-testid="faq-credits"' in page
    assert "No earnings yet" not in page
    french = client.get("/expert/earnings", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Crédits FAQ" in french and "Résolutions" in french


def test_an_expert_without_credits_sees_no_credit_section(client, session, shop):
    author = EnrolmentFactory(brand_id=shop.id).expert
    log_in(client, session.get(User, author.user_id).email)
    assert client.get("/api/v1/experts/me/earnings").json["faq_credits"] == []
    page = client.get("/expert/earnings").get_data(as_text=True)
    assert 'data-testid="faq-credits"' not in page and "No earnings yet" in page
