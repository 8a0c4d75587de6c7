"""Brand enrolment: applying to several brands, the quiz (answers never sent, shuffled, retry limit
with cooldown), and the brand's decisions on its own applicants only."""

from __future__ import annotations

import datetime as dt

import pytest

from marketplace.accounts.models import User
from marketplace.brands import quizzes
from marketplace.brands import services as brands
from marketplace.brands.models import Brand, BrandRole
from marketplace.errors import Conflict, Forbidden, NotFound
from marketplace.experts import enrolments, quiz_attempts
from marketplace.experts.models import EnrolmentStatus, ExpertStatus, QuizAttempt
from tests.experts.conftest import QUESTIONS, logged_in
from tests.factories import BrandFactory, EnrolmentFactory, ExpertFactory, MembershipFactory


def answer(view, correct: dict[str, str], right: int) -> dict[int, int]:
    """Answers to an attempt with the first `right` questions (as shown) answered correctly."""
    answers = {}
    for index, question in enumerate(view.questions):
        wanted = correct[question.text]
        choice = next(c for c in question.choices if (c.text == wanted) == (index < right))
        answers[question.id] = choice.id
    return answers


def test_an_approved_expert_applies_to_several_brands_at_once(session, approved_expert, quiz_brand):
    other = BrandFactory()
    result = enrolments.apply_to_brands(approved_expert, [quiz_brand.brand_id, other.id])
    statuses = {e.brand_id: e.status for e in result}
    # The brand without a quiz has nothing to check: the application waits for its decision.
    assert statuses == {quiz_brand.brand_id: EnrolmentStatus.APPLIED, other.id: EnrolmentStatus.QUIZ_PASSED}
    again = enrolments.apply_to_brands(approved_expert, [quiz_brand.brand_id])
    assert [e.id for e in again] == [result[0].id]


@pytest.mark.parametrize("status", [ExpertStatus.REJECTED, ExpertStatus.SUSPENDED])
def test_a_rejected_or_suspended_expert_cannot_enrol_and_is_told_why(session, quiz_brand, status):
    user = session.get(User, ExpertFactory(status=status).user_id)
    with pytest.raises(Forbidden) as refused:
        enrolments.apply_to_brands(user, [quiz_brand.brand_id])
    assert refused.value.message


def test_an_unknown_brand_is_refused_naming_the_field(session, approved_expert):
    with pytest.raises(Exception) as refused:
        enrolments.apply_to_brands(approved_expert, [999_999])
    assert refused.value.field == "brand_ids"


def test_the_quiz_never_sends_the_answers_and_shuffles_per_attempt(client, session, approved_expert, quiz_brand):
    enrolments.apply_to_brands(approved_expert, [quiz_brand.brand_id])
    headers = logged_in(client, approved_expert)
    response = client.post(f"/api/v1/experts/me/enrolments/{quiz_brand.brand_id}/quiz-attempts", headers=headers)
    assert response.status_code == 201
    body = response.get_data(as_text=True)
    assert "correct" not in body and "is_correct" not in body
    assert len(response.json["questions"]) == 4
    page = client.get(f"/expert/brands/{quiz_brand.slug}/quiz").get_data(as_text=True)
    assert "correct" not in page.lower().replace("correctly", "")
    orders = set()
    for _ in range(12):  # a fresh attempt each time: 4! orders of questions, so repeats are unlikely
        attempt = session.query(QuizAttempt).filter_by(submitted_at=None).one()
        session.delete(attempt)
        session.flush()
        orders.add(tuple(q.id for q in quiz_attempts.start_quiz(approved_expert, quiz_brand.brand_id).questions))
    assert len(orders) > 1


def test_passing_the_quiz_waits_for_the_brand_then_the_brand_approves(app, session, approved_expert, quiz_brand):
    enrolments.apply_to_brands(approved_expert, [quiz_brand.brand_id])
    view = quiz_attempts.start_quiz(approved_expert, quiz_brand.brand_id)
    result = quiz_attempts.submit_quiz(approved_expert, quiz_brand.brand_id, view.attempt_id,
                                       answer(view, quiz_brand.correct, 3))
    assert (result.passed, result.score_percent, result.enrolment_status) == (True, 75, EnrolmentStatus.QUIZ_PASSED)
    applicant = enrolments.list_applicants(quiz_brand.admin, quiz_brand.brand_id)[0]
    assert applicant.best_score == 75
    with app.test_request_context():
        decided = enrolments.decide_enrolment(quiz_brand.admin, quiz_brand.brand_id, applicant.enrolment.id, "approve")
    assert decided.status == EnrolmentStatus.APPROVED
    assert enrolments.approved_brand_ids(applicant.profile.id) == {quiz_brand.brand_id}


def test_a_brand_with_automatic_approval_approves_on_passing(app, session, approved_expert, quiz_brand):
    brands.update_brand(quiz_brand.admin, quiz_brand.brand_id, {"enrolment_approval": "automatic"})
    enrolments.apply_to_brands(approved_expert, [quiz_brand.brand_id])
    view = quiz_attempts.start_quiz(approved_expert, quiz_brand.brand_id)
    with app.test_request_context():
        result = quiz_attempts.submit_quiz(approved_expert, quiz_brand.brand_id, view.attempt_id,
                                           answer(view, quiz_brand.correct, 4))
    assert result.enrolment_status == EnrolmentStatus.APPROVED


def test_a_third_attempt_inside_the_cooldown_is_refused_then_allowed_after(session, approved_expert, quiz_brand):
    enrolments.apply_to_brands(approved_expert, [quiz_brand.brand_id])
    for attempts_left in (1, 0):
        view = quiz_attempts.start_quiz(approved_expert, quiz_brand.brand_id)
        result = quiz_attempts.submit_quiz(approved_expert, quiz_brand.brand_id, view.attempt_id,
                                           answer(view, quiz_brand.correct, 1))
        assert (result.passed, result.attempts_left) == (False, attempts_left)
    assert result.next_attempt_at is not None
    with pytest.raises(Conflict) as refused:
        quiz_attempts.start_quiz(approved_expert, quiz_brand.brand_id)
    assert "try again from" in str(refused.value.message)
    # A day later the first failure leaves the window: one more attempt is allowed.
    for attempt in session.query(QuizAttempt).all():
        attempt.submitted_at -= dt.timedelta(hours=25)
    session.flush()
    assert quiz_attempts.start_quiz(approved_expert, quiz_brand.brand_id).attempts_left == 2


def test_an_unanswered_question_is_refused_naming_it(session, approved_expert, quiz_brand):
    enrolments.apply_to_brands(approved_expert, [quiz_brand.brand_id])
    view = quiz_attempts.start_quiz(approved_expert, quiz_brand.brand_id)
    answers = answer(view, quiz_brand.correct, 4)
    missing = view.questions[2].id
    del answers[missing]
    with pytest.raises(Exception) as refused:
        quiz_attempts.submit_quiz(approved_expert, quiz_brand.brand_id, view.attempt_id, answers)
    assert refused.value.field == f"question_{missing}"
    assert session.query(QuizAttempt).filter(QuizAttempt.submitted_at.isnot(None)).count() == 0


def test_a_quiz_changed_meanwhile_refuses_the_old_attempt(session, approved_expert, quiz_brand):
    enrolments.apply_to_brands(approved_expert, [quiz_brand.brand_id])
    view = quiz_attempts.start_quiz(approved_expert, quiz_brand.brand_id)
    quizzes.set_quiz(quiz_brand.admin, quiz_brand.brand_id, questions=QUESTIONS[:2], pass_mark_percent=50)
    with pytest.raises(Conflict):
        quiz_attempts.submit_quiz(approved_expert, quiz_brand.brand_id, view.attempt_id,
                                  answer(view, quiz_brand.correct, 4))


def test_a_brand_cannot_approve_before_the_quiz_is_passed(app, session, approved_expert, quiz_brand):
    enrolment = enrolments.apply_to_brands(approved_expert, [quiz_brand.brand_id])[0]
    with app.test_request_context(), pytest.raises(Conflict):
        enrolments.decide_enrolment(quiz_brand.admin, quiz_brand.brand_id, enrolment.id, "approve")
    with app.test_request_context():
        rejected = enrolments.decide_enrolment(quiz_brand.admin, quiz_brand.brand_id, enrolment.id, "reject",
                                               "We only take experts who live in Lyon.")
    assert (rejected.status, rejected.status_reason) == (EnrolmentStatus.REJECTED,
                                                         "We only take experts who live in Lyon.")
    with pytest.raises(Conflict):
        quiz_attempts.start_quiz(approved_expert, quiz_brand.brand_id)


def test_a_brand_sees_only_its_own_applicants(client, session, quiz_brand):
    mine = EnrolmentFactory(brand_id=quiz_brand.brand_id, status=EnrolmentStatus.QUIZ_PASSED)
    theirs = EnrolmentFactory(status=EnrolmentStatus.QUIZ_PASSED)
    headers = logged_in(client, quiz_brand.admin)
    listed = client.get(f"/api/v1/brands/{quiz_brand.brand_id}/enrolments")
    assert [item["enrolment"]["id"] for item in listed.json] == [mine.id]
    assert "email" not in listed.get_data(as_text=True) and "phone" not in listed.get_data(as_text=True)
    assert client.get(f"/api/v1/brands/{theirs.brand_id}/enrolments").status_code == 404
    decide_other = client.post(f"/api/v1/brands/{theirs.brand_id}/enrolments/{theirs.id}/decisions",
                               json={"action": "approve"}, headers=headers)
    assert decide_other.status_code == 404
    # An applicant of another brand cannot be reached through one's own brand either.
    sneaky = client.post(f"/api/v1/brands/{quiz_brand.brand_id}/enrolments/{theirs.id}/decisions",
                         json={"action": "approve"}, headers=headers)
    assert sneaky.status_code == 404
    with pytest.raises(NotFound):
        enrolments.list_applicants(quiz_brand.admin, theirs.brand_id)


def test_a_brand_viewer_sees_applicants_but_cannot_decide(client, session, quiz_brand):
    brand = session.get(Brand, quiz_brand.brand_id)
    viewer = session.get(User, MembershipFactory(brand=brand, role=BrandRole.VIEWER).user_id)
    enrolment = EnrolmentFactory(brand_id=quiz_brand.brand_id, status=EnrolmentStatus.QUIZ_PASSED)
    headers = logged_in(client, viewer)
    assert client.get(f"/api/v1/brands/{quiz_brand.brand_id}/enrolments").status_code == 200
    response = client.post(f"/api/v1/brands/{quiz_brand.brand_id}/enrolments/{enrolment.id}/decisions",
                           json={"action": "approve"}, headers=headers)
    assert response.status_code == 403


def test_the_quiz_page_walks_to_a_pass(client, session, approved_expert, quiz_brand):
    enrolments.apply_to_brands(approved_expert, [quiz_brand.brand_id])
    logged_in(client, approved_expert)
    page = client.get(f"/expert/brands/{quiz_brand.slug}/quiz").get_data(as_text=True)
    from tests.conftest import csrf_token_from
    attempt = session.query(QuizAttempt).one()
    view = quiz_attempts.start_quiz(approved_expert, quiz_brand.brand_id)
    form = {f"question_{qid}": str(cid) for qid, cid in answer(view, quiz_brand.correct, 4).items()}
    response = client.post(f"/expert/brands/{quiz_brand.slug}/quiz",
                           data={"csrf_token": csrf_token_from(page), "attempt_id": str(attempt.id), **form})
    assert response.status_code == 200
    assert 'data-passed="yes"' in response.get_data(as_text=True)


def test_a_brand_admin_sets_how_experts_are_approved_on_the_page(client, session, quiz_brand):
    logged_in(client, quiz_brand.admin)
    page = client.get(f"/brands/{quiz_brand.slug}/experts").get_data(as_text=True)
    from tests.conftest import csrf_token_from
    response = client.post(f"/brands/{quiz_brand.slug}/experts", data={
        "csrf_token": csrf_token_from(page), "enrolment_approval": "automatic"})
    assert response.status_code == 302
    brand = session.get(Brand, quiz_brand.brand_id)
    session.refresh(brand)
    assert (brand.enrolment_approval.value, brand.allow_unbooked_online) == ("automatic", False)
