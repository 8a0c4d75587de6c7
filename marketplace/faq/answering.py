"""Answering from a brand's base: the bot's answer to a visitor, and the experts' suggestions.

Each process keeps one index per brand (core/faq/matching.py), built from the brand's active entries and rebuilt
when the base's `version` (with its settings' `updated_at`) moved: a change made by any process is seen by the next
answer of every other, for one small read.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import sqlalchemy as sa

from marketplace.core.faq import matching
from marketplace.database import db, end_read
from marketplace.faq import models
from marketplace.faq.models import EntryStatus, FaqEntry, FaqSettings
from marketplace.shared import faults

DEFAULT_THRESHOLD = models.DEFAULT_THRESHOLD

# brand id -> (its settings' version and time of change, the index built then)
_indexes: dict[int, tuple[tuple[int, object], matching.Index]] = {}
_building = threading.Lock()


@dataclass(frozen=True)
class Answer:
    entry: dict | None  # {ref, id, answer} of the entry the bot answers with; None: it hands over
    confidence: float
    handover: bool
    reason: str
    best_entry_id: int | None = None  # the best entry whether answered or not (the failing entries' figures)

    def as_json(self) -> dict:
        return {"entry": self.entry, "confidence": round(self.confidence, 3), "handover": self.handover,
                "reason": self.reason}


def settings_of(brand_id: int) -> FaqSettings:
    """The brand's bot settings (the defaults, unsaved, when it never set them)."""
    settings = db.session.get(FaqSettings, brand_id)
    if settings is None:
        settings = models.default_settings(brand_id)
    return settings


def bot_answers_first(brand_id: int) -> bool:
    """Whether the brand's FAQ bot meets its newcomers (the brand turned it on)."""
    settings = db.session.get(FaqSettings, brand_id)
    return settings is not None and settings.bot_enabled


def _index(settings: FaqSettings) -> matching.Index:
    """The brand's index: the one built at this version of its base (and time of change: a base deleted and made
    again, as a test does, starts at the same version), else built now."""
    brand_id, stamp = settings.brand_id, (settings.version, settings.updated_at)
    cached = _indexes.get(brand_id)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    rows = db.session.execute(
        sa.select(FaqEntry.id, FaqEntry.ref, FaqEntry.lang, FaqEntry.question, FaqEntry.answer, FaqEntry.tags)
        .where(FaqEntry.brand_id == brand_id, FaqEntry.status == EntryStatus.ACTIVE, FaqEntry.active.is_(True))
    ).all()
    index = matching.Index([matching.Entry(row.id, row.ref, row.lang, row.question, row.answer,
                                           tuple(row.tags or ())) for row in rows], settings.synonyms)
    with _building:
        _indexes[brand_id] = (stamp, index)
    return index


def answer(brand_id: int, text: str, lang: str | None = None, *, threshold: float | None = None) -> Answer:
    """What the brand's bot answers to `text` (in `lang` when given, else whichever language fits)."""
    faults.check("faq.answer")  # the demo's switch: a failing bot, seen handing over (shared/faults.py)
    settings = settings_of(brand_id)
    index = _index(settings)
    limit = settings.threshold if threshold is None else threshold
    verdict = index.answer(text, threshold=limit, lang=lang)
    end_read()
    entry = None
    if verdict.entry_id is not None:
        chosen = index.entries[verdict.entry_id]
        entry = {"ref": chosen.ref, "id": chosen.id, "answer": chosen.answer}
    return Answer(entry, verdict.confidence, entry is None, verdict.reason.value, verdict.best_id)


def suggestions(brand_id: int, text: str, limit: int = 3) -> list[dict]:
    """The entries that best match `text`, best first: `{id, ref, question, answer, confidence}`."""
    settings = settings_of(brand_id)
    index = _index(settings)
    end_read()
    found = []
    for entry_id, confidence in index.ranked(text, limit=limit):
        entry = index.entries[entry_id]
        found.append({"id": entry.id, "ref": entry.ref, "question": entry.question.splitlines()[0],
                      "answer": entry.answer, "confidence": round(confidence, 3)})
    return found
