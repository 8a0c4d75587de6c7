"""How well a brand's bot answers: coverage, precision and false answers over messages whose right entry is known.

Each message is read once (at threshold 0): its best entry, the confidence and whether a guard stopped it; the
figures at any threshold follow without reading it again. The rows come from a JSONL or CSV file with `text`, `ref`
(empty: the bot must not answer) and an optional `lang`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from marketplace.core.faq import calibration, matching

THRESHOLDS = (0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)


class BadFile(ValueError):
    """The evaluation file cannot be read: the message says where and why."""


@dataclass(frozen=True)
class Row:
    text: str
    ref: str | None  # the entry that answers it; None: the bot must not answer
    lang: str | None = None
    brand: str | None = None


@dataclass(frozen=True)
class Outcome:
    row: Row
    best_ref: str | None  # the entry the bot would answer with at threshold 0
    confidence: float
    guarded: bool  # a guard (a person, an order, a complaint, small talk) stopped it whatever the threshold

    def answers(self, threshold: float) -> bool:
        return not self.guarded and self.best_ref is not None and self.confidence >= threshold

    @property
    def right(self) -> bool:
        return self.row.ref is not None and self.best_ref == self.row.ref


def read_rows(path: str | Path) -> list[Row]:
    """The rows of a JSONL (.jsonl, .json) or CSV file; BadFile names the line that is wrong."""
    path = Path(path)
    try:
        content = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise BadFile(f"cannot read {path}: {error}") from error
    if path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        records = []
        for number, line in enumerate(content.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise BadFile(f"line {number}: not JSON ({error.msg})") from error
            if not isinstance(record, dict):
                raise BadFile(f"line {number}: not a JSON object")
            records.append((number, record))
    else:
        reader = csv.DictReader(io.StringIO(content))
        if not reader.fieldnames or "text" not in reader.fieldnames:
            raise BadFile("the CSV has no `text` column (columns: text, ref, lang)")
        records = list(enumerate(reader, start=2))
    rows = [_row(number, record) for number, record in records]
    if not rows:
        raise BadFile(f"{path} has no message")
    return rows


def _row(number: int, record: dict) -> Row:
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BadFile(f"line {number}: `text` is missing or empty")
    if "ref" not in record:
        raise BadFile(f"line {number}: `ref` is missing (leave it empty for a message the bot must not answer)")
    ref = record.get("ref") or None
    lang = record.get("lang") or None
    if lang is not None and lang not in ("fr", "en"):
        raise BadFile(f"line {number}: `lang` must be fr or en")
    return Row(text, str(ref) if ref is not None else None, lang, record.get("brand") or None)


Answerer = Callable[[str, str | None], tuple[str | None, float, bool]]


def index_answerer(index: matching.Index) -> Answerer:
    """Read messages with `index` directly: (best ref, confidence, guarded)."""

    def answer(text: str, lang: str | None) -> tuple[str | None, float, bool]:
        verdict = index.answer(text, threshold=0.0, lang=lang)
        ref = index.entries[verdict.best_id].ref if verdict.best_id is not None else None
        return ref, verdict.confidence, verdict.reason in matching.GUARDED

    return answer


def index_of(entries: Iterable[dict], synonyms: str = "", *,
             model: calibration.Model = calibration.FITTED) -> matching.Index:
    """An index of entries given as `{ref, lang, question, answer, tags}` (a demo base, a file's)."""
    return matching.Index([matching.Entry(number, entry["ref"], entry["lang"], entry["question"], entry["answer"],
                                          tuple(entry.get("tags", ()))) for number, entry in enumerate(entries, 1)],
                          synonyms, model=model)


def outcomes(answer: Answerer, rows: Sequence[Row]) -> list[Outcome]:
    found = []
    for row in rows:
        ref, confidence, guarded = answer(row.text, row.lang)
        found.append(Outcome(row, ref, confidence, guarded))
    return found


def figures(found: Sequence[Outcome], threshold: float) -> dict:
    """Coverage (answerable messages answered), precision (answers that are the expected entry), false-answer rate
    (messages the bot must not answer that it answered), at `threshold`."""
    answerable = [outcome for outcome in found if outcome.row.ref is not None]
    others = [outcome for outcome in found if outcome.row.ref is None]
    answered = [outcome for outcome in found if outcome.answers(threshold)]
    right = [outcome for outcome in answered if outcome.right]
    return {
        "threshold": threshold, "messages": len(found), "answerable": len(answerable), "answered": len(answered),
        "coverage": sum(1 for outcome in answerable if outcome.answers(threshold)) / len(answerable)
        if answerable else 0.0,
        "precision": len(right) / len(answered) if answered else 1.0,
        "false_rate": sum(1 for outcome in others if outcome.answers(threshold)) / len(others) if others else 0.0,
    }


def across(found: Sequence[Outcome], thresholds: Sequence[float] = THRESHOLDS) -> list[dict]:
    return [figures(found, threshold) for threshold in thresholds]


def reliability(found: Sequence[Outcome]) -> list[dict]:
    """Per confidence band, the share of the bot's candidate answers (guards aside) that were the right entry."""
    scored = [outcome for outcome in found if not outcome.guarded and outcome.best_ref is not None]
    return calibration.reliability([outcome.confidence for outcome in scored], [outcome.right for outcome in scored])


# The tags of entries about a demo brand's own products: another brand's visitor asking them is asking off-topic.
_PRODUCT_TAGS = frozenset({"ampoule", "bulb", "installation", "produit", "product", "batterie", "battery", "atelier",
                           "workshop", "assurance", "insurance"})


def training_cases(bases: dict[str, list[dict]], rows: Sequence[Row], *, held_out_ways: bool = True,
                   other_products: bool = True) -> list[tuple[matching.Index, str, str | None, str | None]]:
    """The calibration's training messages, each with the index to ask and the entry that answers it (or None).

    From `rows` (messages of the brands of `bases`, guards aside), and from the bases themselves: each way of asking
    an entry, asked of the base without it (a paraphrase the base does not hold), and each way of asking another
    brand's product entries (a question the base must not answer).
    """
    cases: list[tuple[matching.Index, str, str | None, str | None]] = []
    indexes = {slug: index_of(entries) for slug, entries in bases.items()}
    for row in rows:
        if row.brand in indexes:
            cases.append((indexes[row.brand], row.text, row.lang, row.ref))
    for slug, entries in bases.items():
        for number, entry in enumerate(entries):
            ways = [line for line in entry["question"].splitlines() if line.strip()]
            if len(ways) < 2 or not held_out_ways:
                continue
            for way in ways:
                held_out = [*entries[:number], {**entry, "question": "\n".join(w for w in ways if w != way)},
                            *entries[number + 1:]]
                cases.append((index_of(held_out), way, None, entry["ref"]))
        for other, other_entries in bases.items():
            if other == slug or not other_products:
                continue
            for entry in other_entries:
                if _PRODUCT_TAGS & set(entry.get("tags", ())):
                    cases.extend((indexes[slug], way, None, None) for way in entry["question"].splitlines()
                                 if way.strip())
    return [case for case in cases if matching.guards.guard(case[1]) is None]


def training_set(cases: Sequence[tuple[matching.Index, str, str | None, str | None]],
                 model: calibration.Model = calibration.FITTED) -> tuple[list[dict[str, float]], list[bool]]:
    """Each case's best candidate under `model`: its features, and whether it is the right entry."""
    features: list[dict[str, float]] = []
    right: list[bool] = []
    for index, text, lang, expected in cases:
        index.model = model
        found = index.candidates(text, lang=lang)
        if found:
            features.append(found[0].features)
            right.append(expected is not None and index.entries[found[0].entry_id].ref == expected)
    return features, right


def refit(bases: dict[str, list[dict]], rows: Sequence[Row], *, ridge: float = 1.0,
          rounds: int = 4) -> tuple[calibration.Model, list[dict[str, float]], list[bool]]:
    """The calibration fitted on the training cases: a few rounds, since which candidate is the best (and so the
    training rows) depends on the confidence being fitted. Also gives the last round's rows."""
    cases = training_cases(bases, rows)
    model = calibration.FITTED
    for _ in range(rounds):
        features, right = training_set(cases, model)
        model = calibration.fit(features, right, ridge=ridge)
    return model, features, right
