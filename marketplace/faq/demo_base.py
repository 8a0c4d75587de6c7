"""The demo brands' knowledge bases (demo_bases/<slug>.json): French and English entries the demo seeds."""

from __future__ import annotations

import json
from pathlib import Path

_FOLDER = Path(__file__).with_name("demo_bases")


def demo_slugs() -> list[str]:
    """The brands that have a demo base."""
    return sorted(path.stem for path in _FOLDER.glob("*.json"))


def demo_entries(slug: str) -> list[dict]:
    """The demo base of the brand `slug` as `{ref, lang, question, answer, tags}` (empty for a brand without one)."""
    path = _FOLDER / f"{slug}.json"
    if not path.is_file():
        return []
    return [{"ref": entry["ref"], "lang": entry["lang"], "question": entry["question"], "answer": entry["answer"],
             "tags": list(entry.get("tags", []))} for entry in json.loads(path.read_text(encoding="utf-8"))]
