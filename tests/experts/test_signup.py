"""An expert signs up on the page, lands on their home, and edits their profile through the API."""

from __future__ import annotations

import re

import pytest

from marketplace.accounts import passwords
from marketplace.accounts.models import AuditEvent, Role, User
from marketplace.experts.models import ExpertProfile, ExpertStatus
from tests.conftest import csrf_token_from, log_in
from tests.factories import ExpertFactory, UserFactory


def signup(client, token: str | None = None, **fields):
    """Post the sign-up form (a full, valid one unless `fields` say otherwise) as a browser would."""
    token = token or csrf_token_from(client.get("/signup").get_data(as_text=True))
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


# Every refusal at once, with what was typed kept (never the password).

def _error_ids(page: str) -> set[str]:
    return set(re.findall(r'id="([\w-]+)-error"', page))


def test_every_invalid_field_is_reported_at_once_and_what_was_typed_is_kept(client, session):
    UserFactory(email="taken@example.com")
    response = signup(client, email="taken@example.com", password="short", confirm="short2", phone="12",
                      languages=[], business_id="12345678901234", bio="Lamps, lamps and lamps.")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    # The form's own checks (the repeated password) and the service's (the rest), together.
    assert {"email", "password", "confirm", "phone", "languages", "business_id"} <= _error_ids(page)
    assert "already exists" in page and "at least 10 characters" in page and "SIRET" in page
    # Each message sits by its field, which names it and is marked invalid.
    assert re.search(r'<input[^>]*aria-describedby="phone-hint phone-error"[^>]*aria-invalid="true"', page) or \
        re.search(r'<input[^>]*aria-invalid="true"[^>]*aria-describedby="phone-hint phone-error"', page)
    assert re.search(r'<fieldset[^>]*id="languages"[^>]*aria-describedby="languages-error"', page)
    # What was typed comes back, the passwords do not.
    assert 'value="Camille Durand"' in page and 'value="taken@example.com"' in page and 'value="12"' in page
    assert "Lamps, lamps and lamps." in page and "I love lamps." in page
    assert re.search(r'<option selected value="FR">|<option value="FR" selected', page)
    assert re.search(r'<input[^>]*checked[^>]*value="lighting"|<input[^>]*value="lighting"[^>]*checked', page)
    assert 'value="short' not in page
    assert session.query(User).filter_by(email="camille@example.com").count() == 0


def test_the_error_summary_leads_to_each_field_in_the_pages_order_and_takes_the_focus(client, session):
    page = signup(client, full_name="", email="not-an-address", phone="12", languages=[]).get_data(as_text=True)
    summary = re.search(r'<div class="flash flash--error error-summary" role="alert"(.*?)</div>', page, re.S)
    assert summary, "no error summary"
    links = re.findall(r'<a href="#([\w-]+)">', summary.group(1))
    assert links == ["full_name", "email", "phone", "languages"]
    heading = re.search(r'<h2 id="error-summary-title"[^>]*>', summary.group(0)).group(0)
    assert 'tabindex="-1"' in heading and "autofocus" in heading and "4 things to correct" in summary.group(1)
    # Focus and the links' behaviour come from a file: the CSP allows no inline script.
    assert "/static/js/form_errors.js" in page
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)


def test_a_page_without_errors_has_no_summary(client):
    page = client.get("/signup").get_data(as_text=True)
    assert "error-summary" not in page and "form_errors.js" not in page


# The person's language, kept for later mails and notifications.

@pytest.mark.parametrize(("headers", "expected"), [
    ({"Accept-Language": "fr-FR,fr;q=0.9"}, "fr"),
    ({"Accept-Language": "en-GB,en;q=0.9"}, "en"),
])
def test_sign_up_keeps_the_language_the_page_was_shown_in(client, session, headers, expected):
    token = csrf_token_from(client.get("/signup", headers=headers).get_data(as_text=True))
    response = client.post("/signup", headers=headers, data={
        "full_name": "Camille Durand", "email": "camille@example.com", "password": "a-long-password",
        "confirm": "a-long-password", "csrf_token": token, "country": "FR", "languages": ["fr"]})
    assert response.status_code == 302
    user = session.query(User).filter_by(email="camille@example.com").one()
    assert user.locale == expected
    assert session.query(AuditEvent).filter_by(kind="signup", subject_id=user.id).one().detail["locale"] == expected


def test_the_language_cookie_decides_the_stored_language(client, session):
    client.set_cookie("lang", "en", domain="marketplace.localhost")
    response = signup(client)
    assert response.status_code == 302
    assert session.query(User).filter_by(email="camille@example.com").one().locale == "en"


# Rate limits: refused attempts only, answered with the form as typed.

def _refuse(client, count: int, email: str = "camille@example.com") -> None:
    token = csrf_token_from(client.get("/signup").get_data(as_text=True))
    for _ in range(count):
        assert signup(client, token, email=email, password="short", confirm="short").status_code == 422


def test_too_many_refused_attempts_answer_429_with_the_form_as_typed(client, session):
    _refuse(client, 20)
    response = signup(client, password="short", confirm="short", bio="Still here.")
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 3600
    page = response.get_data(as_text=True)
    assert re.search(r"please try again in \d+ minutes?\.", page)
    assert 'role="alert"' in page and "What you typed is kept" in page
    assert 'value="Camille Durand"' in page and "Still here." in page and 'value="camille@example.com"' in page
    assert 'value="short"' not in page
    # The correct form is also held back, for this person: their window has not passed.
    assert signup(client).status_code == 429
    assert session.query(User).filter_by(email="camille@example.com").count() == 0


def test_successful_sign_ups_do_not_count_towards_the_limit(client, session, monkeypatch):
    monkeypatch.setattr(passwords, "hash_password", lambda password: "fast-test-hash")  # argon2 is slow on purpose
    for number in range(25):  # more than the old 20 posts an hour from one address
        with client.session_transaction() as browser:
            browser.clear()
        response = signup(client, email=f"expert{number}@example.com")
        assert response.status_code == 302, number
    assert session.query(User).filter(User.email.like("expert%@example.com")).count() == 25


def test_one_persons_mistakes_do_not_lock_out_others_on_the_same_address(client, session):
    _refuse(client, 20, email="clumsy@example.com")
    assert signup(client, email="clumsy@example.com").status_code == 429
    assert signup(client, email="camille@example.com").status_code == 302


def test_everyones_refusals_from_one_address_are_capped_too(client, session):
    token = csrf_token_from(client.get("/signup").get_data(as_text=True))
    for number in range(100):
        assert signup(client, token, email=f"bot{number}@example.com", password="short",
                      confirm="short").status_code == 422
    assert signup(client).status_code == 429
    other_address = client.application.test_client()
    token = csrf_token_from(other_address.get("/signup").get_data(as_text=True))
    assert other_address.post("/signup", environ_base={"REMOTE_ADDR": "192.0.2.7"}, data={
        "full_name": "Zoé Martin", "email": "zoe@example.com", "password": "a-long-password",
        "confirm": "a-long-password", "csrf_token": token, "country": "FR", "languages": ["fr"]}).status_code == 302


def test_successful_sign_ups_from_one_address_are_capped_higher(client, session, monkeypatch):
    monkeypatch.setattr(passwords, "hash_password", lambda password: "fast-test-hash")
    for number in range(50):
        with client.session_transaction() as browser:
            browser.clear()
        assert signup(client, email=f"room{number}@example.com").status_code == 302, number
    with client.session_transaction() as browser:
        browser.clear()
    assert signup(client, email="one-more@example.com").status_code == 429
