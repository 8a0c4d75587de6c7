"""Two brands, one e-mail address: two contacts, and nothing crosses between them (issue 18, DESIGN rule 14).

The widget's iframe is on the marketplace's origin for every brand, so one browser carries the same visitor token
to both brands: neither the address nor the token may link one brand's conversations to the other's.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import User
from marketplace.database import db
from marketplace.errors import NotFound
from marketplace.routing.contacts import history
from marketplace.routing.contacts import services as contacts
from marketplace.routing.models import Contact, Conversation, ConversationStatus
from tests.conftest import log_in
from tests.factories import BrandFactory, MessageFactory
from tests.routing.conftest import admin_of, online_expert, visitor_token
from tests.routing.contacts.conftest import chat_with_address


@pytest.fixture
def world(session):
    """Brands A and B; one browser (one token) that chatted with both under the same address and proved it to both;
    a live chat of that visitor with each brand, each held by an expert of that brand only."""
    a, b = BrandFactory(name="Lumière"), BrandFactory(name="Ombre")
    token = visitor_token()
    old_a = chat_with_address(a, token, "ana@example.com", messages=["Ma lampe clignote"])
    old_b = chat_with_address(b, token, "ANA@example.com", messages=["Secret de la marque B"])
    expert_a, expert_b = online_expert(a), online_expert(b)
    live_a = chat_with_address(a, token, "ana@example.com", status=ConversationStatus.ACTIVE, expert=expert_a)
    live_b = chat_with_address(b, token, "ana@example.com", status=ConversationStatus.ACTIVE, expert=expert_b)
    MessageFactory(conversation=old_b, body="Un autre secret")
    session.commit()
    contacts.address_proved(old_a.id, "ana@example.com")
    contacts.address_proved(old_b.id, "Ana@Example.com")
    return {"a": a, "b": b, "old_a": old_a, "old_b": old_b, "live_a": live_a, "live_b": live_b,
            "expert_a": expert_a, "expert_b": expert_b,
            "contact_a": _contact_of(a.id), "contact_b": _contact_of(b.id)}


def _contact_of(brand_id: int) -> Contact:
    return db.session.scalar(sa.select(Contact).where(Contact.brand_id == brand_id))


def _contact_id(conversation: Conversation) -> int | None:
    return db.session.get(Conversation, conversation.id, populate_existing=True).contact_id


def test_one_address_with_two_brands_is_two_contacts_each_linking_its_own_brands_chats_only(session, world):
    contact_a, contact_b = world["contact_a"], world["contact_b"]
    assert contact_a.id != contact_b.id
    assert contact_a.email_normalised == contact_b.email_normalised == "ana@example.com"
    assert session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 2
    # The same token linked each brand's own conversations, never the other brand's.
    assert {_contact_id(world["old_a"]), _contact_id(world["live_a"])} == {contact_a.id}
    assert {_contact_id(world["old_b"]), _contact_id(world["live_b"])} == {contact_b.id}


def test_each_brands_pages_and_api_show_only_its_own_contact(client, session, world):
    a, b, contact_a, contact_b = world["a"], world["b"], world["contact_a"], world["contact_b"]
    admin = admin_of(session, a)
    log_in(client, admin.email)
    listed = client.get(f"/api/v1/brands/{a.id}/contacts")
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json["contacts"]] == [contact_a.id]
    assert listed.json["contacts"][0]["conversation_count"] == 2
    detail = client.get(f"/api/v1/brands/{a.id}/contacts/{contact_a.id}").json
    assert {c["id"] for c in detail["conversations"]} == {world["old_a"].id, world["live_a"].id}
    assert "Secret" not in str(detail)
    # B's contact, through A's path or B's own, is not found for A's admin.
    assert client.get(f"/api/v1/brands/{a.id}/contacts/{contact_b.id}").status_code == 404
    assert client.get(f"/api/v1/brands/{b.id}/contacts").status_code == 404
    assert client.get(f"/brands/{a.slug}/contacts/{contact_b.id}").status_code == 404
    assert client.get(f"/brands/{b.slug}/contacts").status_code == 404
    page = client.get(f"/brands/{a.slug}/contacts").get_data(as_text=True)
    assert f'data-contact-id="{contact_a.id}"' in page and f'data-contact-id="{contact_b.id}"' not in page


def test_a_wrong_brand_id_finds_nothing_in_the_services(session, world):
    ops = session.get(User, admin_of(session, world["a"]).id)
    with pytest.raises(NotFound):
        history.contact_detail(ops, world["a"].id, world["contact_b"].id)
    assert contacts.contact_for_visitor(world["a"].id, world["old_b"].visitor_token_hash) == world["contact_a"].id
    assert contacts.contact_for_visitor(BrandFactory().id, world["old_b"].visitor_token_hash) is None


def test_merging_across_brands_is_refused_and_changes_nothing(client, session, world):
    a, contact_a, contact_b = world["a"], world["contact_a"], world["contact_b"]
    admin = admin_of(session, a)
    with pytest.raises(NotFound):
        contacts.merge_contacts(admin, a.id, contact_a.id, contact_b.id)
    csrf = log_in(client, admin.email)
    answer = client.post(f"/api/v1/brands/{a.id}/contacts/merge", json={"keep_id": contact_a.id,
                                                                       "merge_id": contact_b.id},
                         headers={"X-CSRFToken": csrf})
    assert answer.status_code == 404
    page = client.post(f"/brands/{a.slug}/contacts/{contact_a.id}/merge",
                       data={"other_id": contact_b.id, "keep": "this", "csrf_token": csrf})
    assert page.status_code == 422  # B's contact is not among the choices
    assert db.session.get(Contact, contact_b.id, populate_existing=True).merged_into_id is None
    assert _contact_id(world["old_b"]) == contact_b.id


def test_an_expert_sees_only_the_history_of_their_chats_brand(client, session, world):
    expert_a = world["expert_a"]
    log_in(client, session.get(User, expert_a.user_id).email)
    seen = client.get(f"/api/v1/conversations/{world['live_a'].id}/history")
    assert seen.status_code == 200
    assert seen.json["known"] is True
    assert [c["id"] for c in seen.json["conversations"]] == [world["old_a"].id]
    assert seen.json["conversations"][0]["first_lines"] == "Ma lampe clignote"
    transcript = client.get(f"/api/v1/conversations/{world['live_a'].id}/history/{world['old_a'].id}")
    assert [m["body"] for m in transcript.json["messages"]] == ["Ma lampe clignote"]
    # Brand B's conversations of the same address: neither through A's chat nor through B's own.
    assert client.get(f"/api/v1/conversations/{world['live_a'].id}/history/{world['old_b'].id}").status_code == 404
    assert client.get(f"/api/v1/conversations/{world['live_b'].id}/history").status_code == 404
    assert client.get(f"/api/v1/conversations/{world['live_b'].id}/history/{world['old_b'].id}").status_code == 404
