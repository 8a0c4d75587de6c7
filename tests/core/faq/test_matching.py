"""Which entry answers a message, how sure the bot is, and why it hands over."""

from __future__ import annotations

import pytest

from marketplace.core.faq import calibration
from marketplace.core.faq.matching import GUARDED, Entry, Index, Reason

THRESHOLD = 0.65

ENTRIES = [
    Entry(1, "delais", "fr", "Quels sont vos délais de livraison ?\nEn combien de temps je reçois ma lampe ?",
          "2 à 4 jours ouvrés.", ("livraison",)),
    Entry(2, "delivery", "en", "What are your delivery times?\nHow long does shipping take?", "2 to 4 working days."),
    Entry(3, "garantie", "fr", "Quelle est la garantie de vos luminaires ?\nMes lampes sont-elles garanties ?",
          "2 ans."),
    Entry(4, "warranty", "en", "What warranty do your lights have?\nHow long is the warranty?", "2 years."),
    Entry(5, "retours", "fr", "Comment retourner un article ?\nPuis-je renvoyer une lampe qui ne me plaît pas ?",
          "30 jours."),
    Entry(6, "returns", "en", "How do I return an item?\nWhat is your return policy?", "30 days."),
    Entry(7, "variateur", "fr", "Vos lampes sont-elles compatibles avec un variateur ?\nLa lumière est-elle dimmable ?",
          "Oui, les modèles dimmables."),
    Entry(8, "suivi", "fr", "Comment suivre ma commande ?\nOù trouver le numéro de suivi ?", "Par e-mail."),
    Entry(9, "tracking", "en", "How do I track my order?\nWhere do I find the tracking number?", "By email."),
    Entry(10, "paiement", "fr", "Quels moyens de paiement acceptez-vous ?\nPuis-je payer par PayPal ?", "Carte."),
]


@pytest.fixture(scope="module")
def index():
    return Index(ENTRIES)


def answered_ref(index, message, **kwargs):
    verdict = index.answer(message, threshold=THRESHOLD, **kwargs)
    return index.entries[verdict.entry_id].ref if verdict.entry_id is not None else None


@pytest.mark.parametrize(("message", "ref"), [
    ("Quels sont vos délais de livraison ?", "delais"),
    ("Bonjour, quels sont vos délais de livraison ?", "delais"),
    ("slt c koi les delai de livraizon", "delais"),
    ("quels sont vos delais de livraison", "delais"),
    ("What are your delivery times?", "delivery"),
    ("hi! how long does shipping take pls", "delivery"),
    ("whats ur return policy", "returns"),
    ("how do i track my order?", "tracking"),
    ("comment suivre ma commande", "suivi"),
    ("Comment retourner un article svp", "retours"),
    ("Bonjour, j'ai acheté une lampe la semaine dernière pour le salon de ma mère. Elle est jolie mais je ne "
     "l'aime plus du tout. Comment retourner un article ?", "retours"),
])
def test_a_covered_question_is_answered_with_its_entry(index, message, ref):
    assert answered_ref(index, message) == ref


@pytest.mark.parametrize(("message", "reason"), [
    ("je veux parler à un conseiller", Reason.ASKED_FOR_PERSON),
    ("Ma commande 4521 n'est pas arrivée", Reason.ORDER_SPECIFIC),
    ("where is my order 4521?", Reason.ORDER_SPECIFIC),
    ("C'est inadmissible !", Reason.COMPLAINT),
    ("bonjour", Reason.CHIT_CHAT),
    ("merci !", Reason.CHIT_CHAT),
])
def test_a_guarded_message_is_handed_over_whatever_the_score(index, message, reason):
    verdict = index.answer(message, threshold=0.0)
    assert verdict.entry_id is None and verdict.reason == reason
    assert reason in GUARDED


@pytest.mark.parametrize("message", [
    "Quel temps fait-il à Lyon demain ?", "do you sell car tyres?", "can you recommend a good pizza place",
    "vous vendez des vélos électriques ?", "what's the capital of australia?",
])
def test_an_unrelated_message_is_not_answered(index, message):
    verdict = index.answer(message, threshold=THRESHOLD)
    assert verdict.entry_id is None
    assert verdict.reason in (Reason.OFF_TOPIC, Reason.LOW_CONFIDENCE)
    assert verdict.confidence < THRESHOLD


def test_a_message_about_nothing_the_base_knows_is_off_topic(index):
    assert index.answer("Quel temps fait-il à Lyon demain ?", threshold=THRESHOLD).reason == Reason.OFF_TOPIC


def test_the_message_language_is_preferred(index):
    french = index.answer("la garantie dure combien de temps ?", threshold=0.0)
    english = index.answer("how long is the warranty?", threshold=0.0)
    assert (index.entries[french.best_id].ref, french.lang) == ("garantie", "fr")
    assert (index.entries[english.best_id].ref, english.lang) == ("warranty", "en")


def test_an_entry_of_the_other_language_answers_when_the_base_has_none_in_the_messages():
    index = Index([Entry(1, "paypal", "en", "Can I pay with PayPal?\nWhich payment methods do you accept?", "Yes.")])
    verdict = index.answer("je peux payer par paypal ?", threshold=0.1)
    assert verdict.lang == "fr" and verdict.entry_id == 1
    assert verdict.confidence < 0.65  # few words in common: the bot is unsure, and says so


def test_a_given_language_is_the_one_read(index):
    assert index.ranked("return", lang="en", limit=1)[0][0] == 6


def test_the_brands_synonyms_let_it_recognise_its_customers_words():
    entries = [Entry(1, "abat-jour", "fr", "Vendez-vous des abat-jour de rechange ?", "Oui."),
               Entry(2, "horaires", "fr", "Quels sont vos horaires ?", "9 h - 19 h.")]
    plain = Index(entries).answer("vous vendez des chapeaux de lampe de rechange ?", threshold=0.0)
    taught = Index(entries, "abat jour, chapeau de lampe, chapeaux de lampe").answer(
        "vous vendez des chapeaux de lampe de rechange ?", threshold=0.0)
    assert taught.entry_id == 1 and taught.confidence > plain.confidence


def test_ranked_gives_the_best_entries_best_first_with_falling_confidence(index):
    ranked = index.ranked("combien de temps pour la livraison et la garantie ?", limit=3)
    assert ranked[0][0] in (1, 3)
    confidences = [confidence for _, confidence in ranked]
    assert confidences == sorted(confidences, reverse=True)
    assert all(0 <= confidence <= 1 for confidence in confidences)


def test_an_empty_base_hands_over():
    verdict = Index([]).answer("quels délais ?", threshold=0.5)
    assert (verdict.entry_id, verdict.reason) == (None, Reason.EMPTY_BASE)


def test_the_threshold_decides_between_answering_and_handing_over(index):
    verdict = index.answer("les délais de livraison ?", threshold=0.0)
    assert verdict.reason == Reason.ANSWERED
    above = index.answer("les délais de livraison ?", threshold=min(1.0, verdict.confidence + 0.01))
    assert above.entry_id is None and above.reason == Reason.LOW_CONFIDENCE and above.best_id == verdict.best_id


@pytest.mark.parametrize("feature", ["phrasing_covered", "margin", "strength"])
def test_confidence_rises_with_what_speaks_for_the_entry(feature):
    base = dict.fromkeys(calibration.FEATURES, 0.3)
    values = [calibration.FITTED.confidence({**base, feature: value}) for value in (0.0, 0.25, 0.5, 0.75, 1.0)]
    assert values == sorted(values) and values[0] < values[-1]


@pytest.mark.parametrize("feature", ["unknown", "unknown_share"])
def test_confidence_falls_with_the_words_the_base_never_uses(feature):
    base = dict.fromkeys(calibration.FEATURES, 0.3)
    values = [calibration.FITTED.confidence({**base, feature: value}) for value in (0.0, 0.25, 0.5, 0.75, 1.0)]
    assert values == sorted(values, reverse=True) and values[0] > values[-1]


def test_fit_recovers_a_rule_and_gives_a_calibrated_model():
    rows = [dict.fromkeys(calibration.FEATURES, 0.0) | {"phrasing_covered": x / 100} for x in range(101)] * 4
    outcomes = [(index % 101) / 100 > 0.5 if index % 7 else (index % 101) / 100 <= 0.5 for index in range(404)]
    model = calibration.fit(rows, outcomes, ridge=0.01)
    assert model.coefficients["phrasing_covered"] > 0
    low = model.confidence(rows[10])
    high = model.confidence(rows[90])
    assert low < 0.5 < high


def test_reliability_bands_count_the_answers_and_the_share_right():
    bands = calibration.reliability([0.1, 0.15, 0.95, 0.97, 1.0], [False, True, True, True, False])
    first, last = bands[0], bands[-1]
    assert (first["count"], first["right"]) == (2, 0.5)
    assert (last["count"], round(last["right"], 2)) == (3, 0.67)
