"""factory_boy factories writing through the app's session."""

from __future__ import annotations

import datetime as dt

import factory
from factory.alchemy import SQLAlchemyModelFactory

from marketplace.accounts.models import Role, User
from marketplace.accounts.passwords import hash_password
from marketplace.brands.models import Brand, BrandMembership, BrandRole, RateCard
from marketplace.database import db, utcnow
from marketplace.experts.models import Enrolment, EnrolmentStatus, ExpertProfile, ExpertStatus
from marketplace.shifts.models import BookingStatus, ShiftBooking, ShiftSlot

PASSWORD = "correct-horse-battery"
_PASSWORD_HASH = hash_password(PASSWORD)  # argon2 is slow on purpose: hash once for all tests


class Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        # Committed (a released savepoint inside the test's rolled-back transaction), as the rows a service
        # finds in production are: a service that refuses rolls its own work back, not the test's data.
        sqlalchemy_session_persistence = "commit"


class UserFactory(Base):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    role = Role.EXPERT
    password_hash = _PASSWORD_HASH


class BrandFactory(Base):
    class Meta:
        model = Brand

    name = factory.Sequence(lambda n: f"Brand {n}")
    slug = factory.Sequence(lambda n: f"brand-{n}")
    timezone = "Europe/Paris"
    currency = "EUR"

    @factory.post_generation
    def price_cents(brand, create, extracted, **kwargs):  # noqa: N805 - factory_boy passes the object
        """Every brand has a rate card, in effect since long ago; `price_cents=` sets its price (200)."""
        db.session.add(RateCard(brand_id=brand.id, effective_from=dt.date(2000, 1, 1),
                                price_cents=200 if extracted is None else extracted, commission_bps=2000,
                                bonus_rules=[]))
        db.session.flush()


class MembershipFactory(Base):
    class Meta:
        model = BrandMembership

    brand = factory.SubFactory(BrandFactory)
    user_id = factory.LazyFunction(lambda: UserFactory(role=Role.BRAND).id)
    role = BrandRole.ADMIN


class ExpertFactory(Base):
    class Meta:
        model = ExpertProfile

    user_id = factory.LazyFunction(lambda: UserFactory(role=Role.EXPERT).id)
    display_name = factory.Faker("first_name")
    status = ExpertStatus.APPLIED


class ApprovedExpertFactory(ExpertFactory):
    status = ExpertStatus.APPROVED
    languages = factory.LazyFunction(lambda: ["fr", "en"])


class EnrolmentFactory(Base):
    """An expert's enrolment with a brand; approved unless told otherwise."""

    class Meta:
        model = Enrolment

    expert = factory.SubFactory(ApprovedExpertFactory)
    brand_id = factory.LazyFunction(lambda: BrandFactory().id)
    status = EnrolmentStatus.APPROVED


class ShiftSlotFactory(Base):
    """An open slot starting tomorrow at 10:00 UTC for two hours."""

    class Meta:
        model = ShiftSlot

    brand_id = factory.LazyFunction(lambda: BrandFactory().id)
    starts_at = factory.LazyFunction(
        lambda: (utcnow() + dt.timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    )
    ends_at = factory.LazyAttribute(lambda slot: slot.starts_at + dt.timedelta(hours=2))
    headcount = 2
    bonus_cents = 0


class ShiftBookingFactory(Base):
    """An expert's seat in a slot (a new slot and approved expert unless given); a booked seat counts in the slot."""

    class Meta:
        model = ShiftBooking

    slot_id = factory.LazyFunction(lambda: ShiftSlotFactory().id)
    expert_id = factory.LazyFunction(lambda: ApprovedExpertFactory().id)
    status = BookingStatus.BOOKED

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        booking = super()._create(model_class, *args, **kwargs)
        if booking.status == BookingStatus.BOOKED:
            db.session.get(ShiftSlot, booking.slot_id).booked_count += 1
            db.session.flush()
        return booking
