"""An expert reads the decisions about them and asks for a human review; ops (work) or finance (pay) answer in
writing within two weeks, and the expert is told and reads the answer."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import AuditEvent, Role
from marketplace.database import utcnow
from marketplace.decisions import services as decisions
from marketplace.decisions.models import DecisionReview, ReviewStatus
from marketplace.errors import Conflict, Forbidden, InvalidInput, NotFound
from marketplace.notifications.models import Notification
from tests.conftest import log_in
from tests.decisions.conftest import decided, expert_user, staff
from tests.factories import EnrolmentFactory, UserFactory


@pytest.fixture
def me(client, session, expert):
    return log_in(client, expert_user(session, expert).email)


def ask(client, csrf, decision_id, body):
    return client.post(f"/api/v1/experts/me/decisions/{decision_id}/review", json=body,
                       headers={"X-CSRFToken": csrf})


def test_the_expert_lists_their_decisions_with_the_reason_in_words(client, session, expert, shop, me):
    decided(session, expert, "missed_offers", brand=None)
    decided(session, expert, "fraud_check", brand=shop)
    decided(session, EnrolmentFactory().expert, "missed_offers")  # another expert's
    session.commit()
    listed = client.get("/api/v1/experts/me/decisions")
    assert listed.status_code == 200
    [pay, work] = listed.json["decisions"]
    assert (pay["kind"], pay["reason_code"], pay["brand"], pay["brand_id"]) == (
        "earning_held", "fraud_check", "Atelier", shop.id)
    assert "implausibly short chat" in pay["reason"] and "14 days" in pay["reason"]
    assert work["parameters"] == {"missed_offers": 3, "limit": 3} and work["review"] is None
    assert "3 chat offers in a row" in work["reason"] and "the limit is 3" in work["reason"]


def test_asking_for_a_review_opens_one_due_in_two_weeks_once(client, session, expert, me):
    decision = decided(session, expert)
    before = utcnow()
    asked = ask(client, me, decision.id, {"comment": "My phone was in a tunnel."})
    assert asked.status_code == 201, asked.json
    assert asked.json["status"] == "open" and asked.json["comment"] == "My phone was in a tunnel."
    review = session.get(DecisionReview, asked.json["id"])
    assert review.team == "ops" and review.expert_id == expert.id
    assert before + dt.timedelta(days=14) <= review.due_at <= utcnow() + dt.timedelta(days=14)
    again = ask(client, me, decision.id, {"comment": "Again"})
    assert again.status_code == 409 and "decision_id" in again.json["errors"]
    assert session.scalar(sa.select(sa.func.count()).select_from(DecisionReview)) == 1
    assert session.scalar(sa.select(AuditEvent).where(AuditEvent.kind == "decision_review_requested")) is not None


def test_an_empty_comment_is_allowed(client, session, expert, me):
    decision = decided(session, expert)
    assert ask(client, me, decision.id, {}).status_code == 201


@pytest.mark.parametrize("comment", ["x" * 2001, 42, ["a"], {"a": 1}])
def test_a_bad_comment_is_refused_naming_the_field_and_nothing_is_written(client, session, expert, me, comment):
    decision = decided(session, expert)
    refused = ask(client, me, decision.id, {"comment": comment})
    assert refused.status_code in (400, 422) and "comment" in refused.json["errors"]
    assert session.scalar(sa.select(sa.func.count()).select_from(DecisionReview)) == 0


def test_another_experts_decision_is_not_found(client, session, expert, me):
    theirs = decided(session, EnrolmentFactory().expert)
    assert ask(client, me, theirs.id, {"comment": "mine?"}).status_code == 404
    assert ask(client, me, 10**12, {}).status_code == 404
    assert ask(client, me, 10**30, {}).status_code == 404  # past what the database holds: still only "not found"
    assert client.get(f"/expert/decisions/{10**30}/review").status_code == 404
    assert client.get(f"/expert/decisions/{theirs.id}/review").status_code == 404


def test_only_experts_have_decisions(client, session):
    for role in (Role.OPS, Role.FINANCE, Role.BRAND):
        person = staff(client, session, role)
        assert client.get("/api/v1/experts/me/decisions").status_code == 403
        assert client.get("/expert/decisions").status_code == 403
        client.post("/logout", data={"csrf_token": person.csrf})
    assert client.get("/api/v1/experts/me/decisions").status_code == 401


def test_work_reviews_go_to_ops_and_pay_reviews_to_finance(app, session, expert, shop):
    user = expert_user(session, expert)
    work = decided(session, expert)
    pay = decided(session, expert, "fraud_check", brand=shop)
    with app.test_request_context():
        decisions.request_review(user, work.id, "work")
        decisions.request_review(user, pay.id, "pay")
    ops, finance = UserFactory(role=Role.OPS), UserFactory(role=Role.FINANCE)
    session.commit()
    assert [q.review.decision_id for q in decisions.review_queue(ops)] == [work.id]
    assert [q.review.decision_id for q in decisions.review_queue(finance)] == [pay.id]
    finance_review = decisions.review_queue(finance)[0].review.id
    with pytest.raises(NotFound):  # not in ops' queue
        decisions.answer_review(ops, finance_review, "Looks fine.")
    with pytest.raises(Forbidden):
        decisions.review_queue(user)
    with pytest.raises(Forbidden):
        decisions.answer_review(user, finance_review, "I approve myself.")


def test_the_queue_is_sorted_by_deadline_and_shows_the_overdue(client, session, expert):
    user = expert_user(session, expert)
    first, second = decided(session, expert), decided(session, expert)
    with client.application.test_request_context():
        late = decisions.request_review(user, second.id, "late one")
        decisions.request_review(user, first.id, "recent one")
    session.get(DecisionReview, late.id).due_at = utcnow() - dt.timedelta(days=1)
    session.commit()
    staff(client, session, Role.OPS)
    page = client.get("/staff/decision-reviews")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.index("late one") < html.index("recent one")
    assert html.count('data-overdue="yes"') == 1 and "Overdue" in html


def test_ops_answer_in_writing_and_the_expert_is_told_and_reads_it(client, session, expert):
    user = expert_user(session, expert)
    decision = decided(session, expert)
    with client.application.test_request_context():
        review = decisions.request_review(user, decision.id, "Tunnel")
    session.commit()
    ops = staff(client, session, Role.OPS)
    empty = client.post(f"/staff/decision-reviews/{review.id}/answer", data={"answer": "  ", "csrf_token": ops.csrf})
    assert empty.status_code == 422 and "Write the answer" in empty.get_data(as_text=True)
    too_long = client.post(f"/staff/decision-reviews/{review.id}/answer",
                           data={"answer": "y" * 4001, "csrf_token": ops.csrf})
    assert too_long.status_code == 422 and "y" * 4001 in too_long.get_data(as_text=True)  # kept in its box
    assert session.get(DecisionReview, review.id).status == ReviewStatus.OPEN
    answered = client.post(f"/staff/decision-reviews/{review.id}/answer",
                           data={"answer": "We checked: the offers did expire. It stands.", "csrf_token": ops.csrf})
    assert answered.status_code == 302
    stored = session.get(DecisionReview, review.id)
    assert (stored.status, stored.answered_by_id) == (ReviewStatus.ANSWERED, ops.user.id)
    assert stored.answered_at is not None
    note = session.scalar(sa.select(Notification).where(Notification.user_id == user.id,
                                                        Notification.kind == "decision_review_answered"))
    assert note is not None and note.url == f"/expert/decisions#decision-{decision.id}"
    with pytest.raises(Conflict):
        decisions.answer_review(ops.user, review.id, "Twice")
    client.post("/logout", data={"csrf_token": ops.csrf})
    log_in(client, user.email)
    mine = client.get("/expert/decisions").get_data(as_text=True)
    assert "We checked: the offers did expire. It stands." in mine
    listed = client.get("/api/v1/experts/me/decisions").json["decisions"][0]
    assert listed["review"]["status"] == "answered"
    assert listed["review"]["answer"] == "We checked: the offers did expire. It stands."


def test_the_answer_must_be_written(session, expert):
    user = expert_user(session, expert)
    decision = decided(session, expert)
    review = decisions.request_review(user, decision.id, "")
    ops = UserFactory(role=Role.OPS)
    session.commit()
    for bad in ("", "   ", None, 12):
        with pytest.raises(InvalidInput) as refused:
            decisions.answer_review(ops, review.id, bad)
        assert refused.value.field == "answer"


def test_the_expert_asks_for_a_review_from_the_page(client, session, expert, me):
    decision = decided(session, expert)
    page = client.get("/expert/decisions").get_data(as_text=True)
    assert f"/expert/decisions/{decision.id}/review" in page and "Ask for a human review" in page
    form = client.get(f"/expert/decisions/{decision.id}/review")
    assert form.status_code == 200
    too_long = client.post(f"/expert/decisions/{decision.id}/review", data={"comment": "z" * 2001, "csrf_token": me})
    assert too_long.status_code == 422 and "z" * 2001 in too_long.get_data(as_text=True)
    sent = client.post(f"/expert/decisions/{decision.id}/review", data={"comment": "Please look", "csrf_token": me})
    assert sent.status_code == 302
    after = client.get("/expert/decisions").get_data(as_text=True)
    assert "Please look" in after and "A person will answer by" in after


def test_the_export_lists_every_decision_of_the_expert_with_its_review(session, expert, shop):
    user = expert_user(session, expert)
    first = decided(session, expert)
    decided(session, expert, "fraud_check", brand=shop)
    decided(session, EnrolmentFactory().expert)
    decisions.request_review(user, first.id, "why?")
    session.commit()
    exported = decisions.decisions_for_export(expert.id)
    assert [row["reason_code"] for row in exported] == ["missed_offers", "fraud_check"]
    assert exported[0]["review"]["comment"] == "why?" and exported[0]["review"]["status"] == "open"
    assert exported[1]["brand"] == "Atelier" and exported[1]["review"] is None
    assert "3 chat offers in a row" in exported[0]["reason"]
