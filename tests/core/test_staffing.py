"""Staffing math: DESIGN's reference values, and Erlang C and A against a Markov chain solved numerically.

The chain below shares nothing with `core/staffing.py` but the model: its stationary distribution comes from
solving the truncated generator as a linear system, and a waiting visitor's chance of an answer within t
from uniformisation of their own absorbing chain (places ahead of them, answered, gone), so neither the
Erlang B recursion nor the negative binomial closed form is used to check itself.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import astuple

import numpy as np
import pytest

from marketplace.core.staffing import MAX_EXPERTS, Queue, erlang_a, erlang_c, erlang_c_sweep, staff, staff_intervals


def markov_measures(lam: float, mu: float, theta: float, servers: int, t: float) -> dict[str, float]:
    """Service level, abandonment, P(wait) and mean queue wait of M/M/n+M from the chain itself."""
    if theta > 0:
        places = int(max(0.0, (lam - servers * mu) / theta) + 16 * math.sqrt(lam / theta + 1) + 40)
    else:
        rho = lam / (servers * mu)
        places = int(math.log(1e-16) / math.log(rho)) + 40 if rho > 0 else 40
    size = servers + places + 1
    generator = np.zeros((size, size))
    for state in range(size):
        if state + 1 < size:
            generator[state, state + 1] = lam
        if state > 0:
            generator[state, state - 1] = min(state, servers) * mu + max(state - servers, 0) * theta
        generator[state, state] = -generator[state].sum()
    # πQ = 0 with Σπ = 1: replace one balance equation by the normalisation.
    system = generator.T.copy()
    system[-1, :] = 1.0
    right = np.zeros(size)
    right[-1] = 1.0
    stationary = np.linalg.solve(system, right)

    # A visitor with i ahead: states 0..places-1 (places ahead), then answered, then gone.
    answered, gone = places, places + 1
    tagged = np.zeros((places + 2, places + 2))
    for ahead in range(places):
        move = servers * mu + ahead * theta
        tagged[ahead, ahead - 1 if ahead > 0 else answered] += move
        tagged[ahead, gone] += theta
        tagged[ahead, ahead] = -(move + theta)
    rate = max(-tagged.diagonal().min(), 1e-12)
    step = np.eye(places + 2) + tagged / rate
    # P(answered by t | start) = Σ_k Poisson(k; rate·t) (P^k 1_answered)(start)
    vector = np.zeros(places + 2)
    vector[answered] = 1.0
    mean = rate * t
    by_t = np.zeros(places + 2)
    weight = math.exp(-mean) if mean < 700 else 0.0
    log_weight = -mean
    for k in range(int(mean + 12 * math.sqrt(mean + 1) + 40) if mean > 0 else 1):
        if k > 0:
            vector = step @ vector
            log_weight += math.log(mean) - math.log(k)
            weight = math.exp(log_weight)
        by_t += weight * vector
    # Eventually answered: absorption probabilities, from the linear system of the transient part.
    transient = tagged[:places, :places]
    eventually = np.linalg.solve(-transient, tagged[:places, answered])

    arriving_busy = stationary[servers:servers + places]  # an arrival finds every server busy, i ahead
    queue_length = sum(i * p for i, p in enumerate(stationary[servers:]))
    return {
        "service_level": stationary[:servers].sum() + (arriving_busy * by_t[:places]).sum(),
        "abandon_rate": (arriving_busy * (1 - eventually)).sum(),
        "wait_probability": stationary[servers:].sum(),
        "asa_s": queue_length / lam,
    }


def test_design_reference_erlang_c_100_arrivals_per_half_hour():
    plan = staff(100, 1800, 180, 1, 0.80, 20)
    assert plan.experts == 14
    assert round(plan.service_level, 4) == 0.8884
    assert round(plan.wait_probability, 4) == 0.1741
    assert round(plan.asa_s, 2) == 7.84
    assert round(erlang_c(Queue(100 / 1800, 1 / 180), 13, 20).service_level, 4) == 0.7956


def test_design_reference_three_chats_at_once():
    plan = staff(120, 900, 600, 3, 0.80, 60)
    assert plan.experts == 29
    assert round(plan.service_level, 4) == 0.8317
    assert staff(120, 900, 600, 3, 0.80, 60).experts * 3 == 87


def test_empty_intervals_need_nobody():
    assert staff(0, 900, 300, 3, 0.8, 60).experts == 0
    assert staff(0, 900, 300, 3, 0.8, 60, patience_s=60, max_abandon=0.05).experts == 0
    assert [p.experts for p in staff_intervals([0, 0, 0], 900, 300, 3, 0.8, 60)] == [0, 0, 0]


def test_overload_is_staffed_not_raised():
    heavy = staff(100_000, 900, 600, 3, 0.8, 60)
    assert heavy.experts > 100_000 * 600 / 900 / 3  # more slots than the offered load, so the queue is stable
    assert heavy.service_level >= 0.8
    assert staff(10**9, 900, 600, 3, 0.8, 60).experts == MAX_EXPERTS  # beyond any plan: capped, not raised
    with_patience = staff(50_000, 900, 600, 3, 0.8, 60, patience_s=30, max_abandon=0.05)
    assert with_patience.service_level >= 0.8 and with_patience.abandon_rate <= 0.05
    assert erlang_c(Queue(1.0, 0.1), 5, 20).service_level == 0.0  # 10 Erlangs on 5 slots: unstable, no error
    unreachable = staff(100, 900, 300, 1, 0.999999999, 0)  # only an absurd number of experts would do
    assert unreachable.experts <= MAX_EXPERTS


def test_a_looser_target_or_more_patience_never_needs_more_experts():
    base = staff(200, 900, 400, 2, 0.8, 60).experts
    assert staff(200, 900, 400, 2, 0.7, 60).experts <= base
    assert staff(200, 900, 400, 2, 0.8, 120).experts <= base
    assert staff(200, 900, 400, 2, 0.9, 60).experts >= base
    # Counting early leavers as failures, a stricter abandonment cap never lowers the answer.
    loose = staff(200, 900, 400, 2, 0.8, 60, patience_s=120, max_abandon=0.10).experts
    strict = staff(200, 900, 400, 2, 0.8, 60, patience_s=120, max_abandon=0.01).experts
    assert strict >= loose


def test_the_answer_is_the_fewest_experts_meeting_both_targets():
    for arrivals, patience in [(40, None), (150, 90), (400, 30), (7, 300)]:
        plan = staff(arrivals, 900, 420, 3, 0.85, 45, patience_s=patience, max_abandon=0.04 if patience else None)
        queue = Queue(arrivals / 900, 1 / 420, 1 / patience if patience else 0.0)
        fewer = erlang_a(queue, (plan.experts - 1) * 3, 45)
        assert fewer.service_level < 0.85 or (patience and fewer.abandon_rate > 0.04)


def test_bad_parameters_are_refused_naming_them():
    for kwargs, name in [({"handle_s": 0}, "handle_s"), ({"concurrency": 0}, "concurrency"),
                         ({"target_sl": 1.0}, "target_sl"), ({"answer_within_s": -1}, "answer_within_s"),
                         ({"patience_s": 0}, "patience_s"), ({"max_abandon": 0}, "max_abandon"),
                         ({"interval_s": 0}, "interval_s")]:
        arguments = {"arrivals": 10, "interval_s": 900, "handle_s": 300, "concurrency": 2, "target_sl": 0.8,
                     "answer_within_s": 60, **kwargs}
        with pytest.raises(ValueError, match=name):
            staff(**arguments)


def test_the_day_sweep_gives_the_same_answers_as_one_interval_at_a_time():
    day = [0, 0.4, 3, 12.5, 40, 87, 133.3, 260, 512, 0]
    swept = staff_intervals(day, 900, 480, 3, 0.8, 60)
    for one, by_sweep in zip([staff(a, 900, 480, 3, 0.8, 60) for a in day], swept, strict=True):
        assert by_sweep.experts == one.experts
        assert astuple(by_sweep) == pytest.approx(astuple(one), rel=1e-12), (one, by_sweep)
    # Many brands at once, each interval with its own parameters, as the planner's sweep over the network.
    mixed = erlang_c_sweep([40, 40, 0, 300], 900, [480, 240, 480, 600], [3, 1, 2, 4], [0.8, 0.9, 0.8, 0.7],
                           [60, 20, 60, 120])
    assert [p.experts for p in mixed] == [staff(40, 900, 480, 3, 0.8, 60).experts,
                                          staff(40, 900, 240, 1, 0.9, 20).experts, 0,
                                          staff(300, 900, 600, 4, 0.7, 120).experts]
    patient = staff_intervals(day, 900, 480, 3, 0.8, 60, patience_s=120, max_abandon=0.05)
    assert patient == [staff(a, 900, 480, 3, 0.8, 60, patience_s=120, max_abandon=0.05) for a in day]


def grid_cases() -> list[tuple[float, float, float, int, float]]:
    """(λ, μ, θ, servers, t): 540 cases from light to overloaded, with and without patience."""
    cases = []
    rng = random.Random(20261129)
    for load, theta_patience, t in itertools.product(
            (0.3, 1.5, 4.0, 9.0, 16.0, 27.0), (None, 20.0, 90.0, 400.0), (0.0, 15.0, 60.0)):
        for _ in range(7 if theta_patience else 9):
            handle = rng.choice((60.0, 180.0, 420.0, 900.0))
            servers = max(1, int(load * rng.uniform(0.6 if theta_patience else 1.02, 1.6)) + rng.randint(0, 2))
            if theta_patience is None and servers <= load:
                servers = int(load) + 1
            cases.append((load / handle, 1 / handle, 1 / theta_patience if theta_patience else 0.0, servers, t))
    return cases


def test_the_grid_has_at_least_500_cases():
    assert len(grid_cases()) >= 500


@pytest.mark.parametrize("chunk", range(6))
def test_erlang_c_and_a_agree_with_the_markov_chain_on_the_grid(chunk):
    cases = grid_cases()[chunk::6]
    for lam, mu, theta, servers, t in cases:
        closed = erlang_a(Queue(lam, mu, theta), servers, t)
        chain = markov_measures(lam, mu, theta, servers, t)
        case = (lam, mu, theta, servers, t)
        assert closed.service_level == pytest.approx(chain["service_level"], abs=1e-7), case
        assert closed.abandon_rate == pytest.approx(chain["abandon_rate"], abs=1e-7), case
        assert closed.wait_probability == pytest.approx(chain["wait_probability"], abs=1e-7), case
        assert closed.asa_s == pytest.approx(chain["asa_s"], rel=1e-6, abs=1e-6), case
