"""Staffing for 500 brands x 96 quarter hours (DESIGN section 8): Erlang C <= 1 s, with abandonment <= 60 s.

    python benchmarks/planner.py --json          # one JSON object on stdout, progress on stderr
    python benchmarks/planner.py --quick --json  # 50 brands, for a smoke run

Each brand gets its own handle time, chats per expert, service-level target, patience and abandonment cap,
and a day of arrivals shaped like a shop's (quiet nights, a lunch and an evening peak) at its own volume,
from 0 to about 400 chats a quarter hour. Timed: Erlang C for every brand and interval in one sweep
(`erlang_c_sweep`), and Erlang A with each brand's patience (`staff_intervals`). Baselines in the same
run: Erlang C one interval at a time (`staff` per interval, no sweep), for the ratio, and one sweep per
brand (what `staff_intervals` does for one brand's day). All three must give the same answers.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import time

import benchlib
from benchlib import log

from marketplace.core.staffing import erlang_c_sweep, staff, staff_intervals

INTERVAL_S = 900


def day_shape(slot: int) -> float:
    """Relative demand of a quarter hour: night near zero, peaks at 12:30 and 20:00."""
    hour = slot / 4
    lunch = math.exp(-((hour - 12.5) / 1.5) ** 2)
    evening = 1.3 * math.exp(-((hour - 20.0) / 2.0) ** 2)
    day = 0.35 if 9 <= hour < 22 else 0.0
    return lunch + evening + day


def brands(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    made = []
    for _ in range(count):
        volume = rng.choice((0.0, 2.0, 8.0, 25.0, 60.0, 150.0, 300.0))  # chats a quarter hour at the peak
        made.append({
            "arrivals": [round(volume * day_shape(slot) * rng.uniform(0.85, 1.15), 2) for slot in range(96)],
            "handle_s": rng.uniform(240, 900),
            "concurrency": rng.randint(1, 4),
            "target_sl": rng.choice((0.7, 0.8, 0.9)),
            "answer_within_s": rng.choice((30, 60, 120)),
            "patience_s": rng.uniform(60, 600),
            "max_abandon": rng.choice((0.03, 0.05, 0.1)),
        })
    return made


def plan_all(every: list[dict], patience: bool) -> int:
    experts = 0
    for brand in every:
        plans = staff_intervals(brand["arrivals"], INTERVAL_S, brand["handle_s"], brand["concurrency"],
                                brand["target_sl"], brand["answer_within_s"],
                                brand["patience_s"] if patience else None, brand["max_abandon"] if patience else None)
        experts += sum(plan.experts for plan in plans)
    return experts


def network_sweep(every: list[dict]) -> int:
    """Every brand's every interval in one Erlang C sweep, as the planner's job runs it."""
    def column(name: str) -> list:
        return [brand[name] for brand in every for _ in brand["arrivals"]]
    plans = erlang_c_sweep([count for brand in every for count in brand["arrivals"]], INTERVAL_S, column("handle_s"),
                           column("concurrency"), column("target_sl"), column("answer_within_s"))
    return sum(plan.experts for plan in plans)


def one_at_a_time(every: list[dict]) -> int:
    return sum(staff(count, INTERVAL_S, b["handle_s"], b["concurrency"], b["target_sl"], b["answer_within_s"]).experts
               for b in every for count in b["arrivals"])


def timed(label: str, runs: int, work) -> tuple[float, int]:
    seconds, result = [], 0
    for run in range(runs):
        started = time.perf_counter()
        result = work()
        seconds.append(time.perf_counter() - started)
        log(f"{label}: run {run + 1}/{runs} {seconds[-1]:.3f} s")
    return statistics.median(seconds), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout, progress on stderr")
    parser.add_argument("--quick", action="store_true", help="50 brands instead of 500")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    parser.add_argument("--brands", type=int, default=None, help="how many brands (default 500, 50 with --quick)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of Erlang C (median reported)")
    parser.add_argument("--seed", type=int, default=20261129)
    args = parser.parse_args()
    benchlib.VERBOSE = not args.quiet
    count = args.brands or (50 if args.quick else 500)
    every = brands(count, args.seed)
    intervals = count * 96
    log(f"{count} brands x 96 intervals = {intervals} staffing problems")

    erlang_c_s, experts_c = timed("erlang C, one sweep over the network", args.runs, lambda: network_sweep(every))
    per_brand_s, experts_per_brand = timed("erlang C, one sweep per brand", args.runs,
                                           lambda: plan_all(every, patience=False))
    baseline_s, experts_base = timed("erlang C, one interval at a time (baseline)", max(1, args.runs // 2),
                                     lambda: one_at_a_time(every))
    erlang_a_s, experts_a = timed("erlang A, with patience", 3, lambda: plan_all(every, patience=True))
    assert experts_c == experts_base == experts_per_brand, "the sweeps and the one-at-a-time baseline disagree"

    figures = {
        "brands": count,
        "intervals": intervals,
        "erlang_c": {"median_s": round(erlang_c_s, 4), "target_s": 1.0, "meets_target": erlang_c_s <= 1.0,
                     "expert_intervals": experts_c},
        "erlang_c_one_sweep_per_brand": {"median_s": round(per_brand_s, 4)},
        "erlang_c_one_interval_at_a_time": {"median_s": round(baseline_s, 4)},
        "erlang_c_speedup_over_baseline": benchlib.ratio(baseline_s, erlang_c_s),
        "erlang_a": {"median_s": round(erlang_a_s, 4), "target_s": 60.0, "meets_target": erlang_a_s <= 60.0,
                     "expert_intervals": experts_a},
        "python": sys.version.split()[0],
    }
    text = json.dumps(figures, indent=2)
    print(text, file=sys.stdout if args.json else sys.stderr)


if __name__ == "__main__":
    main()
