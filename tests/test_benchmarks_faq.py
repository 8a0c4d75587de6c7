"""The FAQ benchmark, run tiny as a person would run it: it answers through the app on SQLite, rebuilds each
brand's index after a change, and times its baselines in the same run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_benchmark(*args: str) -> dict:
    command = [sys.executable, "benchmarks/faq.py", "--json", "--quiet", *args]
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=110, check=False)  # noqa: S603
    assert finished.returncode == 0, finished.stderr[-3000:]
    return json.loads(finished.stdout)


def test_the_faq_benchmark_times_warm_and_cold_answers_against_its_baselines():
    report = run_benchmark("--databases", "sqlite", "--brands", "3", "--entries", "20", "--queries", "60",
                           "--warmup", "5", "--cold-rounds", "2")

    part = report["sqlite"]
    assert (part["brands"], part["entries_per_brand"], part["entries"], part["queries"]) == (3, 20, 60, 60)
    assert part["warm"]["count"] == 60 and part["cold_index_build_per_brand"]["count"] == 6
    answers = part["warm"]["answers"]
    assert answers["paraphrases"] + answers["unrelated"] == 60 and answers["paraphrases"] > answers["unrelated"]
    assert answers["paraphrases_answered_with_their_entry"] <= answers["paraphrases_answered"]
    for figures in (part["warm"], part["cold_index_build_per_brand"], *part["baselines"].values()):
        assert figures["p50_ms"] >= 0 and figures["p99_ms"] >= figures["p50_ms"]
    assert all(value is None or value > 0 for value in part["ratios"].values())
    assert isinstance(part["target"]["reached"], bool) and report["target"]["warm_p99_ms"] == 50.0
    assert "postgresql" not in report
