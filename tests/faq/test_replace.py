"""The whole base replaced at once (PUT with a JSON list): matched by ref, all or nothing."""

from __future__ import annotations

import sqlalchemy as sa

from marketplace.accounts.models import AuditEvent
from marketplace.faq import cleaning, entries
from marketplace.faq.models import EntryStatus, FaqEntry
from tests.factories import ApprovedExpertFactory
from tests.faq.conftest import DELIVERY, RETURNS, faq, refs, version

SIZES = {"ref": "sizes", "lang": "en", "question": "What size should I take?", "answer": "Take your usual size."}


def _entry(session, brand_id: int, ref: str) -> FaqEntry:
    return session.scalar(sa.select(FaqEntry).where(FaqEntry.brand_id == brand_id, FaqEntry.ref == ref)
                          .execution_options(populate_existing=True))


def test_it_adds_changes_and_deletes_by_ref_and_reports_it(session, brand, admin):
    kept_id = admin.post(faq(brand.id, "/entries"), json=DELIVERY).get_json()["id"]
    admin.post(faq(brand.id, "/entries"), json=RETURNS)
    admin.post(faq(brand.id, "/entries"), json={**SIZES, "ref": "old"})
    before = version(session, brand.id)

    response = admin.put(faq(brand.id, "/entries"), json=[
        DELIVERY, {**RETURNS, "answer": "Within 60 days now."}, SIZES])
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"created": 1, "updated": 1, "unchanged": 1, "deleted": 1}
    assert refs(session, brand.id) == ["delivery", "returns", "sizes"]
    assert _entry(session, brand.id, "delivery").id == kept_id  # matched by ref: the same entry
    assert _entry(session, brand.id, "returns").answer == "Within 60 days now."
    assert version(session, brand.id) == before + 1


def test_an_empty_list_empties_the_base(session, brand, admin):
    admin.post(faq(brand.id, "/entries"), json=DELIVERY)
    response = admin.put(faq(brand.id, "/entries"), json=[])
    assert response.get_json() == {"created": 0, "updated": 0, "unchanged": 0, "deleted": 1}
    assert refs(session, brand.id) == []


def test_one_bad_row_refuses_it_all_naming_the_row_and_field(session, brand, admin):
    admin.post(faq(brand.id, "/entries"), json=DELIVERY)
    before = version(session, brand.id)
    response = admin.put(faq(brand.id, "/entries"), json=[
        {**DELIVERY, "answer": "Changed."}, RETURNS, {**SIZES, "lang": "de"}, {**SIZES, "ref": "x y", "answer": ""}])
    assert response.status_code == 422, response.get_json()
    assert set(response.get_json()["errors"]) == {"2.lang", "3.ref", "3.answer"}
    assert refs(session, brand.id) == ["delivery"]
    assert _entry(session, brand.id, "delivery").answer == DELIVERY["answer"]
    assert version(session, brand.id) == before


def test_a_shape_error_names_the_row_too(session, brand, admin):
    response = admin.put(faq(brand.id, "/entries"), json=[DELIVERY, {**RETURNS, "question": 12}])
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["1.question"]
    assert refs(session, brand.id) == []


def test_a_ref_listed_twice_is_refused(session, brand, admin):
    response = admin.put(faq(brand.id, "/entries"), json=[DELIVERY, {**RETURNS, "ref": "delivery"}])
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["1.ref"]
    assert refs(session, brand.id) == []


def test_an_object_instead_of_a_list_is_refused(brand, admin):
    response = admin.put(faq(brand.id, "/entries"), json={"entries": [DELIVERY]})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"


def test_a_viewer_cannot_replace_the_base(session, brand, admin, viewer):
    admin.post(faq(brand.id, "/entries"), json=DELIVERY)
    assert viewer.put(faq(brand.id, "/entries"), json=[]).status_code == 403
    assert refs(session, brand.id) == ["delivery"]


def test_proposals_stay_and_a_listed_proposal_ref_is_put_in_use(session, brand, admin):
    expert = ApprovedExpertFactory()
    waiting = entries.propose_entry(brand.id, expert.id, None, "Livrez-vous en Belgique ?", "Oui, en 4 jours.", "fr")
    other = entries.propose_entry(brand.id, expert.id, None, "Et en Suisse ?", "Non.", "fr")
    response = admin.put(faq(brand.id, "/entries"), json=[
        DELIVERY, {"ref": other.ref, "lang": "fr", "question": "Livrez-vous en Suisse ?", "answer": "Pas encore."}])
    assert response.get_json() == {"created": 1, "updated": 1, "unchanged": 0, "deleted": 0}
    assert _entry(session, brand.id, waiting.ref).status == EntryStatus.PROPOSED
    assert _entry(session, brand.id, other.ref).status == EntryStatus.ACTIVE


def test_a_replace_is_audited_with_its_counts(session, brand, admin):
    admin.put(faq(brand.id, "/entries"), json=[DELIVERY, RETURNS])
    event = session.scalar(sa.select(AuditEvent).where(AuditEvent.kind == "faq_base_replaced"))
    assert (event.detail["brand_id"], event.detail["created"], event.detail["deleted"]) == (brand.id, 2, 0)


def test_a_brand_keeps_a_bounded_number_of_entries(monkeypatch, session, brand, admin):
    monkeypatch.setattr(cleaning, "MAX_ENTRIES", 2)
    monkeypatch.setattr(entries, "MAX_ENTRIES", 2)
    too_many = admin.put(faq(brand.id, "/entries"), json=[DELIVERY, RETURNS, SIZES])
    assert too_many.status_code == 422 and list(too_many.get_json()["errors"]) == ["body"]
    assert admin.put(faq(brand.id, "/entries"), json=[DELIVERY, RETURNS]).status_code == 200
    one_more = admin.post(faq(brand.id, "/entries"), json=SIZES)
    assert one_more.status_code == 422 and list(one_more.get_json()["errors"]) == ["ref"]
    assert refs(session, brand.id) == ["delivery", "returns"]
