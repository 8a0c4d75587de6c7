"""The planner's reasons are stored as codes with their figures and read in the reader's language: on the
brand's Planning tab, on the ops capacity page and in the API."""

from __future__ import annotations

import html

import pytest
from flask_babel import force_locale

from marketplace.accounts.models import Role
from marketplace.brands.models import Brand
from marketplace.capacity import pool, reasons
from marketplace.capacity.models import ScalingDecision
from marketplace.database import utcnow
from tests.conftest import log_in
from tests.factories import BrandFactory, EnrolmentFactory, UserFactory
from tests.routing.conftest import admin_of, arrive

ENGLISH_BROWSER = {"Accept-Language": "en-GB,en;q=0.9"}
FRENCH_BROWSER = {"Accept-Language": "fr-FR,fr;q=0.9"}
SHORT_OF_EXPERTS = {"online": 1, "pending": 0, "desired": 3, "acceptance": 0.5, "source": "arrivals", "arrivals": 12,
                    "cap": 3, "not_invited": 2}
IN_ENGLISH = ["1 online and 0 invited for 3 needed", "need from the last 15 minutes' 12 arrivals",
              "capped at 3 by the brand's caps", "2 more wanted, nobody else to invite"]
IN_FRENCH = ["1 en ligne et 0 invités pour 3 nécessaires", "besoin d'après les 12 arrivées des 15 dernières minutes",
             "limité à 3 par les plafonds de la marque", "2 de plus voulus, personne d'autre à inviter"]


@pytest.fixture
def shop(session) -> Brand:
    brand = BrandFactory(name="Atelier", allow_unbooked_online=False, expert_concurrency=2)
    session.commit()
    return brand


def decided(session, brand: Brand, code: str | None, params: dict | None = None, words: str = "") -> ScalingDecision:
    """A decision of the scaling loop as it is stored (code None: a decision from before reason codes)."""
    decision = ScalingDecision(brand_id=brand.id, decided_at=utcnow(), desired=3, online=1, pending=0,
                               acceptance=0.5, invited=1, reason=words, reason_code=code, reason_params=params or {})
    session.add(decision)
    session.commit()
    return decision


def page(client, path: str, browser: dict[str, str]) -> str:
    response = client.get(path, headers=browser)
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))  # apostrophes are written &#39;


def test_a_decision_is_stored_as_a_code_and_its_figures_not_words(session, shop):
    for _ in range(2):
        EnrolmentFactory(brand_id=shop.id)
    session.commit()
    for _ in range(12):
        arrive(shop)

    decision = pool.scale_brand(shop.id)

    assert decision.reason_code == "invite" and decision.reason == ""
    params = decision.reason_params
    assert (params["online"], params["pending"], params["desired"]) == (0, 0, decision.desired)
    assert params["source"] in ("forecast", "arrivals") and 0 < params["acceptance"] <= 1
    with force_locale("en"):
        assert reasons.decision_reason(decision).startswith(f"0 online and 0 invited for {decision.desired} needed")
    with force_locale("fr"):
        assert reasons.decision_reason(decision).startswith(f"0 en ligne et 0 invités pour {decision.desired}")


def test_the_planning_tab_reads_the_reason_in_the_readers_language(client, session, shop):
    decided(session, shop, "invite", SHORT_OF_EXPERTS)
    log_in(client, admin_of(session, shop).email)

    english = page(client, f"/brands/{shop.slug}/planning", ENGLISH_BROWSER)
    french = page(client, f"/brands/{shop.slug}/planning", FRENCH_BROWSER)

    assert all(words in english for words in IN_ENGLISH)
    assert all(words in french for words in IN_FRENCH)
    assert not any(words in french for words in IN_ENGLISH)


def test_the_ops_capacity_page_reads_the_last_reason_in_the_readers_language(client, session, shop):
    decided(session, shop, "release", {"online": 4, "peak": 2, "source": "forecast"})
    log_in(client, UserFactory(role=Role.OPS).email)

    english = page(client, "/ops/capacity", ENGLISH_BROWSER)
    french = page(client, "/ops/capacity", FRENCH_BROWSER)

    assert "4 online, at most 2 needed for 15 minutes; need from the forecast" in english
    assert "4 en ligne, au plus 2 nécessaires depuis 15 minutes ; besoin d'après la prévision" in french


def test_the_api_gives_the_code_its_figures_and_the_words_in_the_requests_language(client, session, shop):
    decided(session, shop, "invite", SHORT_OF_EXPERTS)
    log_in(client, admin_of(session, shop).email)
    url = f"/api/v1/brands/{shop.id}/scaling-decisions"

    [english] = client.get(url, headers=ENGLISH_BROWSER).json
    [french] = client.get(url, headers=FRENCH_BROWSER).json

    assert english["reason_code"] == french["reason_code"] == "invite"
    assert english["reason_params"] == french["reason_params"] == SHORT_OF_EXPERTS
    assert all(words in english["reason"] for words in IN_ENGLISH)
    assert all(words in french["reason"] for words in IN_FRENCH)


def test_decisions_from_before_the_codes_keep_their_words(client, session, shop):
    decided(session, shop, None, words="2 online for 2 needed; need from the forecast")
    log_in(client, admin_of(session, shop).email)

    [old] = client.get(f"/api/v1/brands/{shop.id}/scaling-decisions", headers=FRENCH_BROWSER).json

    assert old["reason_code"] is None and old["reason_params"] == {}
    assert old["reason"] == "2 online for 2 needed; need from the forecast"
    assert "2 online for 2 needed" in page(client, f"/brands/{shop.slug}/planning", FRENCH_BROWSER)


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_every_reason_code_reads_in_both_languages(app, locale):
    figures = {"online": 2, "pending": 1, "desired": 4, "acceptance": 0.75, "peak": 3, "source": "forecast",
               "not_released": 1}
    with app.app_context(), force_locale(locale):
        texts = [reasons.decision_text(code, figures) for code in reasons.DECISIONS]
        assert reasons.decision_text("a_code_from_tomorrow", {}) == "a_code_from_tomorrow"
    assert len(set(texts)) == len(reasons.DECISIONS) and all(text[0] == "2" for text in texts)
    assert all(("nobody releasable" in text) == (locale == "en") for text in texts)


def test_the_forecast_api_explains_the_forecast_in_the_requests_language(client, session, shop):
    log_in(client, admin_of(session, shop).email)
    url = f"/api/v1/brands/{shop.id}/plan"

    english = client.get(url, headers=ENGLISH_BROWSER).json["forecast"]
    french = client.get(url, headers=FRENCH_BROWSER).json["forecast"]

    assert english["reason_code"] == french["reason_code"] == "no_history" and english["reason_params"] == {}
    assert english["reason"] == "No conversations yet: the forecast is zero until the first chats arrive."
    assert french["reason"] == ("Aucune conversation pour l'instant : la prévision reste à zéro jusqu'aux premières "
                                "conversations.")

