"""The knowledge base's entries one by one: its admins add, change and delete them, its people read them, another
brand's people find nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import AuditEvent, Role
from marketplace.brands.models import BrandRole
from marketplace.faq.models import FaqEntry
from tests.factories import UserFactory
from tests.faq.conftest import DELIVERY, RETURNS, caller, faq, member_of, refs, token_caller, version


def test_an_admin_adds_lists_changes_and_deletes_entries(session, brand, admin):
    created = admin.post(faq(brand.id, "/entries"), json=DELIVERY)
    assert created.status_code == 201, created.get_json()
    shown = created.get_json()
    assert {key: shown[key] for key in DELIVERY} == DELIVERY
    assert (shown["status"], shown["active"], shown["author_expert_id"]) == ("active", True, None)
    assert admin.post(faq(brand.id, "/entries"), json=RETURNS).status_code == 201

    listed = admin.get(faq(brand.id, "/entries")).get_json()
    assert [entry["ref"] for entry in listed["entries"]] == ["delivery", "returns"]
    assert (listed["total"], listed["page"], listed["pages"]) == (2, 1, 1)

    changed = admin.patch(faq(brand.id, f"/entries/{shown['id']}"), json={"answer": "En 48 h.", "active": False})
    assert changed.status_code == 200, changed.get_json()
    assert (changed.get_json()["answer"], changed.get_json()["active"], changed.get_json()["question"]) == \
        ("En 48 h.", False, DELIVERY["question"])
    assert admin.get(faq(brand.id, f"/entries/{shown['id']}")).get_json()["answer"] == "En 48 h."

    assert admin.delete(faq(brand.id, f"/entries/{shown['id']}")).status_code == 204
    assert refs(session, brand.id) == ["returns"]
    assert admin.get(faq(brand.id, f"/entries/{shown['id']}")).status_code == 404


def test_the_list_filters_by_language_text_and_status(session, brand, admin):
    for values in (DELIVERY, RETURNS, {**RETURNS, "ref": "retours", "lang": "fr", "question": "Comment renvoyer ?",
                                       "answer": "Sous 30 jours, 100% remboursé."}):
        assert admin.post(faq(brand.id, "/entries"), json=values).status_code == 201

    def listed(query: str) -> list[str]:
        response = admin.get(faq(brand.id, f"/entries?{query}"))
        assert response.status_code == 200, response.get_json()
        return [entry["ref"] for entry in response.get_json()["entries"]]

    assert listed("lang=fr") == ["delivery", "retours"]
    assert listed("q=RETURN") == ["returns"]
    assert listed("q=LIVRAISON") == ["delivery"]
    assert listed("q=100%25") == ["retours"]  # a % is text, not a wildcard
    assert listed("q=_") == []
    assert listed("status=proposed") == []
    assert admin.get(faq(brand.id, "/entries?lang=de")).status_code == 422
    assert admin.get(faq(brand.id, "/entries?status=gone")).status_code == 422


def test_every_change_moves_the_base_version(session, brand, admin):
    assert version(session, brand.id) == 0
    entry_id = admin.post(faq(brand.id, "/entries"), json=DELIVERY).get_json()["id"]
    assert version(session, brand.id) == 1
    admin.patch(faq(brand.id, f"/entries/{entry_id}"), json={"tags": []})
    assert version(session, brand.id) == 2
    admin.delete(faq(brand.id, f"/entries/{entry_id}"))
    assert version(session, brand.id) == 3


def test_markup_is_stripped_and_tags_are_trimmed(session, brand, admin):
    response = admin.post(faq(brand.id, "/entries"), json={
        **DELIVERY, "question": "<b>Délais</b> de livraison ?<script>alert(1)</script>",
        "answer": "3 &amp; 5 <a href='x'>jours</a>", "tags": ["  livraison ", "livraison", "", "délais"]})
    assert response.status_code == 201, response.get_json()
    shown = response.get_json()
    assert (shown["question"], shown["answer"], shown["tags"]) == \
        ("Délais de livraison ?", "3 & 5 jours", ["livraison", "délais"])


@pytest.mark.parametrize(("change", "field"), [
    ({"ref": "livraison express"}, "ref"),
    ({"ref": "x" * 65}, "ref"),
    ({"ref": ""}, "ref"),
    ({"lang": "de"}, "lang"),
    ({"question": "  "}, "question"),
    ({"question": "x" * 2001}, "question"),
    ({"answer": "<p></p>"}, "answer"),
    ({"tags": [f"t{n}" for n in range(11)]}, "tags"),
    ({"tags": ["a;b"]}, "tags"),
    ({"tags": ["x" * 41]}, "tags"),
])
def test_bad_fields_are_refused_naming_them_and_nothing_is_written(session, brand, admin, change, field):
    response = admin.post(faq(brand.id, "/entries"), json={**DELIVERY, **change})
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]
    assert refs(session, brand.id) == []
    assert version(session, brand.id) == 0


def test_a_missing_field_is_named(brand, admin):
    response = admin.post(faq(brand.id, "/entries"), json={"ref": "x", "lang": "fr"})
    assert response.status_code == 422
    assert {"question", "answer"} <= set(response.get_json()["errors"])


def test_a_ref_is_unique_in_the_brand_but_not_across_brands(app, session, brand, other_brand, admin):
    assert admin.post(faq(brand.id, "/entries"), json=DELIVERY).status_code == 201
    again = admin.post(faq(brand.id, "/entries"), json={**RETURNS, "ref": "delivery"})
    assert again.status_code == 409 and list(again.get_json()["errors"]) == ["ref"]
    second = admin.post(faq(brand.id, "/entries"), json=RETURNS).get_json()
    renamed = admin.patch(faq(brand.id, f"/entries/{second['id']}"), json={"ref": "delivery"})
    assert renamed.status_code == 409 and list(renamed.get_json()["errors"]) == ["ref"]
    theirs = caller(app, member_of(session, other_brand))
    assert theirs.post(faq(other_brand.id, "/entries"), json=DELIVERY).status_code == 201


def test_a_viewer_reads_but_changes_nothing(app, session, brand, admin, viewer):
    entry_id = admin.post(faq(brand.id, "/entries"), json=DELIVERY).get_json()["id"]
    assert viewer.get(faq(brand.id, "/entries")).status_code == 200
    assert viewer.get(faq(brand.id, f"/entries/{entry_id}")).status_code == 200
    token = token_caller(app, member_of(session, brand), brand, BrandRole.VIEWER)
    for who in (viewer, token):
        assert who.post(faq(brand.id, "/entries"), json=RETURNS).status_code == 403
        assert who.patch(faq(brand.id, f"/entries/{entry_id}"), json={"answer": "Non."}).status_code == 403
        assert who.delete(faq(brand.id, f"/entries/{entry_id}")).status_code == 403
    assert refs(session, brand.id) == ["delivery"]
    assert session.get(FaqEntry, entry_id).answer == DELIVERY["answer"]


def test_an_admin_token_writes_and_ops_may_read_and_write(app, session, brand):
    token = token_caller(app, member_of(session, brand), brand, BrandRole.ADMIN)
    assert token.post(faq(brand.id, "/entries"), json=DELIVERY).status_code == 201
    ops = caller(app, UserFactory(role=Role.OPS))
    session.commit()
    assert [e["ref"] for e in ops.get(faq(brand.id, "/entries")).get_json()["entries"]] == ["delivery"]
    assert ops.post(faq(brand.id, "/entries"), json=RETURNS).status_code == 201


def test_another_brands_people_get_404_for_everything(app, session, brand, other_brand, admin):
    """Rule 14: no entry, setting, answer or proposal of brand A is read or written by brand B's people."""
    entry_id = admin.post(faq(brand.id, "/entries"), json=DELIVERY).get_json()["id"]
    before = version(session, brand.id)
    for role in (BrandRole.ADMIN, BrandRole.VIEWER):
        outsider = caller(app, member_of(session, other_brand, role))
        for method, rest, body in [
            ("GET", "/entries", None), ("POST", "/entries", RETURNS), ("PUT", "/entries", [RETURNS]),
            ("GET", f"/entries/{entry_id}", None), ("PATCH", f"/entries/{entry_id}", {"answer": "Non."}),
            ("DELETE", f"/entries/{entry_id}", None), ("GET", "/entries.csv", None),
            ("POST", "/entries.csv", None), ("GET", "/settings", None), ("PATCH", "/settings", {"bot_enabled": True}),
            ("POST", "/answer", {"text": DELIVERY["question"]}), ("GET", "/proposals", None),
            ("POST", f"/proposals/{entry_id}/approve", {}), ("POST", f"/proposals/{entry_id}/reject", None),
        ]:
            response = outsider.open(method, faq(brand.id, rest), json=body)
            assert response.status_code == 404, (role, method, rest, response.status_code)
        # Their own brand's path does not reach brand A's entry either.
        assert outsider.get(faq(other_brand.id, f"/entries/{entry_id}")).status_code == 404
    assert refs(session, brand.id) == ["delivery"]
    assert version(session, brand.id) == before


def test_changes_are_audited(session, brand, admin):
    entry_id = admin.post(faq(brand.id, "/entries"), json=DELIVERY).get_json()["id"]
    admin.patch(faq(brand.id, f"/entries/{entry_id}"), json={"answer": "En 48 h."})
    admin.delete(faq(brand.id, f"/entries/{entry_id}"))
    events = session.scalars(sa.select(AuditEvent).where(AuditEvent.kind.like("faq_entry_%")).order_by(AuditEvent.id))
    assert [(event.kind, event.detail["ref"], event.detail["brand_id"]) for event in events] == [
        ("faq_entry_created", "delivery", brand.id), ("faq_entry_updated", "delivery", brand.id),
        ("faq_entry_deleted", "delivery", brand.id)]
