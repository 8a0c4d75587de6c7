"""Messages are stored and numbered before they are acknowledged; a resend is never a second message."""

from __future__ import annotations

import html

import nh3
import pytest
import sqlalchemy as sa

from marketplace.database import db
from marketplace.errors import Conflict, InvalidInput, NotFound
from marketplace.routing import events
from marketplace.routing.chat import messages
from marketplace.routing.chat import services as chat
from marketplace.routing.models import ConversationStatus, EndReason, Message, Offer, OfferStatus, Sender
from marketplace.routing.router import admission, offers
from tests.routing.conftest import arrive, online_expert


@pytest.fixture
def active(session, brand):
    expert = online_expert(brand)
    session.commit()
    conversation = arrive(brand)
    offer = db.session.scalar(db.select(Offer).where(Offer.conversation_id == conversation.id,
                                                     Offer.status == OfferStatus.PENDING))
    offers.accept_offer(expert.id, offer.id)
    return conversation, expert


def test_messages_are_numbered_in_order_from_both_sides(active):
    conversation, expert = active
    first = messages.post_message(conversation.id, Sender.VISITOR, "v-1", "Hello?")
    second = messages.post_message(conversation.id, Sender.EXPERT, "e-1", "Hi!", expert_id=expert.id)
    assert (first.message.seq, second.message.seq) == (1, 2)
    assert [m.seq for m in messages.messages_after(conversation.id, 0)] == [1, 2]
    assert [m.body for m in messages.messages_after(conversation.id, 1)] == ["Hi!"]


def test_a_resend_with_the_same_client_id_returns_the_stored_message(active):
    conversation, _expert = active
    first = messages.post_message(conversation.id, Sender.VISITOR, "v-1", "Hello?")
    again = messages.post_message(conversation.id, Sender.VISITOR, "v-1", "Hello?")
    assert again.created is False and again.message.seq == first.message.seq
    assert db.session.scalar(db.select(db.func.count()).select_from(Message)) == 1


def test_a_resend_gives_its_number_back_so_the_numbers_stay_without_gaps(active):
    conversation, expert = active
    messages.post_message(conversation.id, Sender.VISITOR, "v-1", "Hello?")
    messages.post_message(conversation.id, Sender.VISITOR, "v-1", "Hello?")
    messages.post_message(conversation.id, Sender.EXPERT, "e-1", "Hi!", expert_id=expert.id)
    messages.post_message(conversation.id, Sender.EXPERT, "e-1", "Hi!", expert_id=expert.id)
    after = messages.post_message(conversation.id, Sender.VISITOR, "v-2", "Still there?")
    assert after.created is True and after.message.seq == 3
    assert [(m.seq, m.client_id) for m in messages.messages_after(conversation.id, 0)] == [(1, "v-1"), (2, "e-1"),
                                                                                           (3, "v-2")]
    db.session.refresh(conversation)
    assert conversation.last_seq == 3


def test_a_resend_after_the_chat_ended_still_gets_the_stored_message(active):
    conversation, expert = active
    first = messages.post_message(conversation.id, Sender.VISITOR, "v-1", "Hello?")
    admission.end_conversation(conversation.id, ConversationStatus.CLOSED, EndReason.EXPERT, expert_id=expert.id)
    again = messages.post_message(conversation.id, Sender.VISITOR, "v-1", "Hello?")
    assert again.created is False and (again.message.id, again.message.seq) == (first.message.id, 1)
    with pytest.raises(Conflict):
        messages.post_message(conversation.id, Sender.VISITOR, "v-2", "Anyone?")


def test_a_stored_message_and_the_catch_up_are_read_without_another_query(active):
    conversation, _expert = active
    posted = messages.post_message(conversation.id, Sender.VISITOR, "v-1", "Hello?")
    messages.post_message(conversation.id, Sender.VISITOR, "v-2", "Anyone?")
    caught_up = messages.messages_after(conversation.id, 0)
    statements = []

    def record(connection, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        payloads = [events.message_payload(m) for m in [posted.message, *caught_up]]
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert [(p["seq"], p["body"]) for p in payloads] == [(1, "Hello?"), (1, "Hello?"), (2, "Anyone?")]
    assert statements == []


def test_markup_is_stripped_and_length_checked(active):
    conversation, _expert = active
    posted = messages.post_message(conversation.id, Sender.VISITOR, "v-1", "<b>Is</b> 5 < 6 & <script>x()</script>ok")
    assert posted.message.body == "Is 5 < 6 & ok"
    with pytest.raises(InvalidInput) as error:
        messages.post_message(conversation.id, Sender.VISITOR, "v-2", "x" * 2001)
    assert error.value.field == "body"
    with pytest.raises(InvalidInput) as error:
        messages.post_message(conversation.id, Sender.VISITOR, "v-3", "   ")
    assert error.value.field == "body"
    with pytest.raises(InvalidInput) as error:
        messages.post_message(conversation.id, Sender.VISITOR, "bad id!", "hello")
    assert error.value.field == "client_id"


def test_every_character_comes_out_of_cleaning_as_nh3_then_unescaping_gives_it():
    # Text without markup skips nh3 (clean_body): it must come out exactly as nh3 would have made it, for every
    # character, around others and at the ends (nh3 turns CR into LF and drops NUL and the BOM, for instance).
    def through_nh3(text: str) -> str:
        return html.unescape(nh3.clean(text, tags=set(), attributes={})).strip()

    specials = "\x00\r\ufeff<&"
    characters = [chr(code) for code in range(0x110000) if not 0xD800 <= code <= 0xDFFF and chr(code) not in specials]
    for start in range(0, len(characters), 1000):
        text = "".join(characters[start:start + 1000])
        assert messages.clean_body(f"x{text}x") == through_nh3(f"x{text}x"), (start, text)
    for special in specials:
        for text in (f"a{special}b", f"{special}a", f"a{special}", f"a{special}{special}b"):
            if through_nh3(text):
                assert messages.clean_body(text) == through_nh3(text), repr(text)
            else:
                with pytest.raises(InvalidInput):  # "<a" is an opening tag and nothing else
                    messages.clean_body(text)


def test_only_the_assigned_expert_writes_and_only_while_active(session, brand, active):
    conversation, expert = active
    other = online_expert(brand)
    session.commit()
    with pytest.raises(Conflict):
        messages.post_message(conversation.id, Sender.EXPERT, "e-1", "me too", expert_id=other.id)
    with pytest.raises(NotFound):
        chat.expert_conversation(other.id, conversation.id)
    admission.end_conversation(conversation.id, ConversationStatus.CLOSED, EndReason.EXPERT, expert_id=expert.id)
    with pytest.raises(Conflict):
        messages.post_message(conversation.id, Sender.EXPERT, "e-2", "late", expert_id=expert.id)


def test_the_first_expert_reply_is_timed_once(active):
    conversation, expert = active
    messages.post_message(conversation.id, Sender.EXPERT, "e-1", "Hi", expert_id=expert.id)
    db.session.refresh(conversation)
    first = conversation.first_reply_at
    messages.post_message(conversation.id, Sender.EXPERT, "e-2", "Again", expert_id=expert.id)
    db.session.refresh(conversation)
    assert first is not None and conversation.first_reply_at == first


def test_the_inbox_counts_unread_visitor_messages(active):
    conversation, expert = active
    messages.post_message(conversation.id, Sender.VISITOR, "v-1", "one")
    messages.post_message(conversation.id, Sender.VISITOR, "v-2", "two")
    inbox = chat.expert_inbox(expert.id)
    assert [(c["conversation_id"], c["unread"]) for c in inbox["chats"]] == [(conversation.id, 2)]
    chat.mark_read(expert.id, conversation.id, 1)
    assert chat.expert_inbox(expert.id)["chats"][0]["unread"] == 1
