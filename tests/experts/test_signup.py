"""An expert signs up on the page, lands on their home, and edits their profile through the API."""

from __future__ import annotations

from marketplace.accounts.models import AuditEvent, Role, User
from marketplace.experts.models import ExpertProfile, ExpertStatus
from tests.conftest import csrf_token_from, log_in
from tests.factories import ExpertFactory, UserFactory


def signup(client, **fields):
    token = csrf_token_from(client.get("/signup").get_data(as_text=True))
    data = {"full_name": "Camille Durand", "display_name": "", "email": "camille@example.com",
            "password": "a-long-password", "confirm": "a-long-password", "csrf_token": token,
            "country": "FR", "languages": ["fr", "en"], "skills": ["lighting"], "phone": "06 12 34 56 78",
            "business_id": "", "bio": "", "motivation": "I love lamps.", **fields}
    return client.post("/signup", data=data)


def test_an_expert_signs_up_and_waits_for_vetting(client, session):
    response = signup(client)
    assert response.status_code == 302 and response.headers["Location"].endswith("/expert")
    user = session.query(User).filter_by(email="camille@example.com").one()
    profile = session.query(ExpertProfile).filter_by(user_id=user.id).one()
    assert (user.role, profile.status, profile.display_name) == (Role.EXPERT, ExpertStatus.APPLIED, "Camille")
    assert (profile.phone, profile.languages, profile.motivation) == ("+33612345678", ["fr", "en"], "I love lamps.")
    assert [skill.slug for skill in profile.skills] == ["lighting"]
    home = client.get("/expert").get_data(as_text=True)
    assert "Application under review" in home
    assert session.query(AuditEvent).filter_by(kind="signup", subject_id=user.id).count() == 1


def test_a_taken_email_is_shown_next_to_the_field_and_nothing_is_written(client, session):
    UserFactory(email="camille@example.com")
    before = session.query(User).count()
    response = signup(client)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="email-error"' in page and "already exists" in page
    assert session.query(User).count() == before


def test_a_short_password_is_refused_naming_the_field(client, session):
    response = signup(client, password="short", confirm="short")
    assert response.status_code == 422
    assert 'id="password-error"' in response.get_data(as_text=True)
    assert session.query(User).filter_by(email="camille@example.com").count() == 0


def test_mismatched_passwords_are_refused(client):
    response = signup(client, confirm="something-else")
    assert response.status_code == 422
    assert "The two passwords differ." in response.get_data(as_text=True)


def test_an_expert_reads_and_changes_their_profile(client, session):
    profile = ExpertFactory(display_name="Zoé")
    csrf = log_in(client, session.get(User, profile.user_id).email)
    assert client.get("/api/v1/experts/me").json["display_name"] == "Zoé"
    changed = client.patch("/api/v1/experts/me", json={"bio": "Passionnée de vélo."}, headers={"X-CSRFToken": csrf})
    assert changed.status_code == 200 and changed.json["bio"] == "Passionnée de vélo."
    blank = client.patch("/api/v1/experts/me", json={"display_name": "   "}, headers={"X-CSRFToken": csrf})
    assert blank.status_code == 422 and list(blank.json["errors"]) == ["display_name"]
    assert session.get(ExpertProfile, profile.id).display_name == "Zoé"


def test_the_page_names_a_bad_siret_and_writes_nothing(client, session):
    response = signup(client, business_id="12345678901234")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="business_id-error"' in page and "SIRET" in page
    assert session.query(User).filter_by(email="camille@example.com").count() == 0


def test_the_page_asks_for_at_least_one_language(client, session):
    response = signup(client, languages=[])
    assert response.status_code == 422
    assert 'id="languages-error"' in response.get_data(as_text=True)


def test_the_form_offers_the_shared_skill_taxonomy_in_the_readers_language(client):
    page = client.get("/signup", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Vélos électriques" in page and 'value="e-bikes"' in page
