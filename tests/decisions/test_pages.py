"""The "How decisions are made" page tells each expert, in their language, the figures in force: the settings
and the rows of the brands they answer for, never copies."""

from __future__ import annotations

import sqlalchemy as sa

from marketplace.brands.models import RateCard
from marketplace.experts import vetting
from marketplace.experts.models import ExpertStatus
from tests.conftest import log_in
from tests.decisions.conftest import expert_user
from tests.factories import BrandFactory, UserFactory


def test_the_page_shows_the_settings_and_each_brands_figures_in_force(app, client, session, expert, shop,
                                                                     monkeypatch):
    monkeypatch.setitem(app.config, "PRESENCE_MISSED_OFFERS_AWAY", 7)
    monkeypatch.setitem(app.config, "PRESENCE_GRACE_SECONDS", 95)
    monkeypatch.setitem(app.config, "PAYOUT_HOLD_DAYS", 11)
    monkeypatch.setitem(app.config, "CAPACITY_INVITATION_MINUTES", 6)
    card = session.scalar(sa.select(RateCard).where(RateCard.brand_id == shop.id))
    card.price_cents, card.commission_bps = 250, 1500
    card.bonus_rules = [{"kind": "rating_at_least", "value": 4, "bonus_cents": 50},
                        {"kind": "first_reply_within", "value": 40, "bonus_cents": 20}]
    BrandFactory(name="Other brand", offer_timeout_seconds=99)  # not one of theirs
    session.commit()
    log_in(client, expert_user(session, expert).email)
    page = client.get("/expert/decisions/how")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "after 7 offers in a row" in html
    assert "no signal for 95 seconds" in html
    assert "held for 11 days" in html
    assert "you have 6 minutes to answer" in html
    assert "You have 45 seconds to accept an offer." in html  # the brand's row
    assert "At most 2 chats at once." in html
    assert "€2.50" in html and "commission 15 %" in html
    assert "at least 4 out of 5" in html and "within 40 seconds" in html
    assert "within 20 seconds" in html  # the fraud check's short chat, from payouts
    assert "Other brand" not in html and "99 seconds" not in html
    assert "Only a person of our operations team may suspend you" in html
    # A change of the brand's row shows at once.
    shop.offer_timeout_seconds = 20
    session.commit()
    assert "You have 20 seconds to accept an offer." in client.get("/expert/decisions/how").get_data(as_text=True)


def test_the_page_speaks_french(client, session, expert, shop):
    user = expert_user(session, expert)
    user.locale = "fr"
    session.commit()
    log_in(client, user.email)
    html = client.get("/expert/decisions/how").get_data(as_text=True)
    assert "Comment les décisions sont prises" in html
    assert "Vous avez 45 secondes pour accepter une proposition." in html
    assert "Seule une personne de notre équipe opérations peut vous suspendre" in html
    mine = client.get("/expert/decisions").get_data(as_text=True)
    assert "Mes décisions" in mine


def test_only_experts_see_the_page(client, session):
    user = UserFactory(role="ops")
    session.commit()
    log_in(client, user.email)
    assert client.get("/expert/decisions/how").status_code == 403


def test_suspension_needs_a_written_reason_the_expert_reads(app, client, session, expert):
    ops = UserFactory(role="ops")
    session.commit()
    log_in(client, ops.email)
    csrf = client.get("/ops/experts").get_data(as_text=True)
    from tests.conftest import csrf_token_from

    token = csrf_token_from(csrf)
    refused = client.post(f"/ops/experts/{expert.id}", data={"action": "suspend", "reason": " ", "csrf_token": token})
    assert refused.status_code == 422 and "Give the reason" in refused.get_data(as_text=True)
    session.refresh(expert)
    assert expert.status == ExpertStatus.APPROVED
    with app.test_request_context():
        vetting.decide(ops, expert.id, "suspend", "Insulted a visitor on 3 December.")
    client.post("/logout", data={"csrf_token": token})
    log_in(client, expert_user(session, expert).email)
    home = client.get("/expert").get_data(as_text=True)
    assert "Insulted a visitor on 3 December." in home
