"""`marketplace simulate`: a simulated day through the planner's and the router's rules, beside an oracle.

It needs neither a database nor the app: the command is registered without an app context.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from marketplace.core.scenario import Scenario, ScenarioError, scenario_from_dict
from marketplace.core.simulation.day import DayReport, simulate_day

DEFAULT_SCENARIO = Path(__file__).parent / "scenarios" / "default.json"


def load_scenario(path: Path) -> Scenario:
    """Read and check a scenario file; raise ScenarioError naming what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError("scenario", f"cannot read {path}: {getattr(error, 'strerror', None) or error}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ScenarioError("scenario", f"{path.name} is not JSON ({error.msg} at line {error.lineno}, "
                                        f"column {error.colno})") from None
    return scenario_from_dict(data)


def summary(report: DayReport) -> str:
    """A few lines for a person: the planner beside the oracle, and each criterion."""
    planner, oracle, criteria = report.planner, report.oracle, report.criteria()

    def verdict(name: str) -> str:
        return "met" if criteria[name]["met"] else "NOT MET"

    sl, hours = criteria["service_level"], criteria["expert_hours_ratio"]
    return "\n".join([
        f"Scenario {report.scenario.name!r}, seed {report.seed}: {planner.arrivals} chats, "
        f"target {report.scenario.target_sl:.0%} within {report.scenario.answer_within_s:g} s.",
        f"{'':22}{'planner':>10}{'oracle':>10}",
        f"{'service level':22}{planner.service_level:>10.3f}{oracle.service_level:>10.3f}"
        f"   at least {sl['at_least']:.2f}: {verdict('service_level')}",
        f"{'abandonment':22}{planner.abandon_rate:>10.3f}{oracle.abandon_rate:>10.3f}",
        f"{'expert-hours':22}{planner.expert_hours:>10.1f}{oracle.expert_hours:>10.1f}"
        f"   ratio {hours['value']:.3f}, at most {hours['at_most']:.2f}: {verdict('expert_hours_ratio')}",
        f"{'invitations sent':22}{planner.invitations_sent:>10}{oracle.invitations_sent:>10}"
        f"   {planner.invitations_accepted} accepted, measured acceptance {planner.acceptance_measured:.2f}",
        f"{'flaps':22}{planner.flaps:>10}{oracle.flaps:>10}   none allowed: {verdict('flaps')}",
        "",
        *chart(report),
    ])


def chart(report: DayReport) -> list[str]:
    """Hour by hour: experts the day needed (#) against those the planner had online (=), at the busiest quarter."""
    lines = ["hour   needed  online (# needed, = online)"]
    per_hour = 4
    for start in range(0, len(report.exact_requirement), per_hour):
        needed = max(report.exact_requirement[start:start + per_hour])
        online = max(report.planner_online[start:start + per_hour], default=0)
        lines.append(f"{start // per_hour % 24:02d}:00 {needed:>6} {online:>7}  {'#' * needed}")
        lines.append(f"{'':22}{'=' * online}")
    return lines


@click.command("simulate")
@click.option("--seed", default=7, show_default=True, help="Seed of the day's dice: the same seed, the same day.")
@click.option("--scenario", "scenario_path", type=click.Path(dir_okay=False, path_type=Path),
              help="A scenario JSON file (format: marketplace/core/scenario.py); default: the built-in day.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a summary.")
def simulate(seed: int, scenario_path: Path | None, as_json: bool) -> None:
    """Simulate a day of chats staffed by the capacity planner, beside an oracle that staffs exactly."""
    try:
        scenario = load_scenario(scenario_path or DEFAULT_SCENARIO)
    except ScenarioError as error:
        raise click.BadParameter(str(error), param_hint="--scenario") from None
    report = simulate_day(scenario, seed)
    click.echo(json.dumps(report.to_dict()) if as_json else summary(report))
