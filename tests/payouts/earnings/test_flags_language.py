"""Fraud checks keep a code and their figures and are read in the reader's language; so is the notice about
the payment provider."""

from __future__ import annotations

import datetime as dt
import html
import secrets

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import Role, User
from marketplace.experts.models import ExpertProfile
from marketplace.payouts.earnings import services as earnings
from marketplace.payouts.models import Earning
from tests.conftest import log_in
from tests.factories import ClosedChatFactory, RecordedEarningFactory, UserFactory
from tests.payouts.earnings.test_services import NOW, expert_of

ENGLISH_BROWSER = {"Accept-Language": "en-GB,en;q=0.9"}
FRENCH_BROWSER = {"Accept-Language": "fr-FR,fr;q=0.9"}
SHORT_CHAT = dt.timedelta(seconds=25)  # answered 15 s after it was accepted and closed 10 s later: too short to be real
SHORT = {"en": "implausibly short chat: answered and closed within 10 seconds",
         "fr": "conversation d'une brièveté suspecte : répondue et close en 10 secondes"}


@pytest.fixture
def reviewer(session):
    user = UserFactory(role=Role.FINANCE)
    session.commit()
    return user


def text_of(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def test_a_fired_check_keeps_its_code_and_its_figures(session, shop):
    earning = RecordedEarningFactory(brand=shop, now=NOW, conversation__length=SHORT_CHAT)
    assert earning.flags == ["short_chat"]
    assert earning.flag_params == {"short_chat": {"seconds": 10}}


def test_a_repeated_pair_keeps_how_many_chats_in_how_many_days(session, shop):
    expert, token = expert_of(shop), secrets.token_hex(32)
    for hours in range(7):
        ClosedChatFactory(brand=shop, expert=expert, closed_at=NOW - dt.timedelta(hours=hours, minutes=30),
                          visitor_token_hash=token)
    earnings.record_earnings(NOW)
    newest = session.scalar(sa.select(Earning).order_by(Earning.closed_at.desc()).limit(1))
    assert newest.flag_params["repeat_pair"] == {"chats": 7, "days": 30}


@pytest.mark.parametrize(("browser", "language"), [(ENGLISH_BROWSER, "en"), (FRENCH_BROWSER, "fr")])
def test_the_review_page_says_why_in_the_readers_language(client, session, shop, reviewer, browser, language):
    earning = RecordedEarningFactory(brand=shop, now=NOW, conversation__length=SHORT_CHAT)
    log_in(client, reviewer.email)

    page = text_of(client.get("/finance/review", headers=browser))

    assert f'data-testid="earning-{earning.id}"' in page
    assert SHORT[language] in page
    assert SHORT["fr" if language == "en" else "en"] not in page


def test_the_review_api_gives_code_figures_and_words_in_the_requests_language(client, session, shop, reviewer):
    RecordedEarningFactory(brand=shop, now=NOW, conversation__length=SHORT_CHAT)
    log_in(client, reviewer.email)

    [english] = client.get("/api/v1/earnings/review", headers=ENGLISH_BROWSER).json
    [french] = client.get("/api/v1/earnings/review", headers=FRENCH_BROWSER).json

    assert english["flags"] == french["flags"] == ["short_chat"]  # as before: the codes
    assert english["flag_reasons"] == [{"code": "short_chat", "params": {"seconds": 10}, "text": SHORT["en"]}]
    assert french["flag_reasons"] == [{"code": "short_chat", "params": {"seconds": 10}, "text": SHORT["fr"]}]


def test_a_check_recorded_without_its_figures_reads_by_its_name(client, session, shop, reviewer):
    earning = RecordedEarningFactory(brand=shop, now=NOW, conversation__length=SHORT_CHAT)
    earning.flag_params = {}  # an earning flagged before the checks kept their figures
    session.commit()
    log_in(client, reviewer.email)

    assert "conversation d'une brièveté suspecte" in text_of(client.get("/finance/review", headers=FRENCH_BROWSER))
    assert earnings.flag_reason("a_check_from_tomorrow") == "a_check_from_tomorrow"


def test_the_expert_reads_why_their_earning_is_held_in_their_language(client, session, shop):
    earning = RecordedEarningFactory(brand=shop, now=NOW, conversation__length=SHORT_CHAT)
    expert = session.get(User, session.get(ExpertProfile, earning.expert_id).user_id)
    expert.locale = "fr"
    session.commit()
    log_in(client, expert.email)

    page = text_of(client.get("/expert/earnings", headers=ENGLISH_BROWSER))

    assert f"retenu pour vérification : {SHORT['fr']}" in page


def test_the_notice_that_stripe_is_not_set_up_speaks_the_readers_language(client, session, reviewer):
    log_in(client, reviewer.email)

    english = text_of(client.get("/finance/reconciliation", headers=ENGLISH_BROWSER))
    french = text_of(client.get("/finance/reconciliation", headers=FRENCH_BROWSER))
    api = client.get("/api/v1/reconciliation", headers=FRENCH_BROWSER).json

    assert "Stripe is not set up on this server (STRIPE_API_KEY)." in english
    assert "Stripe n'est pas configuré sur ce serveur (STRIPE_API_KEY)." in french
    assert "Stripe is not set up" not in french
    assert api["provider"] == "not_configured"
    assert api["provider_message"] == "Stripe n'est pas configuré sur ce serveur (STRIPE_API_KEY)."
