"""A brand writes its product quiz, on the page or through the API; only its admins may change it."""

from __future__ import annotations

from marketplace.accounts.models import User
from marketplace.brands import quizzes
from marketplace.brands.models import BrandRole
from tests.conftest import csrf_token_from, log_in
from tests.factories import MembershipFactory


def post_quiz(client, session, questions: str, **settings: str):
    """Log a new brand admin in and send the quiz page's form; return the membership and the answer."""
    membership = MembershipFactory(role=BrandRole.ADMIN)
    log_in(client, session.get(User, membership.user_id).email)
    page = client.get(f"/brands/{membership.brand.slug}/quiz").get_data(as_text=True)
    form = {"csrf_token": csrf_token_from(page), "pass_mark_percent": "50", "max_attempts": "3",
            "cooldown_hours": "12", "questions": questions, **settings}
    return membership, client.post(f"/brands/{membership.brand.slug}/quiz", data=form)


QUIZ_TEXT = "Which bulb lasts longest?\n* LED\n- Halogen\n\nWhat is a lumen?\n- A power rating\n* Light output\n"


def test_an_admin_writes_the_quiz_on_the_page(client, session):
    membership, response = post_quiz(client, session, QUIZ_TEXT)
    assert response.status_code == 302
    quiz = quizzes.quiz_of(membership.brand.id)
    assert (quiz.pass_mark_percent, quiz.max_attempts, quiz.cooldown_hours, quiz.version) == (50, 3, 12, 1)
    assert [(q.text, [c.is_correct for c in q.choices]) for q in quiz.questions] == [
        ("Which bulb lasts longest?", [True, False]), ("What is a lumen?", [False, True])]
    shown = client.get(f"/brands/{membership.brand.slug}/quiz").get_data(as_text=True)
    assert "* Light output" in shown


def test_a_question_without_a_right_answer_is_a_friendly_error(client, session):
    membership, response = post_quiz(client, session, "Which bulb?\n- LED\n- Halogen")
    assert response.status_code == 422
    assert "Mark exactly one choice as correct." in response.get_data(as_text=True)
    assert quizzes.quiz_of(membership.brand.id) is None


def test_a_line_without_a_marker_is_named(client, session):
    _membership, response = post_quiz(client, session, "Which bulb?\n* LED\nHalogen")
    assert response.status_code == 422 and "Line 3" in response.get_data(as_text=True)


def test_the_api_replaces_the_quiz_and_a_viewer_may_only_read_it(client, session):
    admin = MembershipFactory(role=BrandRole.ADMIN)
    viewer = MembershipFactory(brand=admin.brand, role=BrandRole.VIEWER)
    csrf = log_in(client, session.get(User, admin.user_id).email)
    empty = client.get(f"/api/v1/brands/{admin.brand.id}/quiz")
    assert empty.status_code == 200 and empty.json["questions"] == [] and empty.json["version"] == 0
    body = {"pass_mark_percent": 60, "questions": [
        {"text": "Q1", "choices": [{"text": "A", "correct": True}, {"text": "B"}]}]}
    saved = client.put(f"/api/v1/brands/{admin.brand.id}/quiz", json=body, headers={"X-CSRFToken": csrf})
    assert saved.status_code == 200 and saved.json["version"] == 1
    assert saved.json["questions"][0]["choices"][0] == {"text": "A", "correct": True}
    bad = client.put(f"/api/v1/brands/{admin.brand.id}/quiz",
                     json={"pass_mark_percent": 60, "questions": [{"text": "Q1", "choices": [{"text": "A"}]}]},
                     headers={"X-CSRFToken": csrf})
    assert bad.status_code == 422 and "questions.0.choices" in bad.json["errors"]
    client.post("/logout", data={"csrf_token": csrf})
    csrf = log_in(client, session.get(User, viewer.user_id).email)
    assert client.get(f"/api/v1/brands/{admin.brand.id}/quiz").status_code == 200
    refused = client.put(f"/api/v1/brands/{admin.brand.id}/quiz", json=body, headers={"X-CSRFToken": csrf})
    assert refused.status_code == 403
