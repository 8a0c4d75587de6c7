"""Vetting by ops: every allowed and refused decision, with the reason the expert reads and receives."""

from __future__ import annotations

import pytest

from marketplace.accounts.models import AuditEvent, Role, User
from marketplace.errors import Conflict, Forbidden, InvalidInput
from marketplace.experts import vetting
from marketplace.experts.models import ExpertStatus
from tests.experts.conftest import logged_in
from tests.factories import ExpertFactory, UserFactory

ALLOWED = [
    (ExpertStatus.APPLIED, "approve", ExpertStatus.APPROVED),
    (ExpertStatus.APPLIED, "reject", ExpertStatus.REJECTED),
    (ExpertStatus.APPROVED, "suspend", ExpertStatus.SUSPENDED),
    (ExpertStatus.SUSPENDED, "reinstate", ExpertStatus.APPROVED),
]


@pytest.mark.parametrize(("start", "action", "end"), ALLOWED)
def test_allowed_decisions_move_the_expert_and_tell_them(app, session, outbox, ops_user, start, action, end):
    profile = ExpertFactory(status=start)
    user = session.get(User, profile.user_id)
    with app.test_request_context():
        decided = vetting.decide(ops_user, profile.id, action, "Checked by phone.")
    assert decided.status == end
    assert decided.status_changed_by_id == ops_user.id
    mails = outbox.to(user.email)
    assert len(mails) == 1
    event = session.query(AuditEvent).filter_by(kind=f"expert_{action}", subject_id=user.id).one()
    assert event.detail["reason"] == "Checked by phone." and event.actor_id == ops_user.id


REFUSED = [(start, action) for start in ExpertStatus for action in vetting.ACTIONS
           if (start, action) not in {(s, a) for s, a, _e in ALLOWED}]


@pytest.mark.parametrize(("start", "action"), REFUSED)
def test_every_other_decision_is_refused_and_changes_nothing(app, session, outbox, ops_user, start, action):
    profile = ExpertFactory(status=start)
    with app.test_request_context(), pytest.raises(Conflict) as refused:
        vetting.decide(ops_user, profile.id, action, "A reason.")
    assert refused.value.field == "action" and "status" in str(refused.value.message)
    session.refresh(profile)
    assert profile.status == start and outbox.messages == []


@pytest.mark.parametrize("action", ["reject", "suspend", "reinstate"])
def test_a_refusal_needs_a_reason(app, session, ops_user, action):
    profile = ExpertFactory(status={"reject": ExpertStatus.APPLIED, "suspend": ExpertStatus.APPROVED,
                                    "reinstate": ExpertStatus.SUSPENDED}[action])
    with app.test_request_context(), pytest.raises(InvalidInput) as refused:
        vetting.decide(ops_user, profile.id, action, "   ")
    assert refused.value.field == "reason"


def test_only_ops_decide(app, session):
    profile = ExpertFactory()
    for role in (Role.EXPERT, Role.BRAND, Role.FINANCE):
        with app.test_request_context(), pytest.raises(Forbidden):
            vetting.decide(UserFactory(role=role), profile.id, "approve")


def test_a_rejected_expert_sees_the_reason_on_their_home_page(client, session, outbox, ops_user, app):
    profile = ExpertFactory()
    with app.test_request_context():
        vetting.decide(ops_user, profile.id, "reject", "We need experts who know cycling.")
    user = session.get(User, profile.user_id)
    logged_in(client, user)
    page = client.get("/expert").get_data(as_text=True)
    assert "Not accepted" in page and "We need experts who know cycling." in page
    assert "We need experts who know cycling." in outbox.to(user.email)[0].get_content()


def test_ops_review_the_queue_and_approve_on_the_page(client, session, outbox, ops_user):
    waiting = ExpertFactory(motivation="I sell bikes on weekends.")
    ExpertFactory(status=ExpertStatus.APPROVED)
    logged_in(client, ops_user)
    queue = client.get("/ops/experts").get_data(as_text=True)
    assert f"/ops/experts/{waiting.id}" in queue
    detail = client.get(f"/ops/experts/{waiting.id}")
    assert "I sell bikes on weekends." in detail.get_data(as_text=True)
    from tests.conftest import csrf_token_from
    token = csrf_token_from(detail.get_data(as_text=True))
    rejected = client.post(f"/ops/experts/{waiting.id}", data={"csrf_token": token, "action": "reject", "reason": ""})
    assert rejected.status_code == 422 and 'id="reason-error"' in rejected.get_data(as_text=True)
    approved = client.post(f"/ops/experts/{waiting.id}", data={"csrf_token": token, "action": "approve"})
    assert approved.status_code == 302
    session.refresh(waiting)
    assert waiting.status == ExpertStatus.APPROVED


def test_the_api_decides_and_names_bad_input(client, session, outbox, ops_user):
    profile = ExpertFactory()
    headers = logged_in(client, ops_user)
    listed = client.get("/api/v1/experts?status=applied").json
    assert [item["profile"]["id"] for item in listed] == [profile.id]
    assert client.get("/api/v1/experts?status=nonsense").status_code == 422
    bad = client.post(f"/api/v1/experts/{profile.id}/decisions", json={"action": "promote"}, headers=headers)
    assert bad.status_code == 422 and "action" in bad.json["errors"]
    ok = client.post(f"/api/v1/experts/{profile.id}/decisions", json={"action": "approve"}, headers=headers)
    assert ok.status_code == 200 and ok.json["status"] == "approved"
    again = client.post(f"/api/v1/experts/{profile.id}/decisions", json={"action": "approve"}, headers=headers)
    assert again.status_code == 409


def test_suspension_takes_an_online_expert_offline(app, session, outbox, ops_user):
    from marketplace.experts import presence
    from tests.factories import EnrolmentFactory

    enrolment = EnrolmentFactory()
    user = session.get(User, enrolment.expert.user_id)
    presence.go_online(user)
    with app.test_request_context():
        vetting.decide(ops_user, enrolment.expert.id, "suspend", "Rude to visitors.")
    assert presence.presence_of(enrolment.expert.id).status.value == "offline"
