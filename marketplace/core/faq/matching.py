"""Which entry answers a message: an index of one brand's entries, scored and calibrated.

`Index(entries, synonyms).answer(text, threshold=...)` gives a `Verdict`: the entry to answer with (None to hand
over), the confidence (calibrated: of the answers given at confidence c, a share c is the right entry), and the
reason. `ranked` gives the best entries whatever the threshold (the expert's suggestions).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from marketplace.core.faq import text as words


class Reason(enum.StrEnum):
    ANSWERED = "answered"
    LOW_CONFIDENCE = "low_confidence"  # no entry is likely enough to be the right one
    ASKED_FOR_PERSON = "asked_for_person"  # "conseiller", "humain", "agent", "a real person"
    ORDER_SPECIFIC = "order_specific"  # about one order of theirs: a person must look it up
    COMPLAINT = "complaint"
    CHIT_CHAT = "chit_chat"  # greetings, thanks, small talk: no question to answer
    EMPTY_BASE = "empty_base"  # the brand has no entry in use


# The reasons the bot must not answer whatever the score: a person's work.
GUARDED = (Reason.ASKED_FOR_PERSON, Reason.ORDER_SPECIFIC, Reason.COMPLAINT, Reason.CHIT_CHAT)


@dataclass(frozen=True)
class Entry:
    id: int
    ref: str
    lang: str  # fr | en
    question: str  # one or more ways of asking, one per line
    answer: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verdict:
    entry_id: int | None  # the entry to answer with; None: hand over
    confidence: float  # 0..1, calibrated
    reason: Reason
    best_id: int | None = None  # the best entry, answered or not


class Index:
    """One brand's entries, ready to score messages against (built once per change of the base)."""

    def __init__(self, entries: Sequence[Entry], synonyms: str = "") -> None:
        self.entries = {entry.id: entry for entry in entries}
        self.synonyms = words.parse_synonyms(synonyms)
        self._terms = {entry.id: set(words.terms(f"{entry.question} {' '.join(entry.tags)}", self.synonyms))
                       for entry in entries}

    def ranked(self, text: str, *, lang: str | None = None, limit: int = 3) -> list[tuple[int, float]]:
        """The best entries for `text`, best first, each with its confidence."""
        asked = set(words.terms(text, self.synonyms))
        if not asked:
            return []
        scored = []
        for entry_id, terms in self._terms.items():
            if lang is not None and self.entries[entry_id].lang != lang:
                continue
            if terms:
                overlap = len(asked & terms) / len(asked | terms)
                if overlap > 0:
                    scored.append((entry_id, round(overlap, 3)))
        scored.sort(key=lambda pair: (-pair[1], pair[0]))
        return scored[:limit]

    def answer(self, text: str, *, threshold: float, lang: str | None = None) -> Verdict:
        """The entry to answer `text` with, or why the bot hands over."""
        guard = words.guard(text)
        ranked = self.ranked(text, lang=lang, limit=1)
        best_id, confidence = ranked[0] if ranked else (None, 0.0)
        if guard is not None:
            return Verdict(None, confidence, Reason(guard), best_id)
        if not self.entries:
            return Verdict(None, 0.0, Reason.EMPTY_BASE)
        if best_id is None or confidence < threshold:
            return Verdict(None, confidence, Reason.LOW_CONFIDENCE, best_id)
        return Verdict(best_id, confidence, Reason.ANSWERED, best_id)
