"""The shift settings: defaults, refusal of bad values at start-up, and the cut-off they set."""

from __future__ import annotations

import pytest

from marketplace.config import ConfigError, load_config
from marketplace.errors import Conflict
from marketplace.shifts import bookings
from marketplace.shifts.models import BookingStatus
from tests.shifts.conftest import slot_at


def test_defaults_are_an_hour_to_book_and_a_half_hour_reminder(tmp_path):
    config = load_config(tmp_path, {})
    assert (config["SHIFT_BOOKING_CUTOFF_MINUTES"], config["SHIFT_REMINDER_MINUTES"]) == (60, 30)


@pytest.mark.parametrize(("name", "value", "message"), [
    ("SHIFT_BOOKING_CUTOFF_MINUTES", "an hour", "SHIFT_BOOKING_CUTOFF_MINUTES must be a whole number"),
    ("SHIFT_BOOKING_CUTOFF_MINUTES", "-5", "SHIFT_BOOKING_CUTOFF_MINUTES must be at least 0"),
    ("SHIFT_REMINDER_MINUTES", "0", "SHIFT_REMINDER_MINUTES must be at least 1"),
])
def test_bad_values_stop_start_up_naming_the_setting(tmp_path, name, value, message):
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path, {name: value})


def test_the_cutoff_setting_decides_how_late_experts_may_book(app, session, scene, monkeypatch):
    slot = slot_at(scene.brand.id, 0.5)
    session.commit()
    with pytest.raises(Conflict, match="60 minutes"):
        bookings.book_slot(scene.expert, slot.id)
    monkeypatch.setitem(app.config, "SHIFT_BOOKING_CUTOFF_MINUTES", 15)
    assert bookings.book_slot(scene.expert, slot.id).status == BookingStatus.BOOKED
