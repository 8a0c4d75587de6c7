"""Named fault places: armed, they fail the given number of times, then never again."""

from __future__ import annotations

import pytest

from marketplace.shared import faults


@pytest.fixture(autouse=True)
def nothing_armed():
    faults.arm("place", 0)
    yield
    faults.arm("place", 0)


def test_an_unarmed_place_never_fails():
    for _ in range(3):
        faults.check("place")


def test_an_armed_place_fails_the_given_times_then_works_again():
    faults.arm("place", 2)
    for _ in range(2):
        with pytest.raises(faults.InjectedFault, match="place"):
            faults.check("place")
    faults.check("place")
    assert faults.armed()["place"] == 0
