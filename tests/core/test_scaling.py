"""The scaling loop's rules as plain values (DESIGN section 5)."""

from __future__ import annotations

import datetime as dt

from marketplace.core.scaling import (
    WINDOW,
    Candidate,
    Online,
    acceptance_rate,
    decide,
    desired_experts,
    invitation_order,
    invitations_needed,
    release_order,
)

NOW = dt.datetime(2026, 11, 29, 18, 0, tzinfo=dt.UTC)


def minutes_ago(minutes: float) -> dt.datetime:
    return NOW - dt.timedelta(minutes=minutes)


def test_desired_is_the_largest_requirement_over_the_lead_time_within_the_cap():
    assert desired_experts([2, 5, 3]) == 5
    assert desired_experts([2, 5, 3], cap=4) == 4
    assert desired_experts([]) == 0


def test_invitations_follow_design_formula():
    # ceil((desired - online - p*pending) / p)
    assert invitations_needed(10, 4, 2, 0.5) == 10  # (10 - 4 - 1) / 0.5 = 10
    assert invitations_needed(10, 4, 0, 0.8) == 8  # 6 / 0.8 = 7.5 -> 8
    assert invitations_needed(5, 5, 0, 0.5) == 0
    assert invitations_needed(5, 2, 6, 0.5) == 0  # three expected from those already invited
    assert invitations_needed(3, 0, 0, 0.0) == 60  # a brand nobody answers still invites a bounded number


def test_acceptance_is_smoothed_towards_one_in_two():
    assert acceptance_rate(0, 0) == 0.5
    assert acceptance_rate(8, 10) == 0.75
    assert acceptance_rate(0, 100) == 0.05  # the floor


def test_scaling_up_is_immediate():
    decision = decide(NOW, 4, [], online=1, pending=0, acceptance=1.0)
    assert (decision.invite, decision.release) == (3, 0)


def test_scaling_down_waits_for_a_whole_window_of_surplus():
    assert decide(NOW, 1, [(minutes_ago(5), 1)], online=3, pending=0, acceptance=1.0).release == 0
    calm = [(minutes_ago(16), 1), (minutes_ago(10), 1), (minutes_ago(1), 1)]
    assert decide(NOW, 1, calm, online=3, pending=0, acceptance=1.0).release == 2


def test_a_peak_inside_the_window_holds_the_pool():
    recent = [(minutes_ago(20), 1), (minutes_ago(8), 3), (minutes_ago(2), 1)]
    assert decide(NOW, 1, recent, online=3, pending=0, acceptance=1.0).release == 0
    assert decide(NOW, 1, recent, online=4, pending=0, acceptance=1.0).release == 1


def test_a_gap_between_runs_is_not_taken_for_a_calm():
    # The last run, 16 minutes ago, wanted 3: that need held until now, so nobody goes.
    assert decide(NOW, 0, [(minutes_ago(16), 3)], online=3, pending=0, acceptance=1.0).release == 0


def test_invitations_go_to_the_likeliest_to_accept_and_best_rated_never_to_the_just_released():
    steady = Candidate(1, invitations_answered=10, invitations_accepted=9, rating_sum=45, ratings=10)
    unknown = Candidate(2)
    flaky = Candidate(3, invitations_answered=10, invitations_accepted=1, rating_sum=50, ratings=10)
    released = Candidate(4, invitations_answered=10, invitations_accepted=10, released_at=minutes_ago(10))
    rested = Candidate(5, invitations_answered=10, invitations_accepted=10, released_at=NOW - WINDOW)
    order = [c.expert_id for c in invitation_order([flaky, unknown, released, steady, rested], NOW)]
    assert order == [5, 1, 2, 3]


def test_the_least_loaded_go_first_and_booked_or_new_experts_stay():
    pool = [Online(1, 2, minutes_ago(60)), Online(2, 0, minutes_ago(30)), Online(3, 0, minutes_ago(90)),
            Online(4, 0, minutes_ago(120), releasable=False)]
    assert [o.expert_id for o in release_order(pool)] == [3, 2, 1]
