"""Two experts of one brand who shared a conversation, each with a bit of every kind of data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from marketplace.accounts.models import Role, User
from marketplace.accounts.services import record_audit
from marketplace.brands.models import Brand
from marketplace.database import utcnow
from marketplace.experts import services as experts
from marketplace.experts.models import ExpertProfile, PresenceSession, QuizAttempt
from marketplace.notifications.models import Notification, PushSubscription
from marketplace.routing.models import ConversationStatus, OfferStatus, Sender
from tests.factories import (
    BrandFactory,
    ConversationFactory,
    EarningFactory,
    EnrolmentFactory,
    MessageFactory,
    OfferFactory,
    ShiftBookingFactory,
    ShiftSlotFactory,
    UserFactory,
)

IBANS = {"alice": "FR7630006000011234567890189", "xavier": "BE68539007547034"}


@dataclass
class Expert:
    profile: ExpertProfile
    user: User
    iban: str


@dataclass
class Floor:
    brand: Brand
    alice: Expert
    xavier: Expert
    shared_id: int  # answered by Alice, then handed to Xavier, who holds it now
    rated_ids: dict[str, int]  # each expert's own rated chat, by first name in lower case


def _expert(session, brand: Brand, name: str, email: str, display: str) -> Expert:
    user = UserFactory(role=Role.EXPERT, full_name=name, email=email)
    enrolment = EnrolmentFactory(brand_id=brand.id, expert__user_id=user.id, expert__display_name=display,
                                 expert__phone="+33612345678", expert__bio=f"{display} knows lamps",
                                 expert__country="BE")
    profile = enrolment.expert
    session.add(QuizAttempt(enrolment_id=enrolment.id, quiz_version=1, question_order=[1], choice_order={},
                            answers={"1": 2}, score_percent=100, passed=True, submitted_at=utcnow()))
    session.add(PresenceSession(expert_id=profile.id, started_at=utcnow() - dt.timedelta(hours=3),
                                ended_at=utcnow() - dt.timedelta(hours=2)))
    session.add(Notification(user_id=user.id, kind="test", title=f"Hello {display}", body=""))
    session.add(PushSubscription(user_id=user.id, endpoint=f"https://push.example/{display.lower()}",
                                 p256dh=f"key-{display}", auth=f"auth-{display}"))
    session.commit()
    iban = IBANS[display.lower()]
    experts.set_payout_details(user, f"{name} Holder", iban)
    return Expert(profile, user, iban)


@pytest.fixture
def floor(session) -> Floor:
    brand = BrandFactory()
    alice = _expert(session, brand, "Alice Martin", "alice.martin@example.com", "Alice")
    xavier = _expert(session, brand, "Xavier Durand", "xavier.durand@example.com", "Xavier")
    # A chat Alice answered, handed back to the queue and answered by Xavier, who holds it now.
    shared = ConversationFactory(brand=brand, status=ConversationStatus.CLOSED, expert=xavier.profile,
                                 rating=2, rating_comment="Slow help")
    OfferFactory(brand=brand, expert=alice.profile, conversation=shared, status=OfferStatus.ACCEPTED)
    OfferFactory(brand=brand, expert=xavier.profile, conversation=shared, status=OfferStatus.ACCEPTED)
    MessageFactory(conversation=shared, body="Visitor asks first")
    MessageFactory(conversation=shared, sender=Sender.EXPERT, author_id=alice.user.id, body="First expert answers")
    MessageFactory(conversation=shared, body="Visitor writes again later")
    MessageFactory(conversation=shared, sender=Sender.EXPERT, author_id=xavier.user.id, body="Second expert answers")
    # Alice's own rated chat, and Xavier's.
    own = ConversationFactory(brand=brand, expert=alice.profile, rating=5, rating_comment="Great help")
    MessageFactory(conversation=own, body="Visitor says thanks")
    xaviers = ConversationFactory(brand=brand, expert=xavier.profile, rating=4, rating_comment="Only about the second")
    for person in (alice, xavier):
        EarningFactory(brand=brand, expert=person.profile)
        slot = ShiftSlotFactory(brand_id=brand.id)
        ShiftBookingFactory(slot_id=slot.id, expert_id=person.profile.id)
    finance = UserFactory(role=Role.FINANCE)
    record_audit("payout_details_read", actor_id=finance.id, subject_id=alice.user.id, expert_id=alice.profile.id)
    record_audit("payout_details_read", actor_id=finance.id, subject_id=xavier.user.id, expert_id=xavier.profile.id)
    session.commit()
    return Floor(brand, alice, xavier, shared.id, {"alice": own.id, "xavier": xaviers.id})
