"""A message as terms: folded, split, stemmed; the brand's synonyms; and the words that call for a person."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[a-z0-9]+")
_PERSON = re.compile(r"\b(conseiller|conseillere|humain|agent|person|human|quelqu un|real person)\b")
_ORDER = re.compile(r"\b(ma commande|my order|order number|numero de commande|colis)\b")
_COMPLAINT = re.compile(r"\b(scandale|inadmissible|plainte|complaint|unacceptable|disgusted)\b")
_CHIT_CHAT = re.compile(r"^(bonjour|salut|hello|hi|merci|thanks|thank you|ok|coucou)[ !.]*$")


def fold(text: str) -> str:
    """Lower case, accents off, apostrophes and punctuation as spaces."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(_WORD.findall(plain))


def parse_synonyms(lines: str) -> dict[str, str]:
    """The brand's synonym groups ("livraison, expedition, envoi" per line) as each term's group head."""
    heads: dict[str, str] = {}
    for line in (lines or "").splitlines():
        group = [fold(term) for term in line.split(",") if fold(term)]
        for term in group[1:]:
            heads[term] = group[0]
    return heads


def terms(text: str, synonyms: dict[str, str] | None = None) -> list[str]:
    synonyms = synonyms or {}
    return [synonyms.get(word, word) for word in fold(text).split() if len(word) > 2]


def guard(text: str) -> str | None:
    """The reason a message is a person's work whatever the base holds (matching.GUARDED), or None."""
    folded = fold(text)
    if _PERSON.search(folded):
        return "asked_for_person"
    if _ORDER.search(folded):
        return "order_specific"
    if _COMPLAINT.search(folded):
        return "complaint"
    if _CHIT_CHAT.match(folded):
        return "chit_chat"
    return None
