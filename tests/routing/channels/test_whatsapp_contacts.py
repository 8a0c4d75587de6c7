"""A WhatsApp customer is the brand's contact by the number WhatsApp verified, and the web widget's "Continue on
WhatsApp" code makes a web visitor and a WhatsApp customer one contact of that brand, never of another."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import AuditEvent, User
from marketplace.database import db
from marketplace.routing.channels import connections
from marketplace.routing.contacts import handover
from marketplace.routing.contacts import services as contacts
from marketplace.routing.models import Channel, Contact, Conversation, ConversationStatus, Message
from tests.conftest import log_in
from tests.factories import BrandFactory
from tests.routing.channels.conftest import CUSTOMER, connect
from tests.routing.conftest import admin_of, online_expert, visitor_token

pytestmark = pytest.mark.usefixtures("graph_settings")
PHONE = "+" + CUSTOMER  # E.164 of the fixture's customer


def _contacts(session, brand):
    return list(session.scalars(sa.select(Contact).where(Contact.brand_id == brand.id).order_by(Contact.id)
                                .execution_options(populate_existing=True)))


def _whatsapp_conversations(session, brand):
    return list(session.scalars(
        sa.select(Conversation).where(Conversation.brand_id == brand.id, Conversation.channel == Channel.WHATSAPP)
        .order_by(Conversation.id).execution_options(populate_existing=True)))


def _start_web_chat(client, brand, token):
    answer = client.post(f"/api/widget/{brand.widget_key}/conversations", json={},
                         headers={"X-Visitor-Token": token})
    assert answer.status_code == 201, answer.json
    return answer.json


def _web_visitor_with_proved_address(client, brand, email="ana@example.com"):
    """A web visitor who gave an address and opened the link sent there: a contact of the brand by it."""
    token = visitor_token()
    chat = _start_web_chat(client, brand, token)
    given = client.post(f"/api/widget/{brand.widget_key}/conversations/{chat['id']}/email",
                        json={"email": email, "consent": True}, headers={"X-Visitor-Token": token})
    assert given.status_code == 200, given.json
    contacts.address_proved(chat["id"], email)
    return chat


def _prefilled(link: str) -> str:
    """The message a wa.me link opens WhatsApp with."""
    return parse_qs(urlsplit(link).query)["text"][0]


def _known_number(session, brand, number):
    """Connect the fake number to the brand and learn its display number from (fake) WhatsApp."""
    channel = connect(session, brand, number)
    assert connections.learn_display_number(channel.id) == number.display_phone_number
    return channel


def test_a_customers_whatsapp_conversations_are_one_contact_named_after_their_profile(
        session, brand, fake_graph, number, whatsapp_relay):
    connect(session, brand, number)
    fake_graph.deliver_inbound(number, CUSTOMER, "Is the lamp in stock?", name="Camille Client")
    fake_graph.deliver_inbound(number, CUSTOMER, "And in blue?", name="Camille Client")
    assert [answer.status_code for answer in whatsapp_relay(2)] == [200, 200]
    [first] = _whatsapp_conversations(session, brand)
    first.status = ConversationStatus.CLOSED  # over: the customer's next message starts another conversation
    session.commit()
    fake_graph.deliver_inbound(number, CUSTOMER, "Back again", name="Another Name")
    assert [answer.status_code for answer in whatsapp_relay(1)] == [200]

    [contact] = _contacts(session, brand)
    assert (contact.phone, contact.email, contact.display_name) == (PHONE, None, "Camille Client")
    conversations = _whatsapp_conversations(session, brand)
    assert len(conversations) == 2
    assert [c.contact_id for c in conversations] == [contact.id, contact.id]


def test_a_messenger_customer_is_no_contact(session, brand, fake_graph, page, messenger_relay):
    connect(session, brand, page)
    fake_graph.deliver_inbound(page, "6912384759123847", "Hello from Messenger")
    assert [answer.status_code for answer in messenger_relay(1)] == [200]
    [conversation] = session.scalars(sa.select(Conversation).where(Conversation.channel == Channel.MESSENGER))
    assert conversation.contact_id is None and _contacts(session, brand) == []


def test_a_linked_customers_message_costs_no_contact_statement(session, brand, fake_graph, number, whatsapp_relay):
    connect(session, brand, number)
    fake_graph.deliver_inbound(number, CUSTOMER, "First")
    whatsapp_relay(1)
    statements = []

    def note(_conn, _cursor, statement, *_args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", note)
    try:
        fake_graph.deliver_inbound(number, CUSTOMER, "Second")
        assert [answer.status_code for answer in whatsapp_relay(1)] == [200]
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", note)
    assert any("INSERT INTO messages" in statement for statement in statements)  # the message went through
    assert [s for s in statements if re.search(r"\bcontacts\b", s)] == []


def test_the_widget_offers_whatsapp_only_once_the_numbers_display_number_is_known(
        client, session, brand, fake_graph, number):
    token = visitor_token()
    channel = connect(session, brand, number)
    chat = _start_web_chat(client, brand, token)
    assert chat["whatsapp_link"] is None  # connected, but its display number not known yet

    assert connections.learn_display_number(channel.id) == number.display_phone_number
    shown = client.get(f"/api/widget/{brand.widget_key}/conversations/{chat['id']}",
                       headers={"X-Visitor-Token": token}).json
    link = shown["whatsapp_link"]
    assert link.startswith(f"https://wa.me/{number.display_phone_number}?text=")
    code = handover.code_for(brand.id, chat["id"])
    assert _prefilled(link) == f"Hello, I am continuing my chat from your website. My code: {code}"
    page = client.get(f"/widget/{brand.widget_key}").get_data(as_text=True)
    assert 'data-testid="continue-on-whatsapp"' in page


def test_the_handover_code_makes_the_web_visitor_and_the_whatsapp_customer_one_contact(
        client, session, brand, fake_graph, number, whatsapp_relay):
    _known_number(session, brand, number)
    chat = _web_visitor_with_proved_address(client, brand)
    [by_address] = _contacts(session, brand)
    # The customer wrote on WhatsApp before: a contact by their number, younger than the one by address.
    fake_graph.deliver_inbound(number, CUSTOMER, "Hello")
    whatsapp_relay(1)
    assert len(_contacts(session, brand)) == 2

    text = _prefilled(chat["whatsapp_link"])
    fake_graph.deliver_inbound(number, CUSTOMER, text)
    assert [answer.status_code for answer in whatsapp_relay(1)] == [200]

    contacts_now = _contacts(session, brand)
    kept = next(c for c in contacts_now if c.merged_into_id is None)
    assert kept.id == by_address.id  # the older one stays
    assert (kept.email, kept.phone) == ("ana@example.com", PHONE)
    [merged] = [c for c in contacts_now if c.id != kept.id]
    assert merged.merged_into_id == kept.id
    [whatsapp_chat] = _whatsapp_conversations(session, brand)
    web_chat = session.get(Conversation, chat["id"], populate_existing=True)
    assert whatsapp_chat.contact_id == web_chat.contact_id == kept.id
    # The code still arrives as the customer's words.
    assert session.scalars(sa.select(Message.body).where(Message.conversation_id == whatsapp_chat.id)
                           .order_by(Message.seq)).all() == ["Hello", text]
    audit = session.scalar(sa.select(AuditEvent).where(AuditEvent.kind == "contacts_merged"))
    assert audit.actor_id is None
    assert audit.detail == {"brand_id": brand.id, "contact_id": kept.id, "merged_contact_id": merged.id,
                            "conversations": 1, "proof": "whatsapp_handover"}  # no address, no number

    # The expert who holds the WhatsApp chat sees the web chat beside it, marked as such, and reads it.
    expert = online_expert(brand)
    whatsapp_chat.status, whatsapp_chat.expert_id = ConversationStatus.ACTIVE, expert.id
    session.commit()
    log_in(client, session.get(User, expert.user_id).email)
    history = client.get(f"/api/v1/conversations/{whatsapp_chat.id}/history").json
    assert history["known"] is True
    assert [(c["id"], c["channel"]) for c in history["conversations"]] == [(web_chat.id, "web")]
    assert client.get(f"/api/v1/conversations/{whatsapp_chat.id}/history/{web_chat.id}").status_code == 200


def test_a_whatsapp_customer_with_no_earlier_contact_becomes_the_web_visitors(
        client, session, brand, fake_graph, number, whatsapp_relay):
    _known_number(session, brand, number)
    token = visitor_token()
    chat = _start_web_chat(client, brand, token)  # no address given: no contact yet
    fake_graph.deliver_inbound(number, CUSTOMER, "Hi! " + _prefilled(chat["whatsapp_link"]) + " thanks")
    whatsapp_relay(1)
    [contact] = _contacts(session, brand)
    assert contact.phone == PHONE and contact.email is None
    assert session.get(Conversation, chat["id"], populate_existing=True).contact_id == contact.id
    # The visitor's next web chat is the same contact (the door links it by the browser).
    session.get(Conversation, chat["id"]).status = ConversationStatus.CLOSED
    session.commit()
    again = _start_web_chat(client, brand, token)
    assert again["id"] != chat["id"]
    assert session.get(Conversation, again["id"], populate_existing=True).contact_id == contact.id


def _forged(code: str) -> str:
    conversation_id, mac = code.split("-")
    return f"{conversation_id}-{('B' if mac[0] != 'B' else 'C')}{mac[1:]}"


@pytest.mark.parametrize("case", ["forged", "other_brands_code", "sent_to_other_brands_number"])
def test_a_code_that_does_not_hold_for_the_number_links_nothing(
        case, client, session, brand, fake_graph, number, webhook_sink, whatsapp_relay):
    other = BrandFactory(name="Autre marque")
    session.commit()
    other_number = fake_graph.add_whatsapp_number(webhook_url=webhook_sink.url)
    _known_number(session, brand, number)
    _known_number(session, other, other_number)
    ours = _web_visitor_with_proved_address(client, brand)
    theirs = _web_visitor_with_proved_address(client, other)
    code = handover.code_for(brand.id, ours["id"])
    text, to = {
        "forged": (f"My code: {_forged(code)}", number),
        # the other brand's widget code, sent to our number
        "other_brands_code": (_prefilled(theirs["whatsapp_link"]), number),
        # our code, sent to the other brand's number
        "sent_to_other_brands_number": (_prefilled(ours["whatsapp_link"]), other_number),
    }[case]
    fake_graph.deliver_inbound(to, CUSTOMER, text)
    assert [answer.status_code for answer in whatsapp_relay(1)] == [200]

    receiving = brand if to is number else other
    [whatsapp_chat] = _whatsapp_conversations(session, receiving)
    by_phone = session.scalar(sa.select(Contact).where(Contact.brand_id == receiving.id, Contact.phone == PHONE))
    assert whatsapp_chat.contact_id == by_phone.id  # the customer is a contact by their number, and only that
    for each in (brand, other):
        assert all(c.merged_into_id is None for c in _contacts(session, each))
        by_address = session.scalar(sa.select(Contact).where(Contact.brand_id == each.id, Contact.email.is_not(None)))
        assert by_address.phone is None
    for web in (ours, theirs):
        assert session.get(Conversation, web["id"], populate_existing=True).contact_id != by_phone.id
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                          .where(AuditEvent.kind == "contacts_merged")) == 0


def test_one_phone_with_two_brands_is_two_contacts_and_nothing_crosses(
        client, session, brand, fake_graph, number, webhook_sink, whatsapp_relay):
    other = BrandFactory(name="Autre marque")
    session.commit()
    other_number = fake_graph.add_whatsapp_number(webhook_url=webhook_sink.url)
    _known_number(session, brand, number)
    _known_number(session, other, other_number)
    ours = _web_visitor_with_proved_address(client, brand)
    theirs = _web_visitor_with_proved_address(client, other)
    fake_graph.deliver_inbound(number, CUSTOMER, _prefilled(ours["whatsapp_link"]))
    fake_graph.deliver_inbound(other_number, CUSTOMER, _prefilled(theirs["whatsapp_link"]))
    assert [answer.status_code for answer in whatsapp_relay(2)] == [200, 200]

    for each, web in ((brand, ours), (other, theirs)):
        [kept] = [c for c in _contacts(session, each) if c.merged_into_id is None]
        assert (kept.email, kept.phone) == ("ana@example.com", PHONE)
        [whatsapp_chat] = _whatsapp_conversations(session, each)
        assert whatsapp_chat.contact_id == kept.id
        assert session.get(Conversation, web["id"], populate_existing=True).contact_id == kept.id
    ours_kept = session.get(Conversation, ours["id"]).contact_id
    theirs_kept = session.get(Conversation, theirs["id"]).contact_id
    assert ours_kept != theirs_kept
    assert session.get(Contact, ours_kept).brand_id == brand.id
    assert session.get(Contact, theirs_kept).brand_id == other.id


def test_the_contacts_tab_shows_the_phone_and_the_address(
        client, session, brand, fake_graph, number, whatsapp_relay):
    _known_number(session, brand, number)
    chat = _web_visitor_with_proved_address(client, brand)
    fake_graph.deliver_inbound(number, CUSTOMER, _prefilled(chat["whatsapp_link"]), name="Ana Client")
    whatsapp_relay(1)
    log_in(client, admin_of(session, brand).email)
    page = client.get(f"/brands/{brand.slug}/contacts").get_data(as_text=True)
    assert "ana@example.com" in page and PHONE in page
    found = client.get(f"/api/v1/brands/{brand.id}/contacts", query_string={"q": "612345"}).json["contacts"]
    assert [(c["email"], c["phone"], c["display_name"]) for c in found] == [("ana@example.com", PHONE, "Ana Client")]
    contact_id = found[0]["id"]
    detail = client.get(f"/api/v1/brands/{brand.id}/contacts/{contact_id}").json
    assert sorted(c["channel"] for c in detail["conversations"]) == ["web", "whatsapp"]
    contact_page = client.get(f"/brands/{brand.slug}/contacts/{contact_id}").get_data(as_text=True)
    assert PHONE in contact_page and "WhatsApp" in contact_page


def test_the_number_is_asked_of_whatsapp_when_connected_unless_given(client, session, brand, fake_graph, number):
    csrf = log_in(client, admin_of(session, brand).email)
    body = {"kind": "whatsapp", "phone_number_id": number.phone_number_id, "access_token": number.access_token,
            "app_secret": number.app_secret, "verify_token": number.verify_token}
    answer = client.post(f"/api/v1/brands/{brand.id}/channels", json=body, headers={"X-CSRFToken": csrf})
    assert answer.status_code == 201, answer.json
    assert answer.json["display_phone_number"] == number.display_phone_number
    assert [(r.method, r.status) for r in fake_graph.requests() if r.account_id == number.phone_number_id] == \
        [("GET", 200)]

    given = fake_graph.add_whatsapp_number()
    body = {**body, "phone_number_id": given.phone_number_id, "display_phone_number": "+33 1 80 00 00 00"}
    answer = client.post(f"/api/v1/brands/{brand.id}/channels", json=body, headers={"X-CSRFToken": csrf})
    assert answer.status_code == 201, answer.json
    assert answer.json["display_phone_number"] == "33180000000"
    assert [r for r in fake_graph.requests() if r.account_id == given.phone_number_id] == []  # not asked

    bad = {**body, "phone_number_id": "999", "display_phone_number": "call us"}
    refused = client.post(f"/api/v1/brands/{brand.id}/channels", json=bad, headers={"X-CSRFToken": csrf})
    assert refused.status_code == 422 and "display_phone_number" in refused.get_data(as_text=True)


def test_a_number_whatsapp_will_not_describe_stays_unknown(session, brand, fake_graph, number):
    channel = connect(session, brand, number)
    number.access_token = "EAAG-revoked"  # Graph refuses the app's token now
    assert connections.learn_display_number(channel.id) is None
    assert session.get(type(channel), channel.id, populate_existing=True).display_phone_number is None



def test_a_code_holds_only_for_its_brand_its_web_chat_and_a_week(client, session, brand):
    other = BrandFactory(name="Autre marque")
    session.commit()
    chat = _start_web_chat(client, brand, visitor_token())
    code = handover.code_for(brand.id, chat["id"])
    assert re.fullmatch(r"\d+-[A-Z2-7]{12}", code)
    conversation = session.get(Conversation, chat["id"])
    assert handover.web_conversation(brand.id, f"my code: {code.lower()}.") is conversation
    assert handover.web_conversation(other.id, f"my code: {code}") is None
    assert handover.web_conversation(brand.id, f"my code: {_forged(code)}") is None
    assert handover.web_conversation(brand.id, f"my code: {chat['id'] + 1}-{code.split('-')[1]}") is None
    assert handover.web_conversation(brand.id, "no code here, call 0612345678") is None
    conversation.created_at -= dt.timedelta(days=handover.CODE_DAYS, minutes=1)
    session.commit()
    assert handover.web_conversation(brand.id, code) is None


def test_the_client_reads_the_numbers_display_number_and_verified_name(fake_graph, webhook_sink):
    from marketplace.routing.channels.graph import InvalidRequest, WhatsAppClient

    number = fake_graph.add_whatsapp_number(display_phone_number="+1 555-010-0042", webhook_url=webhook_sink.url)
    number.verified_name = "Maison Lumière"
    config = {"WHATSAPP_GRAPH_BASE": fake_graph.graph_base, "GRAPH_TIMEOUT_SECONDS": 2}
    info = WhatsAppClient.from_config(config, number.phone_number_id, number.access_token).phone_number_info()
    assert (info.display_phone_number, info.verified_name, info.digits) == \
        ("+1 555-010-0042", "Maison Lumière", "15550100042")
    [request] = [r for r in fake_graph.requests() if r.account_id == number.phone_number_id]
    assert (request.method, request.status) == ("GET", 200)
    with pytest.raises(InvalidRequest):  # not a number of this fake Graph: "Object ... does not exist"
        WhatsAppClient.from_config(config, "1065400000", number.access_token).phone_number_info()
