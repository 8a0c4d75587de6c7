"""A proof of an address makes a contact of the brand and links the visitor's conversations, now and later."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from marketplace.database import db, utcnow
from marketplace.errors import Conflict
from marketplace.routing.chat import messages
from marketplace.routing.contacts import services as contacts
from marketplace.routing.models import Contact, Conversation, ConversationStatus, Sender
from tests.factories import BrandFactory
from tests.routing.conftest import arrive, online_expert, visitor_token
from tests.routing.contacts.conftest import chat_with_address


def _contacts(brand_id: int) -> list[Contact]:
    return list(db.session.scalars(sa.select(Contact).where(Contact.brand_id == brand_id).order_by(Contact.id)))


def _contact_id(conversation_id: int) -> int | None:
    return db.session.get(Conversation, conversation_id, populate_existing=True).contact_id


def test_a_proof_twice_makes_one_contact_and_the_second_updates_when_it_was_proved(session, brand):
    chat = chat_with_address(brand, visitor_token(), "ana@example.com")
    session.commit()
    contacts.address_proved(chat.id, "ana@example.com")
    first = _contacts(brand.id)
    proved = first[0].proved_at
    contacts.address_proved(chat.id, "ana@example.com")
    again = _contacts(brand.id)
    assert [c.id for c in again] == [first[0].id]
    session.refresh(again[0])
    assert again[0].proved_at >= proved
    assert _contact_id(chat.id) == first[0].id


def test_the_address_is_compared_lower_cased_with_its_domain_in_idna(session, brand):
    chat = chat_with_address(brand, visitor_token(), "ana@exämple.com")
    session.commit()
    contacts.address_proved(chat.id, "ANA@Exämple.COM")
    [contact] = _contacts(brand.id)
    assert contact.email_normalised == "ana@xn--exmple-cua.com"
    assert contact.email == "ana@exämple.com"
    assert _contact_id(chat.id) == contact.id


@pytest.mark.parametrize("proved", ["eve@example.com", "not an address", ""])
def test_another_address_proves_nothing(session, brand, proved):
    chat = chat_with_address(brand, visitor_token(), "ana@example.com")
    session.commit()
    contacts.address_proved(chat.id, proved)
    assert _contacts(brand.id) == [] and _contact_id(chat.id) is None


def test_an_unknown_conversation_or_one_without_consent_proves_nothing(session, brand):
    chat = chat_with_address(brand, visitor_token(), "ana@example.com", visitor_email_consent_at=None)
    session.commit()
    contacts.address_proved(chat.id, "ana@example.com")
    contacts.address_proved(chat.id + 1000, "ana@example.com")
    assert _contacts(brand.id) == []


def test_the_visitors_other_conversations_with_the_brand_are_linked_not_anothers(session, brand):
    token = visitor_token()
    proved = chat_with_address(brand, token, "ana@example.com")
    earlier = chat_with_address(brand, token, None, ago=dt.timedelta(days=9))
    someone_else = chat_with_address(brand, visitor_token(), "ana@example.com")
    session.commit()
    contacts.address_proved(proved.id, "ana@example.com")
    [contact] = _contacts(brand.id)
    assert (_contact_id(proved.id), _contact_id(earlier.id), _contact_id(someone_else.id)) == (
        contact.id, contact.id, None)


def test_a_visitor_back_after_the_reopen_window_starts_a_new_conversation_of_the_same_contact(session, brand):
    brand.reopen_window_hours = 24
    token = visitor_token()
    online_expert(brand)
    old = chat_with_address(brand, token, "ana@example.com", ago=dt.timedelta(days=3))
    old.closed_at = utcnow() - dt.timedelta(days=2)
    session.commit()
    contacts.address_proved(old.id, "ana@example.com")
    # Past the window the old chat refuses the message; the widget then starts a new one.
    with pytest.raises(Conflict):
        messages.post_message(old.id, Sender.VISITOR, "c-late", "Encore moi")
    new = arrive(brand, token)
    assert new.id != old.id and new.status in (ConversationStatus.WAITING, ConversationStatus.OFFERED)
    assert _contact_id(new.id) == _contact_id(old.id) is not None
    # Another visitor, or the same browser with another brand, starts one without a contact.
    assert _contact_id(arrive(brand, visitor_token()).id) is None
    assert _contact_id(arrive(BrandFactory(), token).id) is None


def test_contacts_no_conversation_points_at_go_with_those_merged_into_them(session, brand):
    kept_chat = chat_with_address(brand, visitor_token(), "ana@example.com")
    gone_chat = chat_with_address(brand, visitor_token(), "bob@example.com")
    other_brand_chat = chat_with_address(BrandFactory(), visitor_token(), "bob@example.com")
    session.commit()
    for chat, email in ((kept_chat, "ana@example.com"), (gone_chat, "bob@example.com"),
                        (other_brand_chat, "bob@example.com")):
        contacts.address_proved(chat.id, email)
    session.delete(session.get(Conversation, gone_chat.id))  # its transcript purged
    session.flush()
    assert contacts.forget_unused_contacts(brand.id) == 1
    assert [c.email for c in _contacts(brand.id)] == ["ana@example.com"]
    assert [c.email for c in _contacts(other_brand_chat.brand_id)] == ["bob@example.com"]
