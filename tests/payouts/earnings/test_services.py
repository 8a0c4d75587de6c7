"""Earnings of answered chats on a real database: priced at acceptance, recorded once, held, then payable."""

from __future__ import annotations

import datetime as dt
import secrets

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import Role, User
from marketplace.brands.models import Brand, RateCard
from marketplace.database import utcnow
from marketplace.experts.models import ExpertProfile
from marketplace.notifications.models import Notification
from marketplace.payouts import jobs
from marketplace.payouts.earnings import services as earnings
from marketplace.payouts.ledger import books, checks
from marketplace.payouts.models import Earning, EarningStatus, LedgerTransaction
from marketplace.routing import history, networks
from tests.conftest import log_in
from tests.factories import ClosedChatFactory, EnrolmentFactory, UserFactory, WrittenLedgerTransactionFactory

NOW = utcnow()
HALF_HOUR_AGO = NOW - dt.timedelta(minutes=30)  # past the 10 minutes to rate a chat


def expert_of(shop: Brand) -> ExpertProfile:
    return EnrolmentFactory(brand_id=shop.id).expert


def owed(expert: ExpertProfile) -> dict[str, int]:
    return books.expert_balances(expert.id)["EUR"]


def test_an_answered_chat_earns_price_less_commission_plus_bonus_once(session, shop):
    expert = expert_of(shop)
    rated = ClosedChatFactory(brand=shop, expert=expert, closed_at=HALF_HOUR_AGO, rating=5)
    plain = ClosedChatFactory(brand=shop, expert=expert, closed_at=HALF_HOUR_AGO, rating=3)
    assert earnings.record_earnings(NOW) == 2
    assert earnings.record_earnings(NOW) == 0  # a second pass changes nothing
    by_chat = {e.conversation_id: e for e in session.scalars(sa.select(Earning))}
    assert (by_chat[rated.id].price_cents, by_chat[rated.id].commission_cents, by_chat[rated.id].bonus_cents,
            by_chat[rated.id].expert_cents) == (200, 40, 50, 210)
    assert by_chat[plain.id].expert_cents == 160
    assert by_chat[rated.id].status == EarningStatus.HELD and by_chat[rated.id].currency == "EUR"
    assert owed(expert) == {"expert_held": 370, "expert_payable": 0, "expert_in_transit": 0}
    assert checks.check_invariants().breaches == []


def test_unanswered_chats_and_chats_still_open_to_rating_are_not_earned(session, shop):
    expert = expert_of(shop)
    ClosedChatFactory(brand=shop, expert=expert, closed_at=HALF_HOUR_AGO, reply_after=None)
    # Within the 10 minutes to rate it.
    ClosedChatFactory(brand=shop, expert=expert, closed_at=NOW - dt.timedelta(minutes=2))
    assert earnings.record_earnings(NOW) == 0
    assert earnings.record_earnings(NOW + dt.timedelta(minutes=9)) == 1


def test_the_price_is_the_one_in_effect_at_acceptance(session, shop):
    expert = expert_of(shop)
    # Accepted while the card said 1.50.
    ClosedChatFactory(brand=shop, expert=expert, closed_at=HALF_HOUR_AGO, rate_cents=150)
    session.scalar(sa.select(RateCard).where(RateCard.brand_id == shop.id)).price_cents = 900
    earnings.record_earnings(NOW)
    assert session.scalar(sa.select(Earning.price_cents)) == 150


def test_earnings_become_payable_after_the_hold_unless_a_check_flagged_them(session, shop):
    expert = expert_of(shop)
    ClosedChatFactory(brand=shop, expert=expert, closed_at=HALF_HOUR_AGO)
    # Answered at 15 s, closed at 25 s: too short.
    ClosedChatFactory(brand=shop, expert=expert, closed_at=HALF_HOUR_AGO, length=dt.timedelta(seconds=25))
    earnings.record_earnings(NOW)
    assert earnings.release_due(NOW + dt.timedelta(days=13)) == 0
    assert earnings.release_due(NOW + dt.timedelta(days=14, seconds=1)) == 1
    statuses = {tuple(e.flags): e.status for e in session.scalars(sa.select(Earning))}
    assert statuses == {(): EarningStatus.PAYABLE, ("short_chat",): EarningStatus.HELD}
    assert owed(expert) == {"expert_held": 160, "expert_payable": 160, "expert_in_transit": 0}
    assert earnings.release_due(NOW + dt.timedelta(days=15)) == 0  # released once
    assert checks.check_invariants().breaches == []


def test_one_visitor_chatting_again_and_again_with_one_expert_is_flagged(session, shop):
    expert = expert_of(shop)
    token = secrets.token_hex(32)
    for hours in range(7):
        ClosedChatFactory(brand=shop, expert=expert, closed_at=NOW - dt.timedelta(hours=hours, minutes=30),
                          visitor_token_hash=token)
    earnings.record_earnings(NOW)
    flags = [e.flags for e in session.scalars(sa.select(Earning).order_by(Earning.closed_at))]
    assert flags[-1] == ["repeat_pair"] and flags[0] == ["repeat_pair"]


def test_the_ledger_check_finds_a_broken_transaction_and_tells_ops(session, shop):
    ops = UserFactory(role=Role.OPS)
    session.commit()
    expert = expert_of(shop)
    ClosedChatFactory(brand=shop, expert=expert, closed_at=HALF_HOUR_AGO)
    earnings.record_earnings(NOW)
    assert jobs.check_ledger()["breaches"] == 0
    broken = WrittenLedgerTransactionFactory(created_at=NOW, entries=[("cash", None, "EUR", 7)])
    session.commit()
    found = checks.check_invariants().breaches
    assert f"transaction {broken.id} sums to 7" in found and "the ledger sums to 7 EUR" in found
    assert jobs.check_ledger()["breaches"] == len(found)
    alert = session.scalar(sa.select(Notification).where(Notification.user_id == ops.id))
    assert alert.kind == "ledger_breach"


def test_the_expert_sees_their_money_per_currency_on_the_phone_and_in_the_api(client, session, shop):
    expert = expert_of(shop)
    ClosedChatFactory(brand=shop, expert=expert, closed_at=HALF_HOUR_AGO, rating=5)
    earnings.record_earnings(NOW)
    log_in(client, session.get(User, expert.user_id).email)
    summary = client.get("/api/v1/experts/me/earnings").json
    assert summary["totals"] == [{"currency": "EUR", "held_cents": 210, "payable_cents": 0, "in_transit_cents": 0,
                                  "paid_cents": 0}]
    assert summary["by_brand"] == [{"brand_id": shop.id, "currency": "EUR", "chats": 1, "earned_cents": 210}]
    assert summary["recent"][0]["bonus_cents"] == 50
    assert summary["next_payout"] == earnings.next_payout_day(utcnow().date(), 0).isoformat()
    page = client.get("/expert/earnings").get_data(as_text=True)
    assert "€2.10" in page and "Atelier" in page and "held until" in page and "Next payout: " in page
    assert "By SEPA bank transfer" in page  # no Stripe account yet


def test_only_experts_have_earnings(client, session):
    log_in(client, UserFactory(role=Role.BRAND).email)
    assert client.get("/api/v1/experts/me/earnings").status_code == 403


def test_a_chat_earned_twice_at_once_posts_one_transaction(session, shop):
    """Two passes racing on one chat: the unique conversation refuses the second, and its ledger rows go with it."""
    expert = expert_of(shop)
    ClosedChatFactory(brand=shop, expert=expert, closed_at=HALF_HOUR_AGO)
    (answered,) = history.answered_chats_closed(NOW - dt.timedelta(days=1), NOW)
    card = session.get(RateCard, answered.rate_card_id)
    assert earnings.earn(answered, card, "EUR", NOW) is not None
    assert earnings.earn(answered, card, "EUR", NOW) is None
    assert session.scalar(sa.select(sa.func.count()).select_from(LedgerTransaction)) == 1
    assert owed(expert)["expert_held"] == 160


def test_a_pass_that_meets_one_chat_earned_by_another_earns_the_rest_and_posts_nothing_twice(session, shop):
    """A pass writes its chats together; when another pass earned one of them since it looked, the together write
    is refused whole and each chat is tried alone: the others are earned, the taken one is left as it was."""
    expert = expert_of(shop)
    for _ in range(3):
        ClosedChatFactory(brand=shop, expert=expert, closed_at=HALF_HOUR_AGO)
    chats = history.answered_chats_closed(NOW - dt.timedelta(days=1), NOW)
    card = session.get(RateCard, chats[0].rate_card_id)
    assert earnings.earn(chats[1], card, "EUR", NOW) is not None  # the other pass, between the look and the write
    planned = [earnings._plan(chat, card, "EUR", NOW) for chat in chats]  # noqa: SLF001 - the race's second half
    assert earnings._earn_together(planned, NOW) == 2  # noqa: SLF001
    assert session.scalar(sa.select(sa.func.count()).select_from(Earning)) == 3
    assert session.scalar(sa.select(sa.func.count()).select_from(LedgerTransaction)) == 3
    assert owed(expert)["expert_held"] == 3 * 160
    assert checks.check_invariants().breaches == []


def test_a_pass_commits_every_hundred_chats(session, shop, monkeypatch):
    """A long pass is cut into transactions (SQLite's one write lock is held a fraction of a second at a time), and
    earns every chat once."""
    monkeypatch.setattr(earnings, "COMMIT_EVERY", 2)
    expert = expert_of(shop)
    for _ in range(5):
        ClosedChatFactory(brand=shop, expert=expert, closed_at=HALF_HOUR_AGO)
    commits = []
    monkeypatch.setattr(session, "commit", lambda real=session.commit: (commits.append(1), real())[1])
    assert earnings.record_earnings(NOW) == 5
    assert len(commits) == 4  # what the pass read, then three transactions of two, two and one chats
    assert owed(expert)["expert_held"] == 5 * 160


def test_a_visitor_on_the_experts_own_network_is_flagged(session, shop):
    expert = expert_of(shop)
    home, elsewhere = networks.fingerprint("2a01:e0a:1:2::10"), networks.fingerprint("2a01:e0a:1:2::99")
    assert home == elsewhere  # one household's IPv6 /64
    assert networks.fingerprint("203.0.113.7") != networks.fingerprint("203.0.113.8")
    assert networks.fingerprint("127.0.0.1") is None and networks.fingerprint("not an address") is None
    suspicious, fine = ClosedChatFactory.create_batch(2, brand=shop, expert=expert, closed_at=HALF_HOUR_AGO)
    suspicious.visitor_network = suspicious.expert_network = home
    fine.visitor_network, fine.expert_network = networks.fingerprint("203.0.113.7"), home
    earnings.record_earnings(NOW)
    flags = {e.conversation_id: e.flags for e in session.scalars(sa.select(Earning))}
    assert flags == {suspicious.id: ["same_network"], fine.id: []}


@pytest.mark.parametrize(("today", "expected"), [
    (dt.date(2026, 11, 29), dt.date(2026, 11, 30)),  # Sunday -> Monday
    (dt.date(2026, 11, 30), dt.date(2026, 12, 7)),  # a Monday: today's batch may have run, so the next one
    (dt.date(2026, 12, 2), dt.date(2026, 12, 7)),
])
def test_the_next_payout_day_is_the_next_payout_weekday(today, expected):
    assert earnings.next_payout_day(today, 0) == expected
