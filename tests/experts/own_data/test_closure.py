"""Closing an expert's account: everything that names them goes, what money law keeps stays and still pays them."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import AuditEvent, Role, User, UserSession
from marketplace.brands.models import BrandRole
from marketplace.database import utcnow
from marketplace.errors import Conflict
from marketplace.experts.models import ExpertPresence, PayoutDetails, PresenceStatus
from marketplace.experts.own_data import closure
from marketplace.notifications.models import Notification, PushSubscription
from marketplace.payouts.batches import settlement, submission
from marketplace.payouts.models import Earning, ItemStatus, PayoutItem
from marketplace.routing.models import (
    Conversation,
    ConversationStatus,
    EndReason,
    ExpertLoad,
    Offer,
    OfferStatus,
)
from marketplace.routing.router.loads import counters_match, ensure_expert_load, lock_brand
from marketplace.shifts.models import BookingStatus, ShiftBooking, ShiftSlot
from tests.conftest import csrf_token_from, log_in
from tests.factories import (
    PASSWORD,
    ConversationFactory,
    MembershipFactory,
    OfferFactory,
    PayoutBatchFactory,
    ShiftBookingFactory,
    ShiftSlotFactory,
    UserFactory,
)
from tests.payouts.money import owed


def _live(session, floor):
    """Alice online, holding a live chat and a pending offer, with a shift that began an hour ago."""
    alice, brand = floor.alice.profile, floor.brand
    session.add(ExpertPresence(expert_id=alice.id, status=PresenceStatus.AVAILABLE, changed_at=utcnow(),
                               last_heartbeat_at=utcnow()))
    active = ConversationFactory(brand=brand, status=ConversationStatus.ACTIVE, expert=alice)
    offer = OfferFactory(brand=brand, expert=alice)
    ensure_expert_load(alice.id)
    load = session.get(ExpertLoad, alice.id)
    load.open_chats, load.pending_offers = 1, 1
    brand_load, _brand = lock_brand(brand.id)
    brand_load.open_conversations, brand_load.pending_offers = 2, 1
    begun = ShiftSlotFactory(brand_id=brand.id, starts_at=utcnow() - dt.timedelta(hours=1))
    started = ShiftBookingFactory(slot_id=begun.id, expert_id=alice.id)
    session.commit()
    assert counters_match() == []
    return active, offer, started


def _close(client, floor, password=PASSWORD):
    token = log_in(client, floor.alice.user.email)
    return client.post("/api/v1/experts/me/close", json={"password": password}, headers={"X-CSRFToken": token})


def test_closing_takes_the_expert_offline_and_hands_their_chats_and_shifts_on(client, session, floor):
    active, offer, started = _live(session, floor)
    alice = floor.alice.profile
    response = _close(client, floor)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["pseudonym"] == f"Former expert #{alice.id}"
    session.expire_all()
    assert session.get(ExpertPresence, alice.id).status == PresenceStatus.OFFLINE
    assert session.get(Offer, offer.id).status == OfferStatus.RESCINDED  # as when a phone is lost
    assert session.get(Conversation, offer.conversation_id).status == ConversationStatus.WAITING
    chat = session.get(Conversation, active.id)
    assert (chat.status, chat.end_reason) == (ConversationStatus.CLOSED, EndReason.EXPERT)
    future = session.scalars(sa.select(ShiftBooking).where(ShiftBooking.expert_id == alice.id,
                                                           ShiftBooking.id != started.id)).all()
    assert [booking.status for booking in future] == [BookingStatus.CANCELLED]
    assert session.get(ShiftSlot, future[0].slot_id).booked_count == 0
    assert session.get(ShiftBooking, started.id).status == BookingStatus.BOOKED  # begun: attendance decides it
    assert counters_match() == []
    xavier_booking = session.scalar(sa.select(ShiftBooking).where(ShiftBooking.expert_id == floor.xavier.profile.id))
    assert xavier_booking.status == BookingStatus.BOOKED


def test_closing_erases_what_names_them_and_keeps_what_money_law_needs(client, session, floor):
    alice, user_id = floor.alice.profile, floor.alice.user.id
    earned = session.scalars(sa.select(Earning.expert_cents).where(Earning.expert_id == alice.id)).all()
    assert _close(client, floor).status_code == 200
    session.expire_all()
    user = session.get(User, user_id)
    assert user.is_disabled and user.full_name == f"Former expert #{alice.id}"
    assert user.email == f"closed-{user_id}@closed.invalid" and user.erased_email_digest
    profile = session.get(type(alice), alice.id)
    assert (profile.display_name, profile.phone, profile.bio, profile.languages, profile.skills) == (
        f"Former expert #{alice.id}", None, "", [], [])
    assert profile.closed_at is not None and profile.country == "BE"
    for model in (UserSession, PushSubscription, Notification):
        assert session.scalar(sa.select(sa.func.count()).select_from(model).where(model.user_id == user_id)) == 0
    assert session.scalars(sa.select(Earning.expert_cents).where(Earning.expert_id == alice.id)).all() == earned
    assert session.get(PayoutDetails, alice.id).account_holder == "Alice Martin Holder"  # pays what is earned
    audit = session.scalar(sa.select(AuditEvent).where(AuditEvent.kind == "expert_account_closed"))
    assert audit.subject_id == user_id and audit.detail["devices"] == 1 and audit.detail["sessions_ended"] == 1
    # Xavier is untouched.
    assert session.get(User, floor.xavier.user.id).full_name == "Xavier Durand"
    assert session.scalar(sa.select(sa.func.count()).select_from(PushSubscription)
                          .where(PushSubscription.user_id == floor.xavier.user.id)) == 1


def test_their_session_dies_and_they_cannot_log_in_again(client, session, floor):
    assert _close(client, floor).status_code == 200
    again = client.get("/api/v1/experts/me")
    assert again.status_code == 401 and again.mimetype == "application/problem+json"
    page = client.get("/login")
    token = csrf_token_from(page.get_data(as_text=True))
    refused = client.post("/login", data={"email": "alice.martin@example.com", "password": PASSWORD,
                                          "csrf_token": token})
    assert refused.status_code == 422
    assert "This account was closed at its owner&#39;s request" in refused.get_data(as_text=True)
    guessed = client.post("/login", data={"email": "alice.martin@example.com", "password": "not-her-password",
                                          "csrf_token": token})
    assert "Wrong e-mail or password." in guessed.get_data(as_text=True)  # without the password, nothing is told
    assert "closed" not in guessed.get_data(as_text=True)


def test_closing_twice_is_a_conflict(client, session, floor):
    assert _close(client, floor).status_code == 200
    session.expire_all()
    user = session.get(User, floor.alice.user.id)
    with pytest.raises(Conflict) as refused:
        closure.close_account(user, PASSWORD)
    assert refused.value.status == 409 and refused.value.field == "account"
    again = client.post("/api/v1/experts/me/close", json={"password": PASSWORD})
    assert again.status_code == 401 and again.mimetype == "application/problem+json"  # logged out by the first


@pytest.mark.parametrize(("body", "field"), [({"password": "wrong-password"}, "password"), ({}, "password"),
                                             ({"password": 12}, "password"), ({"password": ""}, "password")])
def test_a_bad_confirmation_is_a_problem_naming_the_password_and_closes_nothing(client, session, floor, body, field):
    token = log_in(client, floor.alice.user.email)
    response = client.post("/api/v1/experts/me/close", json=body, headers={"X-CSRFToken": token})
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert field in response.json["errors"]
    session.expire_all()
    assert not session.get(User, floor.alice.user.id).is_disabled
    assert session.get(type(floor.alice.profile), floor.alice.profile.id).closed_at is None
    assert client.get("/api/v1/experts/me").status_code == 200


def test_only_an_expert_closes_their_account(client, session, floor):
    finance = UserFactory(role=Role.FINANCE)
    session.commit()
    token = log_in(client, finance.email)
    refused = client.post("/api/v1/experts/me/close", json={"password": PASSWORD}, headers={"X-CSRFToken": token})
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"


def test_earnings_of_a_closed_expert_are_still_paid(client, session, floor):
    alice = floor.alice.profile
    owed(session, alice.id, 3_000)
    assert _close(client, floor).status_code == 200
    finance = UserFactory(role=Role.FINANCE), UserFactory(role=Role.FINANCE)
    session.commit()
    batch = PayoutBatchFactory(created_by=finance[0], approved_by=finance[1])
    item = session.scalar(sa.select(PayoutItem).where(PayoutItem.batch_id == batch.id,
                                                      PayoutItem.expert_id == alice.id))
    assert item is not None and item.amount_cents == 3_000
    submission.submit(finance[0], batch.id)
    assert settlement.confirm_sepa(finance[1], batch.id) >= 1
    session.expire_all()
    assert session.get(PayoutItem, item.id).status == ItemStatus.PAID


def test_the_brand_no_longer_sees_who_they_were(client, session, floor):
    alice = floor.alice.profile
    assert _close(client, floor).status_code == 200
    client.get("/logout")
    admin = session.get(User, MembershipFactory(brand=floor.brand, role=BrandRole.ADMIN).user_id)
    session.commit()
    log_in(client, admin.email)
    slug, brand_id = floor.brand.slug, floor.brand.id
    own = session.scalar(sa.select(Conversation.id).where(Conversation.expert_id == alice.id))
    pages = [f"/brands/{slug}/conversations", f"/brands/{slug}/conversations/{own}", f"/brands/{slug}/dashboard",
             f"/brands/{slug}/experts", f"/api/v1/brands/{brand_id}/conversations",
             f"/api/v1/brands/{brand_id}/conversations/{own}", f"/api/v1/brands/{brand_id}/enrolments",
             f"/api/v1/brands/{brand_id}/dashboard"]
    seen = ""
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        seen += response.get_data(as_text=True)
    assert "Alice" not in seen and "alice.martin" not in seen and "+33612345678" not in seen
    assert f"Former expert #{alice.id}" in seen
    assert "Xavier" in seen  # the other expert is shown as ever


def test_the_closure_page_explains_and_confirms_with_the_password(client, session, floor):
    log_in(client, floor.alice.user.email)
    assert 'href="/expert/account/close"' in client.get("/expert/profile").get_data(as_text=True)
    page = client.get("/expert/account/close")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "cannot be undone" in text and 'type="password"' in text
    token = csrf_token_from(text)
    wrong = client.post("/expert/account/close", data={"password": "nope-nope", "csrf_token": token})
    assert wrong.status_code == 422 and "This is not your password." in wrong.get_data(as_text=True)
    assert not session.get(User, floor.alice.user.id).is_disabled
    done = client.post("/expert/account/close", data={"password": PASSWORD, "csrf_token": token})
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    assert "Your account is closed" in client.get("/login").get_data(as_text=True)
    assert client.get("/expert/profile").status_code == 302  # logged out
