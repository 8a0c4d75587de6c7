"""A brand admin erases one contact at once: their text, files and identifiers go from every conversation of the
brand with them, the contact goes, an audit entry says who erased which contact; nobody else's data moves."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import AuditEvent
from marketplace.brands import services as brands
from marketplace.brands.models import BrandRole
from marketplace.database import db, utcnow
from marketplace.routing.models import (
    BrandChannel,
    Channel,
    ChannelWatermark,
    Contact,
    Conversation,
    ConversationStatus,
)
from tests.conftest import log_in
from tests.factories import BrandFactory, ConversationFactory
from tests.routing.conftest import admin_of
from tests.routing.retention.conftest import SECRETS, contact_of, personal_chat, written_text

DAY = dt.timedelta(days=1)


def _erase(client, csrf, brand_id, contact_id, **headers):
    return client.post(f"/api/v1/brands/{brand_id}/contacts/{contact_id}/erase",
                       headers={"X-CSRFToken": csrf, **headers})


@pytest.fixture
def ana(session, brand, files):
    """Ana, a contact of the brand with two conversations (one yesterday, one months ago), and Bob with one."""
    contact = contact_of(brand)
    chats = [personal_chat(brand, files, utcnow() - DAY, contact=contact),
             personal_chat(brand, files, utcnow() - 100 * DAY, contact=contact)]
    bob = contact_of(brand, "bob@example.com", "+33698765432")
    bobs = personal_chat(brand, files, utcnow() - DAY, contact=bob)
    session.commit()
    return contact, chats, bob, bobs


def test_erasing_a_contact_removes_their_text_files_and_identifiers_at_once(client, session, brand, ana):
    contact, chats, bob, bobs = ana
    bobs_before = written_text(bobs.id)
    admin = admin_of(session, brand)
    response = _erase(client, log_in(client, admin.email), brand.id, contact.id)

    assert response.status_code == 200, response.json
    assert response.json == {"contact_id": contact.id, "conversations": 2, "files": 2}
    session.expire_all()
    assert session.get(Contact, contact.id) is None
    for chat in chats:
        text = written_text(chat.id)
        assert not any(secret in text for secret in SECRETS), text
        assert not chat.file.exists()
        conversation = session.get(Conversation, chat.id)
        assert conversation.anonymised_at is not None and conversation.rating == 4
        assert conversation.status == ConversationStatus.CLOSED and conversation.last_seq == 4
    assert written_text(bobs.id) == bobs_before and bobs.file.exists()
    assert session.get(Contact, bob.id).email == "bob@example.com"

    [event] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.kind == "contact_erased")).all()
    assert event.actor_id == admin.id
    assert event.detail["contact_id"] == contact.id and event.detail["brand_id"] == brand.id
    assert event.detail["conversations"] == 2 and event.detail["files"] == 2
    assert not any(secret in repr(event.detail) for secret in SECRETS)  # who erased what, never the data


def test_erasing_takes_the_contacts_merged_into_it_too(client, session, brand, ana):
    contact, _chats, _bob, _bobs = ana
    merged = Contact(brand_id=brand.id, email="ana.old@example.com", email_normalised="ana.old@example.com",
                     merged_into_id=contact.id)
    db.session.add(merged)
    session.commit()
    merged_id = merged.id
    csrf = log_in(client, admin_of(session, brand).email)
    assert _erase(client, csrf, brand.id, contact.id).status_code == 200
    session.expire_all()
    assert session.get(Contact, merged_id) is None
    # A merged contact is erased through the one it went to: alone, it is not found.
    other = contact_of(brand, "carla@example.com", None)
    gone_into = Contact(brand_id=brand.id, email="c@example.com", email_normalised="c@example.com",
                        merged_into_id=other.id)
    db.session.add(gone_into)
    session.commit()
    assert _erase(client, csrf, brand.id, gone_into.id).status_code == 404


def test_an_api_token_of_an_admin_erases_and_is_named_in_the_audit(client, session, brand, ana):
    contact = ana[0]
    issued = brands.issue_api_token(admin_of(session, brand), brand.id, "privacy desk", BrandRole.ADMIN)
    response = client.post(f"/api/v1/brands/{brand.id}/contacts/{contact.id}/erase",
                           headers={"Authorization": f"Bearer {issued.secret}"})
    assert response.status_code == 200, response.json
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.kind == "contact_erased"))
    assert event.actor_id is None and event.detail["token_id"] == issued.token.id


def test_another_brands_admin_finds_no_such_contact(client, session, brand, ana):
    contact, chats, _bob, _bobs = ana
    other = BrandFactory()
    session.commit()
    csrf = log_in(client, admin_of(session, other).email)
    before = written_text(chats[0].id)
    assert _erase(client, csrf, brand.id, contact.id).status_code == 404  # not their brand
    assert _erase(client, csrf, other.id, contact.id).status_code == 404  # their brand, not their contact
    session.expire_all()
    assert session.get(Contact, contact.id) is not None and written_text(chats[0].id) == before


def test_a_viewer_may_not_erase(client, session, brand, ana):
    contact = ana[0]
    response = _erase(client, log_in(client, admin_of(session, brand, BrandRole.VIEWER).email), brand.id, contact.id)
    assert response.status_code == 403
    session.expire_all()
    assert session.get(Contact, contact.id) is not None


def test_a_contact_in_a_conversation_still_open_is_erased_once_it_ends(client, session, brand, ana):
    contact, chats, _bob, _bobs = ana
    ConversationFactory(brand=brand, status=ConversationStatus.ACTIVE, contact_id=contact.id,
                        visitor_email="ana@example.com")
    session.commit()
    before = written_text(chats[0].id)
    response = _erase(client, log_in(client, admin_of(session, brand).email), brand.id, contact.id)
    assert response.status_code == 409 and "contact_id" in response.json["errors"]
    session.expire_all()
    assert session.get(Contact, contact.id) is not None and written_text(chats[0].id) == before
    assert chats[0].file.exists()  # refused before a file went


@pytest.mark.parametrize("contact_id", ["0", "99999999", "9223372036854775808", "99999999999999999999999", "-1",
                                        "abc", "1%00"])
def test_hostile_contact_ids_find_nothing(client, session, brand, contact_id):
    csrf = log_in(client, admin_of(session, brand).email)
    response = client.post(f"/api/v1/brands/{brand.id}/contacts/{contact_id}/erase", headers={"X-CSRFToken": csrf})
    assert response.status_code == 404


def test_the_endpoint_is_in_the_openapi_document(client):
    document = client.get("/api/openapi.json").json
    operation = document["paths"]["/api/v1/brands/{brand_id}/contacts/{contact_id}/erase"]["post"]
    assert "409" in operation["responses"]


def test_erasing_a_contact_forgets_the_messenger_receipts_kept_for_them_on_the_brands_pages(
        client, session, brand, ana):
    contact, chats, bob, bobs = ana
    other_brand = BrandFactory()
    pages = {}
    for owner in (brand, other_brand):
        page = BrandChannel(brand_id=owner.id, kind=Channel.MESSENGER, account_id=f"page-{owner.id}",
                            access_token_sealed="x", app_secret_sealed="x", verify_token_sealed="x")
        session.add(page)
        session.flush()
        pages[owner.id] = page.id
    bob_customer = "bob-psid"
    session.execute(sa.update(Conversation).where(Conversation.id == bobs.id).values(channel_customer=bob_customer))
    now = utcnow()
    for channel_id, customer in [(pages[brand.id], "33612345678"), (pages[brand.id], bob_customer),
                                 (pages[other_brand.id], "33612345678")]:
        session.add(ChannelWatermark(channel_id=channel_id, customer=customer, read_up_to=now, read_at=now))
    session.commit()
    admin = admin_of(session, brand)
    assert _erase(client, log_in(client, admin.email), brand.id, contact.id).status_code == 200
    session.expire_all()
    kept = set(session.execute(sa.select(ChannelWatermark.channel_id, ChannelWatermark.customer)).tuples())
    # Ana's on this brand's page went; Bob's stays, and so does another brand's person of the same id.
    assert kept == {(pages[brand.id], bob_customer), (pages[other_brand.id], "33612345678")}
