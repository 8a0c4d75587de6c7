"""The brand's admins merge two of its contacts from the contact page or the API; viewers only read."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import AuditEvent
from marketplace.brands.models import BrandRole
from marketplace.database import db
from marketplace.errors import Forbidden, InvalidInput
from marketplace.routing.contacts import services as contacts
from marketplace.routing.models import Contact, Conversation
from tests.conftest import log_in
from tests.routing.conftest import admin_of, visitor_token
from tests.routing.contacts.conftest import chat_with_address


@pytest.fixture
def pair(session, brand):
    """Two contacts of the brand (the same person with two addresses), each with its own conversation."""
    ana = chat_with_address(brand, visitor_token(), "ana@example.com")
    work = chat_with_address(brand, visitor_token(), "ana@work.example")
    session.commit()
    contacts.address_proved(ana.id, "ana@example.com")
    contacts.address_proved(work.id, "ana@work.example")
    by_email = {c.email: c for c in db.session.scalars(sa.select(Contact).where(Contact.brand_id == brand.id))}
    return by_email["ana@example.com"], by_email["ana@work.example"], ana, work


def _merges_audited() -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.kind == "contacts_merged")))


def _state(contact_id: int) -> Contact:
    return db.session.get(Contact, contact_id, populate_existing=True)


def test_a_merge_moves_the_conversations_to_the_contact_kept_and_is_audited(session, brand, pair):
    kept, merged, ana, work = pair
    admin = admin_of(session, brand)
    contacts.merge_contacts(admin, brand.id, kept.id, merged.id)
    moved = db.session.scalars(sa.select(Conversation.contact_id).where(Conversation.id.in_([ana.id, work.id])))
    assert set(moved) == {kept.id}
    assert _state(merged.id).merged_into_id == kept.id and _state(kept.id).merged_into_id is None
    [event] = _merges_audited()
    assert event.actor_id == admin.id
    assert event.detail["contact_id"] == kept.id and event.detail["merged_contact_id"] == merged.id
    assert event.detail["brand_id"] == brand.id and event.detail["conversations"] == 1
    # A later proof of the merged address finds the contact kept, not a new one.
    again = chat_with_address(brand, visitor_token(), "ana@work.example")
    session.commit()
    contacts.address_proved(again.id, "ana@work.example")
    assert db.session.get(Conversation, again.id, populate_existing=True).contact_id == kept.id


def test_the_contact_page_merges_keeping_the_one_chosen(client, session, brand, pair):
    kept, merged, ana, work = pair
    csrf = log_in(client, admin_of(session, brand).email)
    page = client.get(f"/brands/{brand.slug}/contacts/{kept.id}").get_data(as_text=True)
    assert 'data-testid="merge-form"' in page and "ana@work.example" in page
    answer = client.post(f"/brands/{brand.slug}/contacts/{kept.id}/merge",
                         data={"other_id": merged.id, "keep": "other", "csrf_token": csrf})
    assert answer.status_code == 302 and answer.location.endswith(f"/contacts/{merged.id}")
    assert _state(kept.id).merged_into_id == merged.id
    shown = client.get(answer.location).get_data(as_text=True)
    assert f'data-conversation-id="{ana.id}"' in shown and f'data-conversation-id="{work.id}"' in shown
    assert len(_merges_audited()) == 1


def test_a_viewer_reads_contacts_but_cannot_merge_them(client, session, brand, pair):
    kept, merged, _, _ = pair
    viewer = admin_of(session, brand, BrandRole.VIEWER)
    with pytest.raises(Forbidden):
        contacts.merge_contacts(viewer, brand.id, kept.id, merged.id)
    csrf = log_in(client, viewer.email)
    page = client.get(f"/brands/{brand.slug}/contacts/{kept.id}")
    assert page.status_code == 200 and 'data-testid="merge-form"' not in page.get_data(as_text=True)
    form = client.post(f"/brands/{brand.slug}/contacts/{kept.id}/merge",
                       data={"other_id": merged.id, "keep": "this", "csrf_token": csrf})
    api = client.post(f"/api/v1/brands/{brand.id}/contacts/merge", json={"keep_id": kept.id, "merge_id": merged.id},
                      headers={"X-CSRFToken": csrf})
    assert (form.status_code, api.status_code) == (403, 403)
    assert _state(merged.id).merged_into_id is None and _merges_audited() == []


@pytest.mark.parametrize(("body", "field"), [
    ({"keep_id": "one", "merge_id": 2}, "keep_id"),
    ({"keep_id": 1}, "merge_id"),
    ({"keep_id": 1, "merge_id": 0}, "merge_id"),
])
def test_bad_merge_input_is_refused_naming_the_field(client, session, brand, pair, body, field):
    csrf = log_in(client, admin_of(session, brand).email)
    answer = client.post(f"/api/v1/brands/{brand.id}/contacts/merge", json=body, headers={"X-CSRFToken": csrf})
    assert answer.status_code == 422 and answer.mimetype == "application/problem+json"
    assert field in answer.json["errors"]


def test_a_contact_merged_with_itself_or_one_merged_already_is_refused(client, session, brand, pair):
    kept, merged, _, _ = pair
    admin = admin_of(session, brand)
    with pytest.raises(InvalidInput) as same:
        contacts.merge_contacts(admin, brand.id, kept.id, kept.id)
    assert same.value.field == "merge_id"
    contacts.merge_contacts(admin, brand.id, kept.id, merged.id)
    csrf = log_in(client, admin.email)
    again = client.post(f"/api/v1/brands/{brand.id}/contacts/merge", json={"keep_id": merged.id, "merge_id": kept.id},
                        headers={"X-CSRFToken": csrf})
    assert again.status_code == 404 and len(_merges_audited()) == 1


def test_the_contact_list_searches_and_a_bad_page_is_refused_naming_it(client, session, brand, pair):
    log_in(client, admin_of(session, brand).email)
    found = client.get(f"/api/v1/brands/{brand.id}/contacts?q=WORK").json
    assert [c["email"] for c in found["contacts"]] == ["ana@work.example"] and found["total"] == 1
    assert client.get(f"/api/v1/brands/{brand.id}/contacts?q=%25").json["total"] == 0  # a LIKE wildcard is text
    bad = client.get(f"/api/v1/brands/{brand.id}/contacts?page=0")
    assert bad.status_code == 422 and "page" in bad.json["errors"]
    page = client.get(f"/brands/{brand.slug}/contacts?q=work").get_data(as_text=True)
    assert page.count('data-testid="contact-row"') == 1


def test_the_contact_list_pages_by_fifty_keeping_the_search(client, session, brand):
    session.add_all([Contact(brand_id=brand.id, email=f"fan{n}@example.com", email_normalised=f"fan{n}@example.com")
                     for n in range(51)])
    session.commit()
    log_in(client, admin_of(session, brand).email)
    first = client.get(f"/brands/{brand.slug}/contacts?q=fan").get_data(as_text=True)
    assert first.count('data-testid="contact-row"') == 50
    assert f'href="/brands/{brand.slug}/contacts?page=2&amp;q=fan"' in first
    second = client.get(f"/brands/{brand.slug}/contacts?q=fan&page=2").get_data(as_text=True)
    assert second.count('data-testid="contact-row"') == 1
    assert client.get(f"/api/v1/brands/{brand.id}/contacts?page=2").json["pages"] == 2
