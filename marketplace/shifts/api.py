"""JSON API for shifts: experts book and cancel seats; brands publish, list and cancel slots."""

from __future__ import annotations

import datetime as dt

from flask_babel import to_user_timezone

from marketplace.accounts.models import Role
from marketplace.database import utcnow
from marketplace.shifts import bookings, slots
from marketplace.shifts.schemas import (
    BookingSchema,
    BrandSlotSchema,
    ExpertBookingSchema,
    ExpertWeekSchema,
    SlotCreateSchema,
    SlotSchema,
    WeekQuery,
    WindowQuery,
)
from marketplace.web.api import api_blueprint, endpoint

blueprint = api_blueprint("shifts_api", __name__)
EXPERT = [Role.EXPERT]
BRAND_PEOPLE = [Role.OPS, Role.BRAND]
DEFAULT_DAYS = 28


def _window(query: dict, back: dt.timedelta) -> tuple[dt.datetime, dt.datetime]:
    start = query.get("start") or utcnow() - back
    return start, query.get("end") or start + dt.timedelta(days=DEFAULT_DAYS)


@blueprint.get("/shifts/slots")
@endpoint("Slots of the brands that approved the calling expert, for the seven days from ?week=YYYY-MM-DD "
          "(default: today)", roles=EXPERT, query=WeekQuery(), response=ExpertWeekSchema(), tags=["shifts"])
def expert_week(actor, query):
    return bookings.open_slots_for_expert(actor, query.get("week") or to_user_timezone(utcnow()).date())


@blueprint.get("/shifts/bookings")
@endpoint("The calling expert's bookings overlapping ?start= and ?end= (default: from today, 28 days)",
          roles=EXPERT, query=WindowQuery(), response=ExpertBookingSchema(many=True), tags=["shifts"])
def expert_bookings(actor, query):
    return bookings.bookings_for_expert(actor, *_window(query, dt.timedelta(hours=slots.MAX_SHIFT_HOURS)))


@blueprint.post("/shifts/slots/<int:slot_id>/booking")
@endpoint("Book a seat in a slot", roles=EXPERT, response=BookingSchema(), status=201, tags=["shifts"], errors=[409])
def book(actor, slot_id: int):
    return bookings.book_slot(actor, slot_id)


@blueprint.delete("/shifts/slots/<int:slot_id>/booking")
@endpoint("Cancel the calling expert's booking of a slot", roles=EXPERT, response=BookingSchema(), tags=["shifts"],
          errors=[409])
def cancel_booking(actor, slot_id: int):
    return bookings.cancel_booking(actor, slot_id)


@blueprint.get("/brands/<int:brand_id>/shift-slots")
@endpoint("The brand's slots with their bookings, overlapping ?start= and ?end= (default: from now, 28 days)",
          roles=BRAND_PEOPLE, query=WindowQuery(), response=BrandSlotSchema(many=True), tags=["shifts", "brands"])
def brand_slots(actor, brand_id: int, query):
    return slots.brand_slots(actor, brand_id, *_window(query, dt.timedelta()))


@blueprint.post("/brands/<int:brand_id>/shift-slots")
@endpoint("Publish a slot (the brand's admins, ops)", roles=BRAND_PEOPLE, body=SlotCreateSchema(),
          response=SlotSchema(), status=201, tags=["shifts", "brands"])
def publish_slot(actor, brand_id: int, body):
    return slots.publish_slot(actor, brand_id, body["starts_at"], body["ends_at"], body["headcount"],
                              body["bonus_cents"])


@blueprint.delete("/brands/<int:brand_id>/shift-slots/<int:slot_id>")
@endpoint("Cancel a slot that has not started; its experts are told (the brand's admins, ops)",
          roles=BRAND_PEOPLE, response=SlotSchema(), tags=["shifts", "brands"], errors=[409])
def cancel_slot(actor, brand_id: int, slot_id: int):
    return slots.cancel_slot(actor, brand_id, slot_id)
