"""A brand removes an approved expert with a reason: no chat of the brand reaches them any more."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import AuditEvent, User
from marketplace.brands.models import Brand, BrandRole
from marketplace.database import db
from marketplace.errors import Conflict, InvalidInput
from marketplace.experts import enrolments
from marketplace.experts.models import Enrolment, EnrolmentStatus
from marketplace.notifications.models import Notification
from marketplace.routing.console import expert_stats
from marketplace.routing.models import ConversationStatus, Offer, OfferStatus
from tests.conftest import csrf_token_from, log_in
from tests.factories import BrandFactory, EnrolmentFactory
from tests.routing.conftest import admin_of, arrive, online_expert


@pytest.fixture(autouse=True)
def wired(app):
    """What `routing.init_app` does: hand the experts layer the routing side of a removal."""
    expert_stats.register(app)


@pytest.fixture
def brand(session) -> Brand:
    brand = BrandFactory(name="Lumière", widget_origins=["https://shop.example.com"])
    session.commit()
    return brand


def enrolment_of(expert_id: int, brand: Brand) -> Enrolment:
    return db.session.scalar(sa.select(Enrolment).where(Enrolment.expert_id == expert_id,
                                                        Enrolment.brand_id == brand.id))


def pending_offer(conversation_id: int) -> Offer | None:
    return db.session.scalar(sa.select(Offer).where(Offer.conversation_id == conversation_id,
                                                    Offer.status == OfferStatus.PENDING))


def remove(admin: User, brand: Brand, expert_id: int, reason: str = "Too many missed chats this month.") -> Enrolment:
    return enrolments.decide_enrolment(admin, brand.id, enrolment_of(expert_id, brand).id, "remove", reason)


def test_a_removed_expert_loses_the_brands_pending_offer_to_another_expert(app, session, brand):
    removed = online_expert(brand)
    session.commit()
    conversation = arrive(brand)
    offer = pending_offer(conversation.id)
    assert offer.expert_id == removed.id
    other = online_expert(brand)
    admin = admin_of(session, brand)
    with app.test_request_context():
        remove(admin, brand, removed.id)
    session.refresh(offer)
    assert offer.status == OfferStatus.RESCINDED
    assert pending_offer(conversation.id).expert_id == other.id


def test_no_new_chat_of_the_brand_is_offered_to_a_removed_expert(app, session, brand):
    removed = online_expert(brand)
    admin = admin_of(session, brand)
    with app.test_request_context():
        remove(admin, brand, removed.id)
    conversation = arrive(brand)
    assert conversation.status == ConversationStatus.WAITING
    assert pending_offer(conversation.id) is None


def test_a_removed_expert_still_answers_for_their_other_brands(app, session, brand):
    other_brand = BrandFactory(widget_origins=["https://other.example.com"])
    expert = online_expert(brand)
    EnrolmentFactory(brand_id=other_brand.id, expert=expert)
    admin = admin_of(session, brand)
    with app.test_request_context():
        remove(admin, brand, expert.id)
    elsewhere = arrive(other_brand)
    assert pending_offer(elsewhere.id).expert_id == expert.id


def test_the_removal_records_the_reason_and_tells_the_expert(app, session, brand):
    expert = online_expert(brand)
    admin = admin_of(session, brand)
    with app.test_request_context():
        removal = remove(admin, brand, expert.id, "You shared a customer's address.")
    assert (removal.status, removal.status_reason, removal.decided_by_id) == (
        EnrolmentStatus.REJECTED, "You shared a customer's address.", admin.id)
    audit = session.scalar(sa.select(AuditEvent).where(AuditEvent.kind == "enrolment_remove"))
    assert (audit.actor_id, audit.detail["reason"]) == (admin.id, "You shared a customer's address.")
    told = session.scalar(sa.select(Notification).where(Notification.user_id == expert.user_id))
    assert told.kind == "enrolment_remove"
    assert told.body == "You shared a customer's address."


def test_a_removal_needs_a_reason_and_changes_nothing_without_one(app, session, brand):
    expert = online_expert(brand)
    admin = admin_of(session, brand)
    with app.test_request_context(), pytest.raises(InvalidInput) as refused:
        remove(admin, brand, expert.id, "  ")
    assert refused.value.field == "reason"
    session.rollback()
    assert enrolment_of(expert.id, brand).status == EnrolmentStatus.APPROVED


def test_only_an_approved_expert_can_be_removed(app, session, brand):
    waiting = EnrolmentFactory(brand_id=brand.id, status=EnrolmentStatus.QUIZ_PASSED)
    admin = admin_of(session, brand)
    with app.test_request_context(), pytest.raises(Conflict):
        enrolments.decide_enrolment(admin, brand.id, waiting.id, "remove", "No.")


def test_an_admin_removes_an_expert_on_the_experts_page(client, session, brand):
    expert = online_expert(brand)
    admin = admin_of(session, brand)
    log_in(client, admin.email)
    enrolment = enrolment_of(expert.id, brand)
    page = client.get(f"/brands/{brand.slug}/experts?status=approved").get_data(as_text=True)
    assert "Remove this expert" in page
    response = client.post(f"/brands/{brand.slug}/experts/{enrolment.id}?status=approved", data={
        "csrf_token": csrf_token_from(page), "action": "remove", "reason": "We are closing the French shop."})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("?status=approved")
    session.refresh(enrolment)
    assert (enrolment.status, enrolment.status_reason) == (EnrolmentStatus.REJECTED, "We are closing the French shop.")


def remove_through_page_and_api(client, user: User, brand: Brand, enrolment: Enrolment) -> tuple[int, int]:
    """Log in as `user` and ask to remove the expert on the page, then through the API: the two statuses."""
    csrf = log_in(client, user.email)
    page = client.post(f"/brands/{brand.slug}/experts/{enrolment.id}",
                       data={"csrf_token": csrf, "action": "remove", "reason": "No."})
    api = client.post(f"/api/v1/brands/{brand.id}/enrolments/{enrolment.id}/decisions",
                      json={"action": "remove", "reason": "No."}, headers={"X-CSRFToken": csrf})
    return page.status_code, api.status_code


def test_a_viewer_gets_403_on_remove(client, session, brand):
    enrolment = enrolment_of(online_expert(brand).id, brand)
    viewer = admin_of(session, brand, BrandRole.VIEWER)
    assert remove_through_page_and_api(client, viewer, brand, enrolment) == (403, 403)
    session.refresh(enrolment)
    assert enrolment.status == EnrolmentStatus.APPROVED


def test_another_brands_member_gets_404_on_remove(client, session, brand):
    enrolment = enrolment_of(online_expert(brand).id, brand)
    outsider = admin_of(session, BrandFactory())
    assert remove_through_page_and_api(client, outsider, brand, enrolment) == (404, 404)
    session.refresh(enrolment)
    assert enrolment.status == EnrolmentStatus.APPROVED
