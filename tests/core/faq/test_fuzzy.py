"""Typos corrected against the brand's own words."""

from __future__ import annotations

import pytest

from marketplace.core.faq.fuzzy import Vocabulary, distance, max_edits


def test_distance_counts_edits_and_a_swap_of_neighbours_as_one():
    assert distance("livraison", "livraison") == 0
    assert distance("livraizon", "livraison") == 1
    assert distance("garnatie", "garantie") == 1
    assert distance("ampoul", "ampoule") == 1
    assert distance("lampe", "velo") == 5


def test_short_words_are_never_corrected_long_ones_by_two_edits():
    assert [max_edits(word) for word in ("led", "lamp", "garantie", "remboursement")] == [0, 1, 2, 2]


@pytest.fixture
def vocabulary():
    return Vocabulary.of(["livraison", "livraison", "garantie", "ampoule", "variateur", "remboursement", "retour",
                          "batterie", "battery", "warranty", "delivery"])


@pytest.mark.parametrize(("typo", "word"), [
    ("livraizon", "livraison"), ("livrasion", "livraison"), ("garanti", "garantie"), ("ampoulle", "ampoule"),
    ("variatuer", "variateur"), ("rembourssement", "remboursement"), ("rembousment", "remboursement"),
    ("batery", "battery"), ("warrenty", "warranty"), ("delivry", "delivery"),
])
def test_a_typo_finds_the_word(vocabulary, typo, word):
    assert vocabulary.nearest(typo) == word


@pytest.mark.parametrize("word", ["pizza", "voiture", "lol", "ret", "12345", "meteo"])
def test_a_word_far_from_all_is_left_alone(vocabulary, word):
    assert vocabulary.nearest(word) is None


def test_a_known_word_is_itself(vocabulary):
    assert vocabulary.nearest("retour") == "retour"
