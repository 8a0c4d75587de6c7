"""The payouts benchmark, run tiny as a person would run it: it drafts a batch over its ledger, finds the
ledger sound, and its crash-injected soak pays nobody twice."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_benchmark(*args: str) -> dict:
    command = [sys.executable, "benchmarks/payouts.py", "--json", "--quiet", *args]
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=110, check=False)  # noqa: S603
    assert finished.returncode == 0, finished.stderr[-3000:]
    return json.loads(finished.stdout)


def test_the_payouts_benchmark_drafts_a_batch_checks_the_ledger_and_pays_nobody_twice():
    report = run_benchmark("--chats", "2000", "--experts", "200", "--brands", "5", "--repeat", "1",
                           "--soak", "20", "--soak-experts", "8", "--soak-workers", "2")

    batch = report["batch"]
    # Per chat an earning (3 entries) and its release (2), or its reversal (3) for every 200th chat.
    assert batch["ledger_rows"] == {"transactions": 4000, "entries": 5 * 2000 + 2000 // 200}
    assert batch["check_invariants"]["breaches"] == []
    assert batch["check_invariants"]["transactions"] == 4000
    assert batch["draft"]["items"] > 0 and batch["draft"]["not_ready"] > 0
    for figure in (batch["draft"], batch["check_invariants"], batch["bare_payable_group_by"], batch["bare_sum_scan"]):
        assert isinstance(figure["median_s"], float) and figure["median_s"] >= 0
    assert isinstance(batch["draft"]["meets_target"], bool)

    soak = report["soak"]
    assert soak["runs"] == 20 and soak["workers"] == 2
    assert soak["batches_paid"] + soak["batches_partially_failed"] == 20
    assert soak["double_payments"] == 0 and soak["meets_target"] is True
    assert soak["mismatches"] == 0 and soak["transfers_naming_no_item"] == 0
    assert soak["experts_whose_money_does_not_add_up"] == 0 and soak["cash_out_equals_transfers"] is True
    assert soak["ledger_breaches"] == [] and soak["error_count"] == 0 and soak["anomaly_count"] == 0
    assert soak["crashes"] > 0 and soak["transfers"] > 0
    assert isinstance(soak["wall_s"], float) and soak["runs_per_second"] > 0
