"""What the API shows of shift slots and bookings, and what it accepts. Times are ISO 8601 with their offset."""

from marshmallow import fields, validate

from marketplace.shifts.bookings import FIRST_WEEK_START, LAST_WEEK_START
from marketplace.shifts.slots import MAX_BONUS_CENTS, MAX_HEADCOUNT
from marketplace.web.schemas import Schema


class SlotCreateSchema(Schema):
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    headcount = fields.Integer(required=True, strict=True, validate=validate.Range(1, MAX_HEADCOUNT))
    bonus_cents = fields.Integer(load_default=0, strict=True, validate=validate.Range(0, MAX_BONUS_CENTS),
                                 metadata={"description": "In the brand currency's minor units (cents)."})


class WindowQuery(Schema):
    """A stretch of time; the service refuses an end before the start or a window too long."""

    start = fields.AwareDateTime()
    end = fields.AwareDateTime()


class WeekQuery(Schema):
    week = fields.Date(validate=validate.Range(FIRST_WEEK_START, LAST_WEEK_START),
                       metadata={"description": "The first of the seven days wanted, any weekday; default: today."})


class BookedExpertSchema(Schema):
    expert_id = fields.Integer(attribute="booking.expert_id", dump_only=True)
    display_name = fields.String(dump_only=True)
    booked_at = fields.AwareDateTime(attribute="booking.booked_at", dump_only=True)
    attendance = fields.String(attribute="booking.attendance", dump_only=True)
    attended_at = fields.AwareDateTime(attribute="booking.attended_at", dump_only=True, allow_none=True)


class SlotSchema(Schema):
    id = fields.Integer(dump_only=True)
    brand_id = fields.Integer(dump_only=True)
    starts_at = fields.AwareDateTime(dump_only=True)
    ends_at = fields.AwareDateTime(dump_only=True)
    headcount = fields.Integer(dump_only=True)
    booked_count = fields.Integer(dump_only=True)
    bonus_cents = fields.Integer(dump_only=True)
    source = fields.String(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    cancelled_at = fields.AwareDateTime(dump_only=True, allow_none=True)


class BrandSlotSchema(SlotSchema):
    """A slot as its brand sees it, with the experts who booked it."""

    id = fields.Integer(attribute="slot.id", dump_only=True)
    brand_id = fields.Integer(attribute="slot.brand_id", dump_only=True)
    starts_at = fields.AwareDateTime(attribute="slot.starts_at", dump_only=True)
    ends_at = fields.AwareDateTime(attribute="slot.ends_at", dump_only=True)
    headcount = fields.Integer(attribute="slot.headcount", dump_only=True)
    booked_count = fields.Integer(attribute="slot.booked_count", dump_only=True)
    bonus_cents = fields.Integer(attribute="slot.bonus_cents", dump_only=True)
    source = fields.String(attribute="slot.source", dump_only=True)
    created_at = fields.AwareDateTime(attribute="slot.created_at", dump_only=True)
    cancelled_at = fields.AwareDateTime(attribute="slot.cancelled_at", dump_only=True, allow_none=True)
    bookings = fields.List(fields.Nested(BookedExpertSchema), dump_only=True)


class ExpertSlotSchema(Schema):
    """A slot as an expert sees it: seats left, whether they hold one, what they may do, or why not."""

    id = fields.Integer(attribute="slot.id", dump_only=True)
    brand_id = fields.Integer(attribute="brand.id", dump_only=True)
    brand_name = fields.String(attribute="brand.name", dump_only=True)
    timezone = fields.String(attribute="brand.timezone", dump_only=True)
    currency = fields.String(attribute="brand.currency", dump_only=True)
    day = fields.Date(dump_only=True, metadata={"description": "The day in the brand's time zone."})
    starts_at = fields.AwareDateTime(attribute="slot.starts_at", dump_only=True)
    ends_at = fields.AwareDateTime(attribute="slot.ends_at", dump_only=True)
    bonus_cents = fields.Integer(attribute="slot.bonus_cents", dump_only=True)
    seats_left = fields.Integer(dump_only=True)
    booked = fields.Boolean(dump_only=True)
    can_book = fields.Boolean(dump_only=True)
    can_cancel = fields.Boolean(dump_only=True)
    reason = fields.String(dump_only=True, allow_none=True)


class ExpertWeekSchema(Schema):
    week_start = fields.Date(dump_only=True, metadata={"description": "The first of the seven days."})
    slots = fields.List(fields.Nested(ExpertSlotSchema), dump_only=True)


class BookingSchema(Schema):
    id = fields.Integer(dump_only=True)
    slot_id = fields.Integer(dump_only=True)
    status = fields.String(dump_only=True)
    attendance = fields.String(dump_only=True)
    booked_at = fields.AwareDateTime(dump_only=True)
    cancelled_at = fields.AwareDateTime(dump_only=True, allow_none=True)


class ExpertBookingSchema(Schema):
    """One of the caller's bookings, with its slot and brand."""

    id = fields.Integer(attribute="booking.id", dump_only=True)
    slot_id = fields.Integer(attribute="slot.id", dump_only=True)
    brand_id = fields.Integer(attribute="brand.id", dump_only=True)
    brand_name = fields.String(attribute="brand.name", dump_only=True)
    timezone = fields.String(attribute="brand.timezone", dump_only=True)
    starts_at = fields.AwareDateTime(attribute="slot.starts_at", dump_only=True)
    ends_at = fields.AwareDateTime(attribute="slot.ends_at", dump_only=True)
    bonus_cents = fields.Integer(attribute="slot.bonus_cents", dump_only=True)
    currency = fields.String(attribute="brand.currency", dump_only=True)
    status = fields.String(attribute="booking.status", dump_only=True)
    attendance = fields.String(attribute="booking.attendance", dump_only=True)
