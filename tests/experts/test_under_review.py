"""An applicant under review applies to brands and takes their quizzes; the brands decide only once ops have
approved them: a brand that approves automatically does it then, the others see them only then."""

from __future__ import annotations

import pytest

from marketplace.accounts.models import User
from marketplace.brands import services as brands
from marketplace.errors import Forbidden, NotFound
from marketplace.experts import enrolments, quiz_attempts, vetting
from marketplace.experts.models import Enrolment, EnrolmentStatus, ExpertStatus
from marketplace.notifications.models import Notification
from tests.conftest import csrf_token_from
from tests.experts.conftest import logged_in
from tests.experts.test_enrolment import answer
from tests.factories import BrandFactory, ExpertFactory


@pytest.fixture
def applicant(session) -> User:
    """An expert whose application ops have not decided yet."""
    return session.get(User, ExpertFactory(status=ExpertStatus.APPLIED, languages=["fr"]).user_id)


def _pass_quiz(user: User, brand) -> quiz_attempts.QuizResult:
    view = quiz_attempts.start_quiz(user, brand.brand_id)
    return quiz_attempts.submit_quiz(user, brand.brand_id, view.attempt_id, answer(view, brand.correct, 4))


def _status(session, enrolment_id: int) -> EnrolmentStatus:
    enrolment = session.get(Enrolment, enrolment_id)
    session.refresh(enrolment)
    return enrolment.status


def test_an_applicant_under_review_applies_and_passes_a_quiz_then_waits_for_vetting(app, session, applicant,
                                                                                    quiz_brand):
    no_quiz = BrandFactory()
    applied = {e.brand_id: e for e in enrolments.apply_to_brands(applicant, [quiz_brand.brand_id, no_quiz.id])}
    assert applied[quiz_brand.brand_id].status == EnrolmentStatus.APPLIED
    # Without a quiz there is nothing to prove: the application is ready for the brand, which waits for vetting.
    assert applied[no_quiz.id].status == EnrolmentStatus.QUIZ_PASSED and applied[no_quiz.id].waiting_for_vetting
    with app.test_request_context():
        result = _pass_quiz(applicant, quiz_brand)
    assert (result.passed, result.enrolment_status, result.waiting_for_vetting) == (
        True, EnrolmentStatus.QUIZ_PASSED, True)


def test_an_automatic_brand_approves_an_applicant_only_once_ops_approve_them(app, session, applicant, quiz_brand,
                                                                             ops_user, outbox):
    brands.update_brand(quiz_brand.admin, quiz_brand.brand_id, {"enrolment_approval": "automatic"})
    enrolment = enrolments.apply_to_brands(applicant, [quiz_brand.brand_id])[0]
    with app.test_request_context():
        result = _pass_quiz(applicant, quiz_brand)
    assert result.enrolment_status == EnrolmentStatus.QUIZ_PASSED  # not approved: ops have not vetted them
    assert enrolments.approved_brand_ids(enrolment.expert_id) == set()
    with app.test_request_context():
        vetting.decide(ops_user, enrolment.expert_id, "approve")
    assert _status(session, enrolment.id) == EnrolmentStatus.APPROVED
    assert enrolments.approved_expert_ids(quiz_brand.brand_id) == {enrolment.expert_id}
    assert session.query(Notification).filter_by(user_id=applicant.id, kind="enrolment_approve").count() == 1


def test_a_manual_brand_sees_an_applicant_only_once_ops_approve_them(app, session, applicant, quiz_brand, ops_user,
                                                                     outbox):
    enrolment = enrolments.apply_to_brands(applicant, [quiz_brand.brand_id])[0]
    with app.test_request_context():
        _pass_quiz(applicant, quiz_brand)
    assert enrolments.list_applicants(quiz_brand.admin, quiz_brand.brand_id) == []
    with app.test_request_context(), pytest.raises(NotFound):
        enrolments.decide_enrolment(quiz_brand.admin, quiz_brand.brand_id, enrolment.id, "approve")
    with app.test_request_context():
        vetting.decide(ops_user, enrolment.expert_id, "approve")
    listed = enrolments.list_applicants(quiz_brand.admin, quiz_brand.brand_id)
    assert [(a.enrolment.id, a.enrolment.status) for a in listed] == [(enrolment.id, EnrolmentStatus.QUIZ_PASSED)]
    assert _status(session, enrolment.id) == EnrolmentStatus.QUIZ_PASSED  # the brand decides itself
    with app.test_request_context():
        decided = enrolments.decide_enrolment(quiz_brand.admin, quiz_brand.brand_id, enrolment.id, "approve")
    assert decided.status == EnrolmentStatus.APPROVED


def test_a_rejected_applicants_waiting_enrolments_stay_hidden_until_a_resubmission_is_approved(
        app, session, applicant, quiz_brand, ops_user, outbox):
    brands.update_brand(quiz_brand.admin, quiz_brand.brand_id, {"enrolment_approval": "automatic"})
    enrolment = enrolments.apply_to_brands(applicant, [quiz_brand.brand_id])[0]
    with app.test_request_context():
        _pass_quiz(applicant, quiz_brand)
        vetting.decide(ops_user, enrolment.expert_id, "reject", "Tell us more about you.")
    assert enrolments.list_applicants(quiz_brand.admin, quiz_brand.brand_id) == []
    with pytest.raises(Forbidden):
        enrolments.apply_to_brands(applicant, [BrandFactory().id])
    with app.test_request_context():
        vetting.resubmit(applicant, {"bio": "Lighting designer for ten years."})
        vetting.decide(ops_user, enrolment.expert_id, "approve")
    assert _status(session, enrolment.id) == EnrolmentStatus.APPROVED


def test_a_suspended_expert_cannot_take_a_quiz(session, quiz_brand, approved_expert):
    enrolments.apply_to_brands(approved_expert, [quiz_brand.brand_id])
    profile = enrolments.experts.own_profile(approved_expert)
    profile.status = ExpertStatus.SUSPENDED
    session.flush()
    with pytest.raises(Forbidden):
        quiz_attempts.start_quiz(approved_expert, quiz_brand.brand_id)


# The pages.

def test_the_pages_let_an_applicant_under_review_apply_and_pass_and_say_it_waits_for_vetting(
        client, session, applicant, quiz_brand):
    logged_in(client, applicant)
    home = client.get("/expert").get_data(as_text=True)
    assert "/expert/brands" in home and "Meanwhile you can already apply to brands" in home
    page = client.get("/expert/brands").get_data(as_text=True)
    assert 'data-testid="under-review"' in page and f'value="{quiz_brand.brand_id}"' in page
    applied = client.post("/expert/brands", data={"csrf_token": csrf_token_from(page),
                                                   "brand_ids": [str(quiz_brand.brand_id)]})
    assert applied.status_code == 302
    quiz = client.get(f"/expert/brands/{quiz_brand.slug}/quiz")
    assert quiz.status_code == 200 and "still under review" in quiz.get_data(as_text=True)
    view = quiz_attempts.start_quiz(applicant, quiz_brand.brand_id)
    answers = {f"question_{qid}": str(cid) for qid, cid in answer(view, quiz_brand.correct, 4).items()}
    result = client.post(f"/expert/brands/{quiz_brand.slug}/quiz", data={
        "csrf_token": csrf_token_from(quiz.get_data(as_text=True)), "attempt_id": str(view.attempt_id), **answers})
    body = result.get_data(as_text=True)
    assert 'data-passed="yes"' in body and 'data-testid="waiting-for-vetting"' in body
    assert "will look at your profile once our team has approved you" in body
    standing = client.get("/expert/brands").get_data(as_text=True)
    assert f'data-testid="standing-{quiz_brand.slug}">Waiting for vetting<' in standing
    assert "Waiting for vetting" in client.get("/expert").get_data(as_text=True)


def test_the_brands_applicants_page_leaves_out_experts_ops_have_not_approved(app, client, session, applicant,
                                                                             quiz_brand):
    enrolment = enrolments.apply_to_brands(applicant, [quiz_brand.brand_id])[0]
    with app.test_request_context():
        _pass_quiz(applicant, quiz_brand)
    logged_in(client, quiz_brand.admin)
    page = client.get(f"/brands/{quiz_brand.slug}/experts").get_data(as_text=True)
    assert f'data-testid="applicant-{enrolment.id}"' not in page and "still vetting" in page


def test_a_rejected_applicant_is_sent_to_correct_their_application_instead_of_applying(app, client, session,
                                                                                      quiz_brand):
    user = session.get(User, ExpertFactory(status=ExpertStatus.REJECTED).user_id)
    logged_in(client, user)
    page = client.get("/expert/brands").get_data(as_text=True)
    assert "/expert/profile#application" in page and 'name="brand_ids"' not in page
    refused = client.post("/expert/brands", data={"csrf_token": csrf_token_from(page),
                                                  "brand_ids": [str(quiz_brand.brand_id)]})
    assert refused.status_code in (403, 422)
    assert session.query(Enrolment).count() == 0


# The API.

def test_the_api_lets_an_applicant_apply_and_pass_and_keeps_them_from_the_brand(app, client, session, applicant,
                                                                                 quiz_brand):
    headers = logged_in(client, applicant)
    applied = client.post("/api/v1/experts/me/enrolments", json={"brand_ids": [quiz_brand.brand_id]},
                          headers=headers)
    assert applied.status_code == 201 and applied.json[0]["waiting_for_vetting"] is False
    attempt = client.post(f"/api/v1/experts/me/enrolments/{quiz_brand.brand_id}/quiz-attempts", headers=headers)
    assert attempt.status_code == 201
    view = quiz_attempts.start_quiz(applicant, quiz_brand.brand_id)
    answers = {str(qid): cid for qid, cid in answer(view, quiz_brand.correct, 4).items()}
    result = client.post(f"/api/v1/experts/me/enrolments/{quiz_brand.brand_id}/quiz-attempts/{view.attempt_id}",
                         json={"answers": answers}, headers=headers)
    assert result.status_code == 200
    assert (result.json["enrolment_status"], result.json["waiting_for_vetting"]) == ("quiz_passed", True)
    assert client.get("/api/v1/experts/me/enrolments").json[0]["waiting_for_vetting"] is True
    brand = app.test_client()
    brand_headers = logged_in(brand, quiz_brand.admin)
    assert brand.get(f"/api/v1/brands/{quiz_brand.brand_id}/enrolments").json == []
    enrolment_id = session.query(Enrolment).one().id
    decided = brand.post(f"/api/v1/brands/{quiz_brand.brand_id}/enrolments/{enrolment_id}/decisions",
                          json={"action": "approve"}, headers=brand_headers)
    assert decided.status_code == 404 and decided.mimetype == "application/problem+json"


@pytest.mark.parametrize("status", [ExpertStatus.REJECTED, ExpertStatus.SUSPENDED])
def test_the_api_refuses_a_rejected_or_suspended_expert(client, session, quiz_brand, status):
    user = session.get(User, ExpertFactory(status=status).user_id)
    headers = logged_in(client, user)
    response = client.post("/api/v1/experts/me/enrolments", json={"brand_ids": [quiz_brand.brand_id]},
                           headers=headers)
    assert response.status_code == 403 and response.json["detail"]
