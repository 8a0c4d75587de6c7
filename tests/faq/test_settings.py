"""The bot's settings: the defaults until the brand sets them, bounds named when refused, admins only."""

from __future__ import annotations

import pytest

from marketplace.faq.models import FaqSettings
from tests.faq.conftest import faq, version


def test_a_brand_that_never_set_its_bot_reads_the_defaults(session, brand, viewer):
    response = viewer.get(faq(brand.id, "/settings"))
    assert response.status_code == 200
    assert response.get_json() == {"bot_enabled": False, "threshold": 0.65, "resolve_after_minutes": 10,
                                   "credit_cents": 0, "currency": "EUR", "synonyms": "", "version": 0}
    assert session.get(FaqSettings, brand.id) is None  # reading writes nothing


def test_an_admin_changes_the_settings_given(session, brand, admin):
    response = admin.patch(faq(brand.id, "/settings"), json={"bot_enabled": True, "threshold": 0.8,
                                                             "credit_cents": 150})
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"bot_enabled": True, "threshold": 0.8, "resolve_after_minutes": 10,
                                   "credit_cents": 150, "currency": "EUR", "synonyms": "", "version": 0}
    again = admin.patch(faq(brand.id, "/settings"), json={"resolve_after_minutes": 30}).get_json()
    assert (again["bot_enabled"], again["threshold"], again["resolve_after_minutes"]) == (True, 0.8, 30)


def test_new_synonyms_move_the_base_version_and_other_settings_do_not(session, brand, admin):
    admin.patch(faq(brand.id, "/settings"), json={"threshold": 0.7})
    assert version(session, brand.id) == 0
    response = admin.patch(faq(brand.id, "/settings"), json={
        "synonyms": "  livraison,  expédition, envoi \n\n retour, renvoi\n"})
    assert response.get_json()["synonyms"] == "livraison, expédition, envoi\nretour, renvoi"
    assert version(session, brand.id) == 1
    admin.patch(faq(brand.id, "/settings"), json={"synonyms": "livraison, expédition, envoi\nretour, renvoi"})
    assert version(session, brand.id) == 1  # the same synonyms: nothing to rebuild


@pytest.mark.parametrize(("change", "field"), [
    ({"threshold": 1.5}, "threshold"),
    ({"threshold": -0.1}, "threshold"),
    ({"threshold": "high"}, "threshold"),
    ({"resolve_after_minutes": 0}, "resolve_after_minutes"),
    ({"resolve_after_minutes": 1441}, "resolve_after_minutes"),
    ({"resolve_after_minutes": 2.5}, "resolve_after_minutes"),
    ({"credit_cents": -1}, "credit_cents"),
    ({"credit_cents": 10_001}, "credit_cents"),
    ({"bot_enabled": "maybe"}, "bot_enabled"),
    ({"synonyms": "a, b\n" * 201}, "synonyms"),
    ({"synonyms": "a, " + "b" * 300}, "synonyms"),
])
def test_out_of_bounds_settings_are_refused_naming_the_field(session, brand, admin, change, field):
    response = admin.patch(faq(brand.id, "/settings"), json={"bot_enabled": True, **change})
    assert response.status_code == 422, response.get_json()
    assert list(response.get_json()["errors"]) == [field]
    assert session.get(FaqSettings, brand.id) is None  # nothing written, not even the other fields


def test_a_viewer_cannot_change_the_settings(session, brand, viewer):
    assert viewer.patch(faq(brand.id, "/settings"), json={"bot_enabled": True}).status_code == 403
    assert session.get(FaqSettings, brand.id) is None
