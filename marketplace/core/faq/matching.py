"""Which entry answers a message: an index of one brand's entries, scored and calibrated.

`Index(entries, synonyms).answer(text, threshold=...)` gives a `Verdict`: the entry to answer with (None to hand
over), the confidence (calibrated: of the answers given at confidence c, a share c is the right entry), and the
reason. `ranked` gives the best entries whatever the threshold (the expert's suggestions).

How: each language's entries form a BM25 index over stemmed, accent-folded terms (the ways of asking weigh most,
the tags less, the answer little); a message is read in each language (SMS spelling spelled out, synonyms merged,
typos corrected against the brand's own words), scored, and the best entry's features (how much of the message it
covers, how much of its closest way of asking the message covers, its lead over the next entry...) go through a
logistic function fitted offline (calibration.py). Guards (guards.py) come first: some messages are a person's work.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from marketplace.core.faq import calibration, guards
from marketplace.core.faq import text as words
from marketplace.core.faq.fuzzy import Vocabulary


class Reason(enum.StrEnum):
    ANSWERED = "answered"
    LOW_CONFIDENCE = "low_confidence"  # no entry is likely enough to be the right one
    OFF_TOPIC = "off_topic"  # the message is about something the base never speaks of (another shop, the weather)
    ASKED_FOR_PERSON = "asked_for_person"  # "conseiller", "humain", "agent", "a real person"
    ORDER_SPECIFIC = "order_specific"  # about one order of theirs: a person must look it up
    COMPLAINT = "complaint"
    CHIT_CHAT = "chit_chat"  # greetings, thanks, small talk: no question to answer
    EMPTY_BASE = "empty_base"  # the brand has no entry in use


# The reasons the bot must not answer whatever the score: a person's work.
GUARDED = (Reason.ASKED_FOR_PERSON, Reason.ORDER_SPECIFIC, Reason.COMPLAINT, Reason.CHIT_CHAT)

# An entry in the other language than the message's is worth this share of its confidence (when the base has
# entries in the message's language at all): the visitor would rather read their own.
OTHER_LANGUAGE = 0.75
_FIELD_WEIGHTS = (("question", 1.0), ("tags", 0.5), ("answer", 0.2))
_K1, _B = 1.2, 0.5
_FUZZY_WEIGHT = 0.7  # a corrected typo counts for less than a word spelled as in the base
_BIGRAM_BONUS = 0.3
_CANDIDATES = 5
_SENTENCE = re.compile(r"[.!?;\n]+")


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
    lang: str | None = None  # the language the message was read in (detected unless given)


@dataclass
class Reading:
    """A message read in one language: its terms (stem -> weight, less for a corrected typo), how many of its words
    the base's questions use and how many they never do, its pairs of neighbouring terms."""

    terms: dict[str, float] = field(default_factory=dict)
    known: int = 0
    unknown: int = 0
    corrected: int = 0
    bigrams: set[tuple[str, str]] = field(default_factory=set)

    @property
    def content(self) -> int:
        return self.known + self.unknown


@dataclass(frozen=True)
class Candidate:
    entry_id: int
    score: float
    features: dict[str, float]
    confidence: float


class _LanguageIndex:
    """The entries of one language, as BM25 postings over their stems."""

    def __init__(self, lang: str, entries: Sequence[Entry], brand_synonyms: str) -> None:
        self.lang = lang
        self.synonyms = words.synonyms_for(lang, brand_synonyms)
        self.ids = [entry.id for entry in entries]
        surfaces: list[str] = []
        weighted: list[dict[str, float]] = []
        self.phrasings: list[list[list[str]]] = []
        self.bigrams: list[set[tuple[str, str]]] = []
        tags: list[list[str]] = []
        for entry in entries:
            lines = [words.words_of(line, lang, self.synonyms) for line in entry.question.splitlines()]
            fields = {"question": [word for line in lines for word in line],
                      "tags": words.words_of(" ".join(entry.tags), lang, self.synonyms),
                      "answer": words.words_of(entry.answer, lang, self.synonyms)}
            tf: dict[str, float] = {}
            for name, weight in _FIELD_WEIGHTS:
                surfaces.extend(fields[name])
                for term in (words.stem(word, lang) for word in fields[name]):
                    tf[term] = tf.get(term, 0.0) + weight
            weighted.append(tf)
            tags.append([words.stem(word, lang) for word in fields["tags"]])
            phrasings = [[words.stem(word, lang) for word in line] for line in lines if line]
            self.phrasings.append(phrasings)
            self.bigrams.append({pair for phrasing in phrasings for pair in zip(phrasing, phrasing[1:], strict=False)})
        # The words visitors are expected to use: an answer's words score a little, but a message made of them
        # ("is it made in France?" against "made-to-measure lights... in mainland France") is not understood.
        self.asked_terms = {term for phrasings in self.phrasings for phrasing in phrasings for term in phrasing}
        self.asked_terms |= {term for own in tags for term in own}
        count = len(entries)
        frequency: dict[str, int] = {}
        for tf in weighted:
            for term in tf:
                frequency[term] = frequency.get(term, 0) + 1
        # Each term's rarity as a share of the rarest's: scores mean the same in a base of 10 entries or of 500.
        rarest = math.log(1 + (count + 0.5) / 0.5)
        self.idf = {term: math.log(1 + (count - df + 0.5) / (df + 0.5)) / rarest for term, df in frequency.items()}
        self.unknown_idf = 1.0
        lengths = [sum(tf.values()) for tf in weighted]
        average = sum(lengths) / count if count else 1.0
        self.postings: dict[str, list[tuple[int, float]]] = {}
        for position, tf in enumerate(weighted):
            norm = _K1 * (1 - _B + _B * lengths[position] / average)
            for term, value in tf.items():
                self.postings.setdefault(term, []).append((position, value * (_K1 + 1) / (value + norm)))
        self.vocabulary = Vocabulary.of(surfaces + [term for term in self.synonyms.words] +
                                        [head for head in self.synonyms.words.values() if " " not in head])

    def read(self, text: str, written_in: str | None = None) -> Reading:
        """The message's terms in this language (`written_in` another: its small words are not content either)."""
        reading = Reading()
        stems: list[str] = []
        found = words.words_of(text, self.lang, self.synonyms)
        if written_in is not None and written_in != self.lang:
            found = [word for word in found if not words.is_stop(word, written_in)]
        for word in found:
            term = words.stem(word, self.lang)
            if word.isdigit() and term not in self.idf:
                continue  # a quantity, a height, a date: it tells no topic
            weight = 1.0
            if term not in self.idf:
                nearest = self.vocabulary.nearest(word)
                corrected = self.synonyms.words.get(nearest, nearest) if nearest else None
                if corrected and " " not in corrected and words.stem(corrected, self.lang) in self.idf:
                    term, weight = words.stem(corrected, self.lang), _FUZZY_WEIGHT
                    reading.corrected += 1
                else:
                    reading.unknown += 1
                    stems.append("")
                    continue
            reading.terms[term] = max(reading.terms.get(term, 0.0), weight)
            if term in self.asked_terms:
                reading.known += 1
            else:
                reading.unknown += 1
            stems.append(term)
        reading.bigrams = {pair for pair in zip(stems, stems[1:], strict=False) if all(pair)}
        return reading

    def candidates(self, reading: Reading) -> list[tuple[int, float]]:
        scores: dict[int, float] = {}
        for term, weight in reading.terms.items():
            idf = self.idf[term]
            for position, value in self.postings.get(term, ()):
                scores[position] = scores.get(position, 0.0) + weight * idf * value
        for position in scores:
            for first, second in reading.bigrams & self.bigrams[position]:
                scores[position] += _BIGRAM_BONUS * (self.idf[first] + self.idf[second]) / 2
        return sorted(scores.items(), key=lambda pair: (-pair[1], self.ids[pair[0]]))

    def features(self, reading: Reading, position: int, score: float, runner_up: float) -> dict[str, float]:
        """What speaks for (and against) the entry at `position` being the answer: calibration.FEATURES."""
        question_terms = {term for phrasing in self.phrasings[position] for term in phrasing}
        matched = {term: weight for term, weight in reading.terms.items() if term in question_terms}
        known_mass = sum(self.idf[term] * weight for term, weight in reading.terms.items() if term in self.asked_terms)
        message_mass = known_mass + self.unknown_idf * reading.unknown
        matched_mass = sum(self.idf[term] * weight for term, weight in matched.items())
        closest = 0.0
        for phrasing in self.phrasings[position]:
            own = set(phrasing)
            mass = sum(self.idf[term] for term in own)
            covered = sum(self.idf[term] * reading.terms[term] for term in own if term in reading.terms)
            closest = max(closest, covered / mass if mass else 0.0)
        return {
            "message_covered": matched_mass / message_mass if message_mass else 0.0,
            "phrasing_covered": closest,
            "margin": (score - runner_up) / score if score else 0.0,
            "strength": math.log1p(score),
            "unknown": min(reading.unknown, 6) / 6,
            "unknown_share": reading.unknown / reading.content if reading.content else 1.0,
            "corrected": sum(1 for weight in matched.values() if weight < 1) / len(matched) if matched else 0.0,
            "bigram": min(len(reading.bigrams & self.bigrams[position]), 2) / 2,
        }

    def ranked(self, text: str, limit: int, model: calibration.Model,
               written_in: str | None = None) -> tuple[Reading, list[Candidate]]:
        reading = self.read(text, written_in)
        scored = self.candidates(reading)
        found = []
        for rank, (position, score) in enumerate(scored[:limit]):
            runner_up = max((other for index, (_, other) in enumerate(scored[:limit + 1]) if index != rank),
                            default=0.0)
            features = self.features(reading, position, score, runner_up)
            confidence = model.confidence(features)
            if found:  # never above a better-scored entry's: the ranking is the scores'
                confidence = min(confidence, found[-1].confidence)
            found.append(Candidate(self.ids[position], score, features, confidence))
        return reading, found


class Index:
    """One brand's entries, ready to score messages against (built once per change of the base)."""

    def __init__(self, entries: Sequence[Entry], synonyms: str = "", *,
                 model: calibration.Model = calibration.FITTED) -> None:
        self.entries = {entry.id: entry for entry in entries}
        self.synonyms = synonyms
        self.model = model  # the calibration's refit swaps it to score the same index again
        self._languages = {}
        for lang in words.LANGUAGES:
            own = [entry for entry in entries if entry.lang == lang]
            if own:
                self._languages[lang] = _LanguageIndex(lang, own, synonyms)

    def _scored(self, text: str, lang: str | None, limit: int) -> tuple[str | None, list[Candidate], float]:
        """The message's language, its candidates across languages (best first; only that language's when `lang` is
        given), the share of its words known.

        A message of several sentences is also read sentence by sentence: the context around a question ("we are
        moving next week and...") should not drown it."""
        asked = lang or words.language(text)
        pieces = [text]
        sentences = [piece for piece in _SENTENCE.split(text) if piece.strip()]
        if len(sentences) > 1:
            pieces.extend(sentences)
        found: list[Candidate] = []
        known = 0.0
        for own, index in self._languages.items():
            if lang is not None and own != lang:
                continue  # a language given narrows the base to its entries
            best: list[Candidate] = []
            for piece in pieces:
                reading, candidates = index.ranked(piece, limit, self.model, asked)
                if reading.content and (own == asked or asked is None or asked not in self._languages):
                    known = max(known, reading.known / reading.content)
                if candidates and (not best or candidates[0].confidence > best[0].confidence):
                    best = candidates
            if asked is not None and own != asked and asked in self._languages:
                best = [Candidate(candidate.entry_id, candidate.score, candidate.features,
                                  candidate.confidence * OTHER_LANGUAGE) for candidate in best]
            found.extend(best)
        found.sort(key=lambda candidate: (-candidate.confidence, candidate.entry_id))
        return asked, found, known

    def ranked(self, text: str, *, lang: str | None = None, limit: int = 3) -> list[tuple[int, float]]:
        """The best entries for `text`, best first, each with its confidence."""
        if lang is not None and lang in self._languages:
            _reading, found = self._languages[lang].ranked(text, limit, self.model)
            found.sort(key=lambda candidate: (-candidate.confidence, candidate.entry_id))
        else:
            found = self._scored(text, lang, limit)[1]
        return [(candidate.entry_id, round(candidate.confidence, 3)) for candidate in found[:limit]]

    def candidates(self, text: str, *, lang: str | None = None, limit: int = _CANDIDATES) -> list[Candidate]:
        """The best entries with their features (the calibration's training rows)."""
        return self._scored(text, lang, limit)[1]

    def answer(self, text: str, *, threshold: float, lang: str | None = None) -> Verdict:
        """The entry to answer `text` with, or why the bot hands over."""
        if not self.entries:
            return Verdict(None, 0.0, Reason.EMPTY_BASE)
        asked, found, known = self._scored(text, lang, _CANDIDATES)
        best_id, confidence = (found[0].entry_id, found[0].confidence) if found else (None, 0.0)
        guard = guards.guard(text)
        if guard is not None:
            return Verdict(None, confidence, Reason(guard), best_id, asked)
        if best_id is None or confidence < threshold:
            off_topic = best_id is None or known < 0.34
            return Verdict(None, confidence, Reason.OFF_TOPIC if off_topic else Reason.LOW_CONFIDENCE, best_id, asked)
        return Verdict(best_id, confidence, Reason.ANSWERED, best_id, asked)
