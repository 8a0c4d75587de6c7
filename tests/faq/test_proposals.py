"""Entries experts propose from answers they wrote: kept aside until the brand approves (edited or not) or rejects
them; once approved, the bot answers with them and the expert is their author."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import AuditEvent
from marketplace.errors import InvalidInput
from marketplace.faq import entries
from marketplace.faq.models import EntryStatus, FaqEntry
from tests.factories import ApprovedExpertFactory
from tests.faq.conftest import DELIVERY, caller, faq, member_of, version

QUESTION, ANSWER = "Livrez-vous en Belgique ?", "Oui, en 4 à 6 jours ouvrés."


def _propose(brand_id: int, expert=None) -> FaqEntry:
    expert = expert or ApprovedExpertFactory(display_name="Emma")
    return entries.propose_entry(brand_id, expert.id, None, QUESTION, ANSWER, "fr")


def _fresh(session, entry_id: int) -> FaqEntry:
    return session.scalar(sa.select(FaqEntry).where(FaqEntry.id == entry_id).execution_options(populate_existing=True))


def test_a_proposal_waits_aside_with_its_author(session, brand, viewer):
    expert = ApprovedExpertFactory(display_name="Emma")
    proposal = entries.propose_entry(brand.id, expert.id, None, "<i>Livrez-vous</i> en Belgique ?", ANSWER, "fr")
    assert proposal.ref == f"proposal-{proposal.id}"
    assert (proposal.status, proposal.author_expert_id, proposal.question) == \
        (EntryStatus.PROPOSED, expert.id, QUESTION)
    listed = viewer.get(faq(brand.id, "/proposals")).get_json()["proposals"]
    assert [(p["id"], p["author_name"], p["status"], p["answer"]) for p in listed] == \
        [(proposal.id, "Emma", "proposed", ANSWER)]
    assert viewer.get(faq(brand.id, "/entries")).get_json()["entries"] == []  # not in the base
    assert viewer.get(faq(brand.id, "/entries?status=proposed")).get_json()["total"] == 1
    assert viewer.post(faq(brand.id, "/answer"), json={"text": QUESTION}).get_json()["entry"] is None
    event = session.scalar(sa.select(AuditEvent).where(AuditEvent.kind == "faq_entry_proposed"))
    assert (event.detail["entry_id"], event.detail["expert_id"]) == (proposal.id, expert.id)


def test_a_proposal_is_refused_naming_the_field(brand):
    expert = ApprovedExpertFactory()
    for values, field in (((QUESTION, "", "fr"), "answer"), (("", ANSWER, "fr"), "question"),
                          ((QUESTION, ANSWER, "de"), "lang")):
        with pytest.raises(InvalidInput) as refused:
            entries.propose_entry(brand.id, expert.id, None, *values)
        assert field in refused.value.errors


def test_an_approved_proposal_answers_with_the_brands_edits(session, brand, admin):
    proposal = _propose(brand.id)
    admin.post(faq(brand.id, "/answer"), json={"text": QUESTION})  # this process holds an index without it
    response = admin.post(faq(brand.id, f"/proposals/{proposal.id}/approve"),
                          json={"ref": "belgique", "answer": "Oui : 4 à 6 jours ouvrés."})
    assert response.status_code == 200, response.get_json()
    shown = response.get_json()
    assert (shown["ref"], shown["status"], shown["question"], shown["answer"]) == \
        ("belgique", "active", QUESTION, "Oui : 4 à 6 jours ouvrés.")
    assert shown["decided_at"] is not None
    stored = _fresh(session, proposal.id)
    assert stored.decided_by_id is not None and stored.author_expert_id == proposal.author_expert_id
    answered = admin.post(faq(brand.id, "/answer"), json={"text": QUESTION}).get_json()
    assert answered["entry"] == {"ref": "belgique", "id": proposal.id, "answer": "Oui : 4 à 6 jours ouvrés."}
    assert admin.get(faq(brand.id, "/proposals")).get_json()["proposals"] == []


def test_a_proposal_is_decided_once(session, brand, admin):
    approved, rejected = _propose(brand.id), _propose(brand.id)
    assert admin.post(faq(brand.id, f"/proposals/{approved.id}/approve"), json={}).status_code == 200
    assert admin.post(faq(brand.id, f"/proposals/{rejected.id}/reject")).status_code == 200
    assert _fresh(session, rejected.id).status == EntryStatus.REJECTED
    for entry_id in (approved.id, rejected.id):
        for action, body in (("approve", {}), ("reject", None)):
            response = admin.post(faq(brand.id, f"/proposals/{entry_id}/{action}"), json=body)
            assert response.status_code == 409, (entry_id, action)
    assert admin.get(faq(brand.id, "/entries?status=rejected")).get_json()["total"] == 1


def test_an_approval_with_a_taken_ref_or_a_bad_edit_is_refused(session, brand, admin):
    admin.post(faq(brand.id, "/entries"), json=DELIVERY)
    proposal = _propose(brand.id)
    taken = admin.post(faq(brand.id, f"/proposals/{proposal.id}/approve"), json={"ref": "delivery"})
    assert taken.status_code == 409 and list(taken.get_json()["errors"]) == ["ref"]
    bad = admin.post(faq(brand.id, f"/proposals/{proposal.id}/approve"), json={"question": "<p> </p>", "lang": "de"})
    assert bad.status_code == 422 and set(bad.get_json()["errors"]) == {"question", "lang"}
    assert _fresh(session, proposal.id).status == EntryStatus.PROPOSED


def test_deciding_moves_the_base_version(session, brand, admin):
    proposal = _propose(brand.id)
    before = version(session, brand.id)
    admin.post(faq(brand.id, f"/proposals/{proposal.id}/approve"), json={})
    assert version(session, brand.id) == before + 1


def test_a_viewer_cannot_decide_and_another_brand_cannot_see(app, session, brand, other_brand, viewer):
    proposal = _propose(brand.id)
    assert viewer.post(faq(brand.id, f"/proposals/{proposal.id}/approve"), json={}).status_code == 403
    assert viewer.post(faq(brand.id, f"/proposals/{proposal.id}/reject")).status_code == 403
    outsider = caller(app, member_of(session, other_brand))
    assert outsider.get(faq(brand.id, "/proposals")).status_code == 404
    assert outsider.get(faq(other_brand.id, "/proposals")).get_json()["proposals"] == []
    for action in ("approve", "reject"):  # through their own brand's path, brand A's proposal is not found
        response = outsider.post(faq(other_brand.id, f"/proposals/{proposal.id}/{action}"), json={})
        assert response.status_code == 404, action
    assert _fresh(session, proposal.id).status == EntryStatus.PROPOSED


def test_a_ref_like_the_next_proposals_is_left_to_the_brand(session, brand, admin):
    first = _propose(brand.id)
    # The brand's entry takes the next id; the next proposal's ref is taken by it.
    admin.post(faq(brand.id, "/entries"), json={**DELIVERY, "ref": f"proposal-{first.id + 2}"})
    second = _propose(brand.id)
    assert second.ref == f"proposal-{second.id}-2"
