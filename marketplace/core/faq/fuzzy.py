"""Typos corrected against a brand's own words: the nearest word of its base within one or two edits.

Built once per index (every deletion of up to two letters of every word), so a message's unknown word costs a few
dictionary look-ups, not a scan of the vocabulary.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache


def max_edits(word: str) -> int:
    """How many edits a word of this length may be off by: none under 4 letters, one up to 7, two past."""
    if len(word) < 4:
        return 0
    return 1 if len(word) < 8 else 2


@lru_cache(maxsize=65536)
def _deletions(word: str, depth: int) -> frozenset[str]:
    found = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {variant[:i] + variant[i + 1:] for variant in frontier for i in range(len(variant))}
        found |= frontier
    return frozenset(found)


@lru_cache(maxsize=65536)
def distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions, adjacent transpositions."""
    if a == b:
        return 0
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


class Vocabulary:
    """A brand's words (folded), each with how many entries use it."""

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = dict(counts)
        # Each deletion -> the words it comes from, joined by "\0": strings, not lists, which the garbage collector
        # would walk through again and again while the map grows (ten times slower to build).
        by_deletion: dict[str, str] = {}
        for word in self.counts:
            for variant in _deletions(word, max_edits(word)):
                known = by_deletion.get(variant)
                by_deletion[variant] = word if known is None else f"{known}\0{word}"
        self._by_deletion = by_deletion

    @classmethod
    def of(cls, words: Iterable[str]) -> Vocabulary:
        counts: dict[str, int] = {}
        for word in words:
            counts[word] = counts.get(word, 0) + 1
        return cls(counts)

    def __contains__(self, word: str) -> bool:
        return word in self.counts

    def nearest(self, word: str) -> str | None:
        """The brand's word `word` is a typo of, or None: the fewest edits, then the commonest, then the first."""
        if word in self.counts:
            return word
        edits = max_edits(word)
        if edits == 0 or word.isdigit():
            return None
        candidates = set()
        for variant in _deletions(word, edits):
            found = self._by_deletion.get(variant)
            if found is not None:
                candidates.update(found.split("\0"))
        best = None
        for candidate in sorted(candidates):
            allowed = min(edits, max_edits(candidate))
            gap = distance(word, candidate)
            if gap <= allowed and candidate[0] == word[0] or gap <= allowed and gap == 1 and len(word) >= 6:
                key = (gap, -self.counts[candidate], candidate)
                if best is None or key < best[0]:
                    best = (key, candidate)
        return best[1] if best else None
