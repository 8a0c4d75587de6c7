"""The bot's figures at the default threshold on messages it was never tuned on (a figure test on data).

demo-test.jsonl: the demo brands' messages held out from tuning (written before the matcher); peau-claire.jsonl:
a cosmetics shop's base and messages, to check the matcher does not only fit the demo bases. The calibration was
fitted on demo-dev.jsonl (`marketplace faq calibrate`). Targets: precision >= 0.90, coverage >= 0.60, false
answers <= 0.05.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from marketplace.faq import answering, evaluation
from marketplace.faq.demo_base import demo_entries

HERE = Path(__file__).parent


def bases() -> dict[str, list[dict]]:
    found = {slug: demo_entries(slug) for slug in ("maison-lumiere", "velo-rapide")}
    found["peau-claire"] = json.loads((HERE / "peau-claire-base.json").read_text(encoding="utf-8"))
    return found


def outcomes_of(name: str) -> list[evaluation.Outcome]:
    rows = evaluation.read_rows(HERE / name)
    found = []
    for slug, entries in bases().items():
        index = evaluation.index_of(entries)
        found += evaluation.outcomes(evaluation.index_answerer(index), [row for row in rows if row.brand == slug])
    assert len(found) == len(rows)
    return found


@pytest.mark.parametrize("name", ["demo-test.jsonl", "peau-claire.jsonl"])
def test_held_out_messages_meet_the_targets_at_the_default_threshold(name):
    figures = evaluation.figures(outcomes_of(name), answering.DEFAULT_THRESHOLD)
    assert figures["precision"] >= 0.90, figures
    assert figures["coverage"] >= 0.60, figures
    assert figures["false_rate"] <= 0.05, figures


def test_the_evaluation_sets_are_large_and_varied_enough():
    demo = evaluation.read_rows(HERE / "demo-test.jsonl") + evaluation.read_rows(HERE / "demo-dev.jsonl")
    cosmetics = evaluation.read_rows(HERE / "peau-claire.jsonl")
    assert len(demo) >= 300 and len(cosmetics) >= 75
    for rows in (demo, cosmetics):
        assert 0.2 <= sum(1 for row in rows if row.ref is None) / len(rows) <= 0.45
    known = {slug: {entry["ref"] for entry in entries} for slug, entries in bases().items()}
    assert all(row.ref in known[row.brand] for row in demo + cosmetics if row.ref is not None)
