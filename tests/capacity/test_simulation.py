"""The simulated day: steady intervals against Erlang C and A, the default day against the criteria, the CLI."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo

from marketplace.capacity.simulation_cli import DEFAULT_SCENARIO, load_scenario
from marketplace.cli import cli
from marketplace.core.scenario import ScenarioError, scenario_from_dict
from marketplace.core.simulation.day import simulate_day
from marketplace.core.simulation.floor import Chat, Events, Expert, Floor, count_flaps
from marketplace.core.simulation.steady import simulate_steady
from marketplace.core.staffing import Queue, erlang_a, staff


@pytest.fixture(scope="module")
def default_scenario():
    return load_scenario(DEFAULT_SCENARIO)


def test_a_steady_interval_answers_as_erlang_c_predicts():
    # DESIGN's reference: 100 arrivals per 30 min, 180 s handle, 14 servers, 80 % in 20 s -> 0.8884, P(wait) 0.1741.
    run = simulate_steady(100, 1800, 180, concurrency=1, experts=14, answer_within_s=20, hours=300, seed=1)
    assert run.arrivals > 55_000
    assert run.service_level == pytest.approx(0.8884, abs=0.02)
    assert run.wait_probability == pytest.approx(0.1741, abs=0.02)
    assert run.abandoned == 0


def test_a_steady_interval_with_patience_answers_as_erlang_a_predicts():
    model = erlang_a(Queue(100 / 1800, 1 / 180, 1 / 60), 12, 20)
    run = simulate_steady(100, 1800, 180, concurrency=1, experts=12, answer_within_s=20, patience_s=60, hours=300,
                          seed=1)
    assert run.service_level == pytest.approx(model.service_level, abs=0.02)
    assert run.abandon_rate == pytest.approx(model.abandon_rate, abs=0.01)


def test_experts_holding_three_chats_answer_as_the_planner_predicts():
    # A busy interval of the default day: 60 chats per 15 min, 10 min per chat, k = 3, patience 10 min.
    plan = staff(60, 900, 600, 3, 0.8, 60, patience_s=600, max_abandon=0.05)
    run = simulate_steady(60, 900, 600, concurrency=3, experts=plan.experts, answer_within_s=60, patience_s=600,
                          hours=600, seed=1)
    assert run.service_level == pytest.approx(plan.service_level, abs=0.02)
    assert run.abandon_rate == pytest.approx(plan.abandon_rate, abs=0.01)


@pytest.mark.parametrize("seed", [7, 1, 2, 3])
def test_the_default_day_meets_the_issue_criteria(default_scenario, seed):
    report = simulate_day(default_scenario, seed)
    planner, oracle = report.planner, report.oracle
    assert planner.arrivals == oracle.arrivals > 2500  # the same chats for both
    assert planner.service_level >= default_scenario.target_sl - 0.02
    assert planner.expert_hours <= 1.10 * oracle.expert_hours
    assert planner.flaps == 0
    assert planner.invitations_accepted > 30 and oracle.invitations_sent == 0
    assert all(criterion["met"] for criterion in report.criteria().values())


def test_the_day_by_interval_shows_the_oracle_exactly_staffed_and_the_planner_close_behind(default_scenario):
    report = simulate_day(default_scenario, 7)
    needed, planner, oracle = report.exact_requirement, report.planner_online, report.oracle_online
    assert len(needed) == len(planner) == len(oracle) == len(default_scenario.arrivals_per_interval)
    # The oracle has what each interval needs at its middle (a released expert may still finish a chat).
    assert all(have >= need for have, need in zip(oracle, needed, strict=True))
    assert sum(oracle) - sum(needed) < 0.10 * sum(needed)  # draining: chats last 10 minutes on average
    # The planner, who must invite and wait, is short in few intervals and never by much.
    short = [need - have for have, need in zip(planner, needed, strict=True) if have < need]
    assert len(short) <= len(needed) // 10 and max(short, default=0) <= 3


def test_the_same_seed_gives_the_same_day(default_scenario):
    first = json.dumps(simulate_day(default_scenario, 11).to_dict())
    assert json.dumps(simulate_day(default_scenario, 11).to_dict()) == first
    assert json.dumps(simulate_day(default_scenario, 12).to_dict()) != first


def test_forecast_noise_changes_the_plan_but_not_the_chats(default_scenario):
    noisy = scenario_from_dict({**json.loads(DEFAULT_SCENARIO.read_text()), "forecast_noise": 0.1})
    exact, off = simulate_day(default_scenario, 5), simulate_day(noisy, 5)
    assert off.planned_requirement != off.exact_requirement == exact.exact_requirement
    assert off.oracle == exact.oracle


def recorded(floor: Floor) -> list[tuple[int, int]]:
    """(chat, expert) of each assignment the floor makes from now on."""
    assignments: list[tuple[int, int]] = []
    assign = floor._assign

    def recording(chat: Chat, expert: Expert) -> None:
        assignments.append((chat.id, expert.id))
        assign(chat, expert)

    floor._assign = recording
    return assignments


def run_floor(concurrency: int, experts: int, chats: list[Chat]) -> list[tuple[int, int]]:
    events = Events()
    floor = Floor(events, concurrency=concurrency, answer_within_s=60, horizon_s=3600)
    assignments = recorded(floor)
    for expert_id in range(1, experts + 1):
        floor.join(Expert(expert_id))
    for chat in chats:
        events.at(chat.arrives_s, floor.arrive, chat)
    events.run()
    return assignments


def test_waiting_chats_go_by_priority_then_oldest():
    patient = 1e9
    chats = [Chat(0, 0.0, 100.0, patient), Chat(1, 1.0, 10.0, patient), Chat(2, 2.0, 10.0, patient, priority=1),
             Chat(3, 3.0, 10.0, patient)]
    assert [chat for chat, _ in run_floor(1, 1, chats)] == [0, 2, 1, 3]


def test_a_chat_goes_to_the_least_loaded_then_longest_idle_expert():
    patient = 1e9
    chats = [Chat(0, 0.0, 1000.0, patient), Chat(1, 1.0, 5.0, patient), Chat(2, 10.0, 1000.0, patient),
             Chat(3, 11.0, 1000.0, patient)]
    # 0: both idle, never offered: expert 1. 1: expert 2 holds nothing. 2: expert 2 finished chat 1 at 6 s and
    # holds nothing again. 3: both hold one; expert 1 was last offered a chat at 0 s, expert 2 at 10 s.
    assert run_floor(2, 2, chats) == [(0, 1), (1, 2), (2, 2), (3, 1)]


def test_a_visitor_not_answered_within_their_patience_is_abandoned():
    chats = [Chat(0, 0.0, 100.0, 1e9), Chat(1, 1.0, 10.0, 30.0), Chat(2, 2.0, 10.0, 1e9)]
    events = Events()
    floor = Floor(events, concurrency=1, answer_within_s=60, horizon_s=3600)
    floor.join(Expert(1))
    for chat in chats:
        events.at(chat.arrives_s, floor.arrive, chat)
    events.run()
    outcome = floor.outcome()
    assert (outcome.arrivals, outcome.answered, outcome.abandoned, outcome.answered_in_time) == (3, 2, 1, 1)


def test_flaps_are_releases_soon_after_coming_online_and_invitations_soon_after_a_release():
    minute = 60
    assert count_flaps([(0, 1, "online"), (15 * minute, 1, "released"), (30 * minute, 1, "invited")]) == 0
    assert count_flaps([(0, 1, "online"), (14 * minute, 1, "released")]) == 1
    assert count_flaps([(0, 1, "online"), (20 * minute, 1, "released"), (30 * minute, 1, "invited")]) == 1


@pytest.mark.parametrize(("change", "field"), [
    ({"arrivals_per_interval": [3, 2, -1]}, "arrivals_per_interval[2]"),
    ({"arrivals_per_interval": []}, "arrivals_per_interval"),
    ({"concurrency": 0}, "concurrency"),
    ({"concurrency": 2.5}, "concurrency"),
    ({"target_sl": 1.5}, "target_sl"),
    ({"patience_s": "long"}, "patience_s"),
    ({"handle": 600}, "handle"),
    ({"planner": {"lead_minutes": -1}}, "planner.lead_minutes"),
    ({"pool": {"acceptance": [0.9, 0.2]}}, "pool.acceptance"),
    ({"pool": {"accept_delay_minutes": [1, "six"]}}, "pool.accept_delay_minutes[1]"),
    ({"pool": {"sizes": 3}}, "pool.sizes"),
])
def test_a_bad_scenario_names_the_field(change, field):
    data = {**json.loads(DEFAULT_SCENARIO.read_text()), **change}
    with pytest.raises(ScenarioError) as raised:
        scenario_from_dict(data)
    assert raised.value.field == field
    assert str(raised.value).startswith(f"{field}: ")


def never_create_app():
    raise AssertionError("simulate must not need the app")


def invoke(*args: str):
    return CliRunner().invoke(cli, ["simulate", *args], obj=ScriptInfo(create_app=never_create_app))


def test_simulate_prints_one_json_object_without_an_app():
    result = invoke("--seed", "7", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)  # exactly one JSON document, nothing else on stdout
    assert report["seed"] == 7 and report["met"] is True
    assert set(report) >= {"planner", "oracle", "ratios", "targets", "criteria"}
    for figure in ("service_level", "abandon_rate", "expert_hours", "invitations_sent", "flaps"):
        assert figure in report["planner"] and figure in report["oracle"]
    assert report["ratios"]["expert_hours"] == report["criteria"]["expert_hours_ratio"]["value"] <= 1.10


def test_simulate_prints_a_summary_for_people():
    result = invoke("--seed", "7")
    assert result.exit_code == 0, result.output
    assert "service level" in result.output and "expert-hours" in result.output and "NOT MET" not in result.output
    assert "12:00" in result.output and "# needed, = online" in result.output  # the hour-by-hour chart


def test_simulate_refuses_a_bad_scenario_naming_the_field(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"arrivals_per_interval": [5, 10], "pool": {"acceptance": [0.9, 0.2]}}))
    result = invoke("--scenario", str(bad), "--json")
    assert result.exit_code == 2
    assert "pool.acceptance" in result.output and "Traceback" not in result.output
    broken = tmp_path / "broken.json"
    broken.write_text('{"arrivals_per_interval": [5, 10],}')
    result = invoke("--scenario", str(broken))
    assert result.exit_code == 2 and "broken.json is not JSON" in result.output and "line 1" in result.output
    result = invoke("--scenario", str(tmp_path / "missing.json"))
    assert result.exit_code == 2 and "cannot read" in result.output


def test_simulate_runs_a_short_scenario_from_a_file(tmp_path):
    short = tmp_path / "short.json"
    short.write_text(json.dumps({"name": "lunch", "arrivals_per_interval": [20, 40, 60, 60, 40, 20]}))
    result = invoke("--scenario", str(short), "--seed", "3", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["scenario"] == "lunch" and report["planner"]["arrivals"] == report["oracle"]["arrivals"] > 150
