"""The expert's profile: validated fields, and payout details only their owner and finance can see."""

from __future__ import annotations

import pytest

from marketplace.accounts.models import AuditEvent, Role, User
from marketplace.errors import InvalidInput
from marketplace.experts import services
from marketplace.experts.models import ExpertProfile, PayoutDetails
from tests.experts.conftest import logged_in
from tests.factories import ApprovedExpertFactory, UserFactory

IBAN = "FR14 2004 1010 0505 0001 3M02 606"
PROFILE = {"country": "FR", "phone": "06 12 34 56 78", "languages": ["fr", "en"], "skills": ["lighting", "e-bikes"],
           "business_id": "732 829 320 00074", "bio": "Lamp lover.", "motivation": "I fix lamps for friends."}


def test_sign_up_keeps_the_whole_profile_in_canonical_form(session):
    user = services.sign_up_expert("camille@example.com", "a-long-password", "Camille Durand", profile=PROFILE)
    profile = session.query(ExpertProfile).filter_by(user_id=user.id).one()
    assert (profile.phone, profile.country, profile.business_id) == ("+33612345678", "FR", "73282932000074")
    assert profile.languages == ["fr", "en"]
    assert [skill.slug for skill in profile.skills] == ["e-bikes", "lighting"]


@pytest.mark.parametrize(("changes", "field"), [
    ({"phone": "12"}, "phone"),
    ({"business_id": "73282932000075"}, "business_id"),
    ({"country": "XX"}, "country"),
    ({"languages": ["fr", "klingon"]}, "languages"),
    ({"languages": []}, "languages"),
    ({"skills": ["lighting", "astrology"]}, "skills"),
    ({"display_name": "  "}, "display_name"),
])
def test_bad_profile_values_are_refused_naming_the_field(session, changes, field):
    with pytest.raises(InvalidInput) as refused:
        services.sign_up_expert("camille@example.com", "a-long-password", "Camille", profile={**PROFILE, **changes})
    assert refused.value.field == field
    assert session.query(User).filter_by(email="camille@example.com").count() == 0


def test_outside_france_the_business_number_is_free_text(session):
    user = services.sign_up_expert("jan@example.com", "a-long-password", "Jan Peeters",
                                   profile={**PROFILE, "country": "BE", "phone": "+32 470 12 34 56",
                                            "business_id": "BE 0123.456.789"})
    profile = session.query(ExpertProfile).filter_by(user_id=user.id).one()
    assert (profile.business_id, profile.phone) == ("BE 0123.456.789", "+32470123456")


def test_the_api_updates_the_profile_and_names_a_bad_field(client, session):
    profile = ApprovedExpertFactory(country="FR")
    headers = logged_in(client, session.get(User, profile.user_id))
    ok = client.patch("/api/v1/experts/me", json={"languages": ["fr", "de"], "skills": ["running"]}, headers=headers)
    assert ok.status_code == 200
    assert ok.json["languages"] == ["fr", "de"] and ok.json["skills"][0]["slug"] == "running"
    bad = client.patch("/api/v1/experts/me", json={"business_id": "123"}, headers=headers)
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert "business_id" in bad.json["errors"]


def test_an_iban_is_stored_sealed_and_shown_masked(client, session):
    profile = ApprovedExpertFactory()
    headers = logged_in(client, session.get(User, profile.user_id))
    response = client.put("/api/v1/experts/me/payout-details",
                          json={"account_holder": "Emma Expert", "iban": IBAN}, headers=headers)
    assert response.status_code == 200
    assert response.json["iban_masked"] == "FR•• •••• •••• •••• 2606" and "iban" not in response.json
    stored = session.get(PayoutDetails, profile.id)
    assert "2004" not in stored.iban_sealed and stored.iban_last4 == "2606"
    page = client.get("/expert/profile").get_data(as_text=True)
    assert "FR•• •••• •••• •••• 2606" in page and "20041010" not in page


def test_a_bad_iban_is_refused_naming_the_field(client, session):
    profile = ApprovedExpertFactory()
    headers = logged_in(client, session.get(User, profile.user_id))
    response = client.put("/api/v1/experts/me/payout-details",
                          json={"account_holder": "Emma", "iban": "FR14 2004 1010 0505 0001 3M02 607"}, headers=headers)
    assert response.status_code == 422 and "iban" in response.json["errors"]
    assert session.get(PayoutDetails, profile.id) is None


def test_finance_reads_the_full_iban_and_the_read_is_audited(client, session, app):
    profile = ApprovedExpertFactory()
    with app.test_request_context():
        services.set_payout_details(session.get(User, profile.user_id), "Emma Expert", IBAN)
    finance = UserFactory(role=Role.FINANCE)
    logged_in(client, finance)
    response = client.get(f"/api/v1/experts/{profile.id}/payout-details")
    assert response.status_code == 200 and response.json["iban"] == "FR1420041010050500013M02606"
    event = session.query(AuditEvent).filter_by(kind="payout_details_read").one()
    assert (event.actor_id, event.subject_id) == (finance.id, profile.user_id)


def test_an_expert_cannot_read_another_experts_iban(client, session, app):
    owner = ApprovedExpertFactory()
    with app.test_request_context():
        services.set_payout_details(session.get(User, owner.user_id), "Owner", IBAN)
    snoop = ApprovedExpertFactory()
    logged_in(client, session.get(User, snoop.user_id))
    response = client.get(f"/api/v1/experts/{owner.id}/payout-details")
    assert response.status_code == 404
    assert "2606" not in response.get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.OPS, Role.BRAND])
def test_ops_and_brands_cannot_read_payout_details(client, session, app, role):
    owner = ApprovedExpertFactory()
    with app.test_request_context():
        services.set_payout_details(session.get(User, owner.user_id), "Owner", IBAN)
    logged_in(client, UserFactory(role=role))
    assert client.get(f"/api/v1/experts/{owner.id}/payout-details").status_code == 403
