"""The demo brands' knowledge bases."""

from __future__ import annotations

import pytest

from marketplace.faq.demo_base import demo_entries, demo_slugs
from marketplace.faq.models import LANGUAGES


@pytest.mark.parametrize("slug", ["maison-lumiere", "velo-rapide"])
def test_each_demo_brand_has_a_french_and_english_base(slug):
    entries = demo_entries(slug)
    assert 25 <= len(entries) <= 40
    assert {entry["lang"] for entry in entries} == set(LANGUAGES)
    assert len({entry["ref"] for entry in entries}) == len(entries)
    for entry in entries:
        assert set(entry) == {"ref", "lang", "question", "answer", "tags"}
        assert entry["question"].strip() and entry["answer"].strip() and len(entry["ref"]) <= 64
        assert len(entry["question"]) <= 2000 and len(entry["answer"]) <= 2000


def test_the_demo_slugs_are_the_demo_brands():
    assert demo_slugs() == ["maison-lumiere", "velo-rapide"]


def test_a_brand_without_a_demo_base_has_no_entries():
    assert demo_entries("nope") == []
