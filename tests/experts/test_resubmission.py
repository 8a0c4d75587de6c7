"""A rejected applicant corrects their application and resubmits it: the lifecycle, the audit, the reason by the
fields it names, the vetting queue marking it, the confirmation, through the page and the API."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from marketplace.accounts.models import AuditEvent, User
from marketplace.core.lifecycles import EXPERT_DECISIONS, EXPERT_TRANSITIONS, next_status
from marketplace.errors import Conflict, InvalidFields, InvalidInput
from marketplace.experts import services, vetting
from marketplace.experts.models import ExpertProfile, ExpertStatus
from marketplace.notifications.models import Notification
from tests.conftest import csrf_token_from
from tests.experts.conftest import logged_in
from tests.factories import ExpertFactory

PROFILE_FORM = {"display_name": "Camille", "country": "FR", "phone": "06 12 34 56 78", "languages": ["fr"],
                "skills": ["lighting"], "bio": "", "business_id": "", "motivation": "I love lamps."}


@pytest.fixture
def rejected(app, session, ops_user, outbox) -> User:
    """An applicant ops rejected because of their SIRET and motivation (the fields named)."""
    profile = ExpertFactory(country="FR", languages=["fr"], motivation="Money.")
    with app.test_request_context():
        vetting.decide(ops_user, profile.id, "reject", "Add your SIRET and tell us which lamps you know.",
                       fields=["business_id", "motivation"])
    outbox.messages.clear()
    return session.get(User, profile.user_id)


def _profile(session, user: User) -> ExpertProfile:
    profile = session.query(ExpertProfile).filter_by(user_id=user.id).one()
    session.refresh(profile)
    return profile


# The lifecycle, as plain data.

def test_only_a_rejected_application_can_be_resubmitted_and_it_goes_back_to_review():
    assert next_status(EXPERT_TRANSITIONS, "resubmit", "rejected") == "applied"
    for status in ("applied", "approved", "suspended"):
        assert next_status(EXPERT_TRANSITIONS, "resubmit", status) is None


def test_resubmitting_is_the_applicants_own_action_not_an_ops_decision():
    assert "resubmit" not in EXPERT_DECISIONS and "resubmit" not in vetting.ACTIONS
    assert set(EXPERT_DECISIONS) | {"resubmit"} == set(EXPERT_TRANSITIONS)


# The service.

def test_a_rejected_applicant_resubmits_with_corrections_and_it_is_audited(app, session, rejected, outbox):
    with app.test_request_context():
        profile = vetting.resubmit(rejected, {"business_id": "732 829 320 00074", "motivation": "I restore lamps."},
                                   ip="192.0.2.1")
    assert (profile.status, profile.business_id, profile.motivation) == (
        ExpertStatus.APPLIED, "73282932000074", "I restore lamps.")
    assert profile.is_resubmission and profile.status_changed_by_id == rejected.id
    # The rejection stays for the reviewers to check against.
    assert profile.status_reason.startswith("Add your SIRET") and profile.status_fields == ["business_id", "motivation"]
    event = session.query(AuditEvent).filter_by(kind="expert_resubmit", subject_id=rejected.id).one()
    assert (event.actor_id, event.ip) == (rejected.id, "192.0.2.1")
    assert event.detail["previous"] == "rejected" and event.detail["status"] == "applied"
    assert sorted(event.detail["changed"]) == ["business_id", "motivation"]
    assert event.detail["rejection_reason"].startswith("Add your SIRET")
    # The applicant gets a confirmation, by e-mail and notification, in their language.
    mail = outbox.to(rejected.email)[0]
    assert "corrected application" in mail["Subject"] or "candidature corrigée" in mail["Subject"]
    assert session.query(Notification).filter_by(user_id=rejected.id, kind="expert_resubmit").count() == 1


@pytest.mark.parametrize("status", [ExpertStatus.APPLIED, ExpertStatus.APPROVED, ExpertStatus.SUSPENDED])
def test_only_a_rejected_application_is_resubmitted(app, session, outbox, status):
    user = session.get(User, ExpertFactory(status=status).user_id)
    with app.test_request_context(), pytest.raises(Conflict) as refused:
        vetting.resubmit(user, {"bio": "Changed."})
    assert refused.value.field == "status"
    assert _profile(session, user).status == status and outbox.messages == []
    assert session.query(AuditEvent).filter_by(kind="expert_resubmit").count() == 0


def test_a_resubmission_with_bad_fields_names_them_all_and_changes_nothing(app, session, rejected, outbox):
    with app.test_request_context(), pytest.raises(InvalidInput) as refused:
        vetting.resubmit(rejected, {"business_id": "123", "phone": "12", "languages": [], "motivation": "Fixed."})
    assert set(refused.value.errors) == {"business_id", "phone", "languages"}
    session.rollback()
    profile = _profile(session, rejected)
    assert (profile.status, profile.motivation) == (ExpertStatus.REJECTED, "Money.")
    assert outbox.messages == []


def test_approval_of_a_resubmission_clears_the_rejection(app, session, rejected, ops_user, outbox):
    with app.test_request_context():
        vetting.resubmit(rejected, {"business_id": "73282932000074"})
        profile = vetting.decide(ops_user, _profile(session, rejected).id, "approve")
    assert (profile.status, profile.status_reason, profile.status_fields) == (ExpertStatus.APPROVED, None, None)
    assert not profile.is_resubmission


# Ops name the fields a rejection concerns; the queue marks a resubmission.

def test_ops_name_the_fields_only_when_rejecting_and_only_known_ones(app, session, ops_user, outbox):
    profile = ExpertFactory()
    with app.test_request_context(), pytest.raises(InvalidInput) as unknown:
        vetting.decide(ops_user, profile.id, "reject", "Bad.", fields=["password"])
    assert unknown.value.field == "fields"
    with app.test_request_context(), pytest.raises(InvalidInput) as not_a_rejection:
        vetting.decide(ops_user, profile.id, "approve", fields=["bio"])
    assert not_a_rejection.value.field == "fields"


def test_the_api_rejects_naming_fields_and_the_queue_marks_the_resubmission(client, session, ops_user, app, outbox):
    first = ExpertFactory(display_name="First")
    headers = logged_in(client, ops_user)
    rejected = client.post(f"/api/v1/experts/{first.id}/decisions", headers=headers, json={
        "action": "reject", "reason": "Tell us which lamps you know.", "fields": ["motivation"]})
    assert rejected.status_code == 200
    assert (rejected.json["status"], rejected.json["status_fields"]) == ("rejected", ["motivation"])
    bad = client.post(f"/api/v1/experts/{first.id}/decisions", headers=headers,
                      json={"action": "reject", "reason": "x", "fields": "motivation"})
    assert bad.status_code == 422 and "fields" in bad.json["errors"]
    ExpertFactory(display_name="Later")  # applied after the first, but before the resubmission
    with app.test_request_context():
        vetting.resubmit(session.get(User, first.user_id), {"motivation": "Vintage lamps."})
    queue = client.get("/api/v1/experts?status=applied").json
    assert [(item["profile"]["display_name"], item["profile"]["resubmitted"]) for item in queue] == [
        ("Later", False), ("First", True)]
    assert queue[1]["profile"]["status_reason"] == "Tell us which lamps you know."


def test_the_queue_waits_longest_first_by_when_each_entered_it(app, session, ops_user, outbox):
    old = ExpertFactory()
    new = ExpertFactory()
    old.created_at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    new.created_at = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    session.flush()
    assert [a.profile.id for a in vetting.list_applications(ops_user)] == [old.id, new.id]


# The pages.

def test_the_profile_page_shows_the_reason_next_to_the_fields_it_names(client, session, rejected):
    logged_in(client, rejected)
    response = client.get("/expert/profile")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    reason = "Add your SIRET and tell us which lamps you know."
    for name in ("business_id", "motivation"):
        error = re.search(rf'<p class="error" id="{name}-error">(.*?)</p>', page, re.S)
        assert error and reason in error.group(1), name
        assert re.search(rf'<(?:input|textarea)[^>]*aria-describedby="[^"]*{name}-error"[^>]*', page)
    assert 'id="phone-error"' not in page and 'id="bio-error"' not in page
    notice = re.search(r'data-testid="rejection">(.*?)</section>', page, re.S).group(1)
    assert reason in notice and 'href="#business_id"' in notice and 'href="#motivation"' in notice
    assert "Save and resubmit my application" in page
    assert "error-summary" not in page  # nothing was sent yet: no summary takes the focus


def test_a_reason_that_names_no_field_is_shown_above_the_form(app, client, session, ops_user, outbox):
    profile = ExpertFactory()
    with app.test_request_context():
        vetting.decide(ops_user, profile.id, "reject", "We could not reach you by phone.")
    logged_in(client, session.get(User, profile.user_id))
    page = client.get("/expert/profile").get_data(as_text=True)
    notice = re.search(r'data-testid="rejection">(.*?)</section>', page, re.S).group(1)
    assert "We could not reach you by phone." in notice
    assert "-error" not in page


def test_the_home_page_leads_a_rejected_applicant_to_correct_their_application(client, session, rejected):
    logged_in(client, rejected)
    page = client.get("/expert").get_data(as_text=True)
    assert "Correct and resubmit my application" in page and "/expert/profile#application" in page


def test_a_rejected_applicant_resubmits_on_the_page(client, session, rejected, outbox):
    logged_in(client, rejected)
    token = csrf_token_from(client.get("/expert/profile").get_data(as_text=True))
    response = client.post("/expert/profile", data={
        **PROFILE_FORM, "business_id": "73282932000074", "motivation": "I restore vintage lamps.",
        "csrf_token": token, "resubmit": "Save and resubmit my application"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/expert")
    profile = _profile(session, rejected)
    assert (profile.status, profile.motivation) == (ExpertStatus.APPLIED, "I restore vintage lamps.")
    home = client.get("/expert").get_data(as_text=True)
    assert "your application is back with our team" in home
    assert 'data-testid="resubmitted"' in home and "Application under review" in home
    assert len(outbox.to(rejected.email)) == 1
    # Nothing left to resubmit: the page offers the plain save again.
    assert "Save and resubmit" not in client.get("/expert/profile").get_data(as_text=True)


def test_saving_without_resubmitting_keeps_the_application_rejected(client, session, rejected):
    logged_in(client, rejected)
    token = csrf_token_from(client.get("/expert/profile").get_data(as_text=True))
    response = client.post("/expert/profile", data={**PROFILE_FORM, "csrf_token": token, "submit": "Save my profile"})
    assert response.status_code == 302
    assert _profile(session, rejected).status == ExpertStatus.REJECTED


def test_a_refused_resubmission_on_the_page_names_every_field_and_keeps_what_was_typed(client, session, rejected):
    logged_in(client, rejected)
    token = csrf_token_from(client.get("/expert/profile").get_data(as_text=True))
    response = client.post("/expert/profile", data={
        **PROFILE_FORM, "phone": "12", "business_id": "123", "motivation": "Better words.", "csrf_token": token,
        "resubmit": "Save and resubmit my application"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    summary = re.search(r'role="alert"[^>]*data-error-summary>(.*?)</div>', page, re.S).group(1)
    assert re.findall(r'href="#([\w-]+)"', summary) == ["phone", "business_id", "motivation"]
    assert "SIRET" in page and 'value="12"' in page and "Better words." in page
    assert _profile(session, rejected).status == ExpertStatus.REJECTED


# The API.

def test_the_api_resubmits_once_and_names_bad_fields(client, session, rejected, outbox):
    headers = logged_in(client, rejected)
    bad = client.post("/api/v1/experts/me/resubmission", headers=headers, json={"business_id": "1", "phone": "12"})
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert set(bad.json["errors"]) == {"business_id", "phone"}
    assert _profile(session, rejected).status == ExpertStatus.REJECTED
    ok = client.post("/api/v1/experts/me/resubmission", headers=headers,
                     json={"business_id": "73282932000074", "motivation": "Lamps since 2010."})
    assert ok.status_code == 200
    assert (ok.json["status"], ok.json["resubmitted"], ok.json["business_id"]) == ("applied", True, "73282932000074")
    again = client.post("/api/v1/experts/me/resubmission", headers=headers, json={})
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    assert "status" in again.json["errors"]
    assert len(outbox.to(rejected.email)) == 1


def test_the_api_needs_the_csrf_token_and_an_expert(app, client, session, rejected, ops_user):
    logged_in(client, rejected)
    assert client.post("/api/v1/experts/me/resubmission", json={}).status_code == 400
    ops = app.test_client()
    headers = logged_in(ops, ops_user)
    assert ops.post("/api/v1/experts/me/resubmission", json={}, headers=headers).status_code == 403
    assert _profile(session, rejected).status == ExpertStatus.REJECTED


def test_the_openapi_document_describes_the_resubmission(client):
    document = client.get("/api/openapi.json").json
    operation = document["paths"]["/api/v1/experts/me/resubmission"]["post"]
    assert operation["x-roles"] == ["expert"] and {"200", "401", "403", "422"} <= set(operation["responses"])
    decision = document["components"]["schemas"]["ExpertDecision"]
    assert "fields" in decision["properties"]
    assert "resubmitted" in document["components"]["schemas"]["ExpertProfile"]["properties"]


def test_sign_up_and_profile_changes_share_the_all_at_once_rule(session):
    with pytest.raises(InvalidFields) as refused:
        services.sign_up_expert("not-an-address", "short", "", profile={"country": "XX", "languages": []})
    assert set(refused.value.errors) == {"email", "password", "full_name", "country", "languages"}


def test_the_ops_decision_form_offers_the_application_fields_to_name(app, session, ops_user, outbox):
    """The form the ops page needs for naming fields: its choices are the fields vetting accepts."""
    from marketplace.experts.forms import VettingDecisionForm

    profile = ExpertFactory()
    with app.test_request_context(method="POST", data={"action": "reject", "reason": "No SIRET.",
                                                       "concerns": ["business_id"]}):
        form = VettingDecisionForm(meta={"csrf": False})
        assert [choice[0] for choice in form.concerns.iter_choices()] == list(vetting.APPLICATION_FIELDS)
        assert form.validate()
        decided = vetting.decide(ops_user, profile.id, form.action.data, form.reason.data,
                                 fields=form.concerns.data)
    assert decided.status_fields == ["business_id"]


def test_ops_see_the_resubmission_and_name_the_fields_on_their_pages(app, client, session, rejected, ops_user,
                                                                     outbox):
    logged_in(client, rejected)
    token = csrf_token_from(client.get("/expert/profile").get_data(as_text=True))
    client.post("/expert/profile", data={**PROFILE_FORM, "business_id": "73282932000074", "csrf_token": token,
                                         "resubmit": "Save and resubmit my application"})
    profile = _profile(session, rejected)
    client = app.test_client()
    logged_in(client, ops_user)
    queue = client.get("/ops/experts").get_data(as_text=True)
    assert 'data-testid="resubmission"' in queue and "Resubmitted" in queue
    page = client.get(f"/ops/experts/{profile.id}").get_data(as_text=True)
    assert "Rejected before for:" in page and "Self-employment number" in page
    token = csrf_token_from(page)
    answer = client.post(f"/ops/experts/{profile.id}", data={
        "csrf_token": token, "action": "reject", "reason": "Your phone number does not answer.", "concerns": ["phone"]})
    assert answer.status_code == 302
    assert _profile(session, rejected).status_fields == ["phone"]
