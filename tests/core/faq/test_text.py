"""Reading a message: folding, SMS spelling, synonyms, stems, and which language it is in."""

from __future__ import annotations

import pytest

from marketplace.core.faq import text


def test_fold_drops_accents_case_and_punctuation():
    assert text.fold("Délais de LIVRAISON, s'il-vous-plaît ?") == "delais de livraison s il vous plait"
    assert text.fold("Œuvre à l'étranger") == "oeuvre a l etranger"


def test_fold_splits_an_order_number_and_a_unit_from_their_word_but_keeps_a_socket_whole():
    assert text.fold("commande4521") == "commande 4521"
    assert text.fold("une ampoule 100W E27 ou GU10") == "une ampoule 100 w e27 ou gu10"


@pytest.mark.parametrize(("message", "lang", "expected"), [
    ("slt c koi", "fr", "salut c est quoi"),
    ("bjr cmt je fais stp", "fr", "bonjour comment je fais s il te plait"),
    ("jveux savoir pk", "fr", "je veux savoir pourquoi"),
    ("cb ca coute qd meme", "fr", "combien ca coute quand meme"),
    ("wat r u selling pls", "en", "what are you selling please"),
    ("i haven't received it, where's my order", "en", "i have not received it where is my order"),
    ("can i send the lamp back", "en", "can i send back the lamp"),
])
def test_sms_spelling_and_contractions_are_spelled_out(message, lang, expected):
    assert text.spelled_out(text.fold(message), lang) == expected


def test_stop_words_and_greetings_are_not_content():
    synonyms = text.synonyms_for("fr")
    assert text.words_of("Bonjour, est-ce que vous livrez en Suisse ?", "fr", synonyms) == ["livraison", "etranger"]


def test_a_phrase_synonym_is_found_with_or_without_its_small_words():
    synonyms = text.synonyms_for("fr")
    assert text.words_of("les frais de port", "fr", synonyms) == ["frais", "livraison"]
    assert text.words_of("frais port", "fr", synonyms) == ["frais", "livraison"]


def test_the_brands_synonyms_merge_its_own_words():
    plain = text.terms("une suspension")
    merged = text.terms("une suspension", text.parse_synonyms("lustre, suspension, plafonnier"))
    assert plain != merged
    assert merged == text.terms("un lustre")


def test_parse_synonyms_maps_each_term_to_its_groups_head():
    assert text.parse_synonyms("Livraison, Expédition, envoi\n\n bulb ,lamp") == {
        "expedition": "livraison", "envoi": "livraison", "lamp": "bulb"}


def test_stems_bring_a_words_forms_together():
    assert text.terms("livrez-vous") == text.terms("livré")
    assert text.terms("batteries", lang="en") == text.terms("battery", lang="en")
    assert text.terms("les vélos") == text.terms("le velo")


@pytest.mark.parametrize(("message", "lang"), [
    ("Bonjour, quels sont vos délais de livraison ?", "fr"),
    ("slt c koi les delai", "fr"),
    ("vous livrez en Suisse", "fr"),
    ("jveux un conseiller", "fr"),
    ("Hi, how long does shipping take?", "en"),
    ("wen will my lamp arive", "en"),
    ("do u ship to the UK pls", "en"),
    ("what is the warranty", "en"),
])
def test_language_tells_french_from_english(message, lang):
    assert text.language(message) == lang


def test_language_is_none_when_nothing_tells():
    assert text.language("E27") is None
    assert text.language("") is None
