"""Factories of shifts: open slots and the experts' bookings of them."""

from __future__ import annotations

import datetime as dt

import factory

from marketplace.database import db, utcnow
from marketplace.shifts.models import BookingStatus, ShiftBooking, ShiftSlot
from tests.factories.base import Base
from tests.factories.brands import BrandFactory
from tests.factories.experts import ApprovedExpertFactory


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
