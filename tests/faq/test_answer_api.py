"""Trying the bot through the API: the brand's own base answers, another brand's never does, and a change of the
base is seen by the next answer."""

from __future__ import annotations

from marketplace.faq import answering, entries
from marketplace.faq.models import EntryStatus, FaqEntry
from tests.faq.conftest import DELIVERY, RETURNS, caller, faq, member_of


def test_the_brands_entry_answers_its_question(brand, admin):
    entry_id = admin.post(faq(brand.id, "/entries"), json=DELIVERY).get_json()["id"]
    response = admin.post(faq(brand.id, "/answer"), json={"text": DELIVERY["question"]})
    assert response.status_code == 200, response.get_json()
    shown = response.get_json()
    assert shown["entry"] == {"ref": "delivery", "id": entry_id, "answer": DELIVERY["answer"]}
    assert (shown["handover"], shown["reason"]) == (False, "answered")
    assert 0.6 <= shown["confidence"] <= 1


def test_an_empty_base_hands_over(brand, viewer):
    response = viewer.post(faq(brand.id, "/answer"), json={"text": DELIVERY["question"]})
    assert response.status_code == 200  # any of the brand's people may try it
    assert response.get_json() == {"entry": None, "confidence": 0.0, "handover": True, "reason": "empty_base"}


def test_a_language_narrows_the_entries(brand, admin):
    admin.post(faq(brand.id, "/entries"), json=RETURNS)
    assert admin.post(faq(brand.id, "/answer"), json={"text": RETURNS["question"], "lang": "en"}).get_json()["entry"]
    in_french = admin.post(faq(brand.id, "/answer"), json={"text": RETURNS["question"], "lang": "fr"}).get_json()
    assert in_french["entry"] is None and in_french["handover"]


def test_bad_questions_are_refused_naming_the_field(brand, admin):
    for body, field in (({}, "text"), ({"text": "   "}, "text"), ({"text": "x" * 4001}, "text"),
                        ({"text": "Bonjour ?", "lang": "de"}, "lang")):
        response = admin.post(faq(brand.id, "/answer"), json=body)
        assert response.status_code == 422, body
        assert field in response.get_json()["errors"], body


def test_no_answer_crosses_brands_even_for_the_same_question(app, session, brand, other_brand, admin):
    """Rule 14: brand A's bot answers from A's base only, whatever B's base holds."""
    theirs = caller(app, member_of(session, other_brand))
    their_id = theirs.post(faq(other_brand.id, "/entries"), json=DELIVERY).get_json()["id"]
    assert admin.post(faq(brand.id, "/answer"), json={"text": DELIVERY["question"]}).get_json()["entry"] is None
    assert answering.answer(brand.id, DELIVERY["question"]).entry is None
    assert answering.suggestions(brand.id, DELIVERY["question"]) == []

    own_id = admin.post(faq(brand.id, "/entries"), json={**DELIVERY, "answer": "Chez nous : 2 jours."}).get_json()["id"]
    for who, brand_id, expected in ((admin, brand.id, own_id), (theirs, other_brand.id, their_id)):
        entry = who.post(faq(brand_id, "/answer"), json={"text": DELIVERY["question"]}).get_json()["entry"]
        assert entry["id"] == expected
    assert admin.post(faq(other_brand.id, "/answer"), json={"text": DELIVERY["question"]}).status_code == 404


def test_the_next_answer_sees_an_entry_added_since(session, brand, admin):
    """The version moved in the entry's transaction makes every process rebuild its index at its next answer."""
    assert admin.post(faq(brand.id, "/answer"), json={"text": RETURNS["question"]}).get_json()["entry"] is None
    assert brand.id in answering._indexes  # this process now holds an index of the (empty) base
    entry_id = admin.post(faq(brand.id, "/entries"), json=RETURNS).get_json()["id"]
    answered = admin.post(faq(brand.id, "/answer"), json={"text": RETURNS["question"]}).get_json()
    assert answered["entry"]["id"] == entry_id

    admin.patch(faq(brand.id, f"/entries/{entry_id}"), json={"answer": "Within 60 days."})
    assert admin.post(faq(brand.id, "/answer"), json={"text": RETURNS["question"]}).get_json()["entry"]["answer"] \
        == "Within 60 days."
    admin.delete(faq(brand.id, f"/entries/{entry_id}"))
    assert admin.post(faq(brand.id, "/answer"), json={"text": RETURNS["question"]}).get_json()["entry"] is None


def test_a_row_written_without_the_version_stays_unseen_until_the_next_change(session, brand, admin):
    """What the version is for: the cached index is kept while it has not moved."""
    admin.post(faq(brand.id, "/entries"), json=DELIVERY)
    admin.post(faq(brand.id, "/answer"), json={"text": RETURNS["question"]})
    session.add(FaqEntry(brand_id=brand.id, status=EntryStatus.ACTIVE, **RETURNS))
    session.commit()
    assert admin.post(faq(brand.id, "/answer"), json={"text": RETURNS["question"]}).get_json()["entry"] is None
    admin.patch(faq(brand.id, "/settings"), json={"synonyms": "retour, renvoi"})
    assert admin.post(faq(brand.id, "/answer"), json={"text": RETURNS["question"]}).get_json()["entry"]["ref"] \
        == "returns"


def test_an_entry_out_of_use_or_proposed_does_not_answer(session, brand, admin):
    entry_id = admin.post(faq(brand.id, "/entries"), json={**DELIVERY, "active": False}).get_json()["id"]
    assert admin.post(faq(brand.id, "/answer"), json={"text": DELIVERY["question"]}).get_json()["entry"] is None
    admin.patch(faq(brand.id, f"/entries/{entry_id}"), json={"active": True})
    assert admin.post(faq(brand.id, "/answer"), json={"text": DELIVERY["question"]}).get_json()["entry"]
    entries.propose_entry(brand.id, None, None, RETURNS["question"], RETURNS["answer"], "en")
    assert admin.post(faq(brand.id, "/answer"), json={"text": RETURNS["question"]}).get_json()["entry"] is None
