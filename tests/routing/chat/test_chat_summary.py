"""What the expert's chat list is told of each chat: who the visitor is, the last word, how long they waited,
whether they left, and their rating once it ended; for any number of chats in a fixed number of statements."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import User
from marketplace.database import db, utcnow
from marketplace.experts.models import ExpertPresence, PresenceStatus
from marketplace.routing import activity
from marketplace.routing.chat import messages
from marketplace.routing.chat import services as chat
from marketplace.routing.door import departures
from marketplace.routing.door import services as conversations
from marketplace.routing.models import Conversation, ConversationStatus, EndReason, Offer, OfferStatus, Sender
from marketplace.routing.router import admission, offers
from tests.conftest import log_in
from tests.routing.conftest import arrive, online_expert, visitor_token


def accepted(brand, expert, *, queued_seconds_ago: int = 0, **fields) -> Conversation:
    """A conversation of the brand the expert accepted, having waited this long in the queue."""
    conversation = arrive(brand, **fields)
    if queued_seconds_ago:
        queued = utcnow() - dt.timedelta(seconds=queued_seconds_ago)
        db.session.execute(sa.update(Conversation).where(Conversation.id == conversation.id)
                           .values(queued_at=queued, created_at=queued))
        db.session.commit()
    offer = db.session.scalar(sa.select(Offer).where(Offer.conversation_id == conversation.id,
                                                     Offer.status == OfferStatus.PENDING))
    return offers.accept_offer(expert.id, offer.id)


@pytest.fixture
def expert(session, brand):
    brand.expert_concurrency = 3
    profile = online_expert(brand)
    session.commit()
    return profile


def summary_of(conversation_id: int) -> dict:
    return chat.chat_summary(db.session.get(Conversation, conversation_id, populate_existing=True))


def test_a_chat_tells_its_visitor_its_last_message_and_how_long_the_visitor_waited(expert, brand):
    conversation = accepted(brand, expert, queued_seconds_ago=95, topic=None, locale="fr-FR",
                            page_url="https://shop.example.com/lamps/atlas")
    first = messages.post_message(conversation.id, Sender.VISITOR, "v-1", "Hello?").message
    second = messages.post_message(conversation.id, Sender.VISITOR, "v-2", "Is the Atlas lamp dimmable?").message
    reply = messages.post_message(conversation.id, Sender.EXPERT, "e-1",
                                  "Yes, with any trailing-edge dimmer.\nAll of it.", expert_id=expert.id).message

    summary = summary_of(conversation.id)

    assert re.fullmatch(r"[0-9A-F]{4}", summary["visitor_label"])
    assert summary["visitor_label"] == summary_of(conversation.id)["visitor_label"]  # the same for the whole chat
    assert summary["last_message"] == {"sender": "expert", "body": "Yes, with any trailing-edge dimmer.\nAll of it.",
                                       "created_at": reply.created_at.isoformat()}
    assert summary["last_visitor_message_at"] == second.created_at.isoformat() != first.created_at.isoformat()
    assert summary["unread"] == 2
    assert summary["visitor_locale"] == "fr-FR"
    assert 95 <= summary["waited_seconds"] <= 97
    assert summary["page_url"] == "https://shop.example.com/lamps/atlas"
    assert (summary["visitor_left_at"], summary["visitor_rating"], summary["visitor_comment"]) == (None, None, None)
    assert (summary["status"], summary["end_reason"], summary["closed_at"]) == ("active", None, None)


def test_a_chat_without_messages_has_no_last_message(expert, brand):
    summary = summary_of(accepted(brand, expert).id)
    assert (summary["last_message"], summary["last_visitor_message_at"], summary["unread"]) == (None, None, 0)
    assert summary["waited_seconds"] <= 1


def test_two_chats_of_one_brand_have_different_labels_and_last_messages(expert, brand):
    one, two = accepted(brand, expert), accepted(brand, expert)
    messages.post_message(one.id, Sender.VISITOR, "v-1", "My lamp arrived broken.")
    messages.post_message(two.id, Sender.VISITOR, "v-1", "Where is order 4471?")
    chats = chat.expert_inbox(expert.id)["chats"]
    assert [c["conversation_id"] for c in chats] == [one.id, two.id]
    assert chats[0]["visitor_label"] != chats[1]["visitor_label"]
    assert [c["last_message"]["body"] for c in chats] == ["My lamp arrived broken.", "Where is order 4471?"]
    assert [c["brand"]["name"] for c in chats] == [brand.name, brand.name]


def test_the_last_message_is_cut_to_its_first_140_characters(expert, brand):
    conversation = accepted(brand, expert)
    messages.post_message(conversation.id, Sender.VISITOR, "v-1", "é" * 100 + "x" * 100)
    assert summary_of(conversation.id)["last_message"]["body"] == "é" * 100 + "x" * 40


def test_the_unread_count_follows_the_read_mark(expert, brand):
    conversation = accepted(brand, expert)
    for n in range(1, 4):
        messages.post_message(conversation.id, Sender.VISITOR, f"v-{n}", f"Message {n}")
    chat.mark_read(expert.id, conversation.id, 2)
    assert summary_of(conversation.id)["unread"] == 1
    assert chat.expert_inbox(expert.id)["chats"][0]["unread"] == 1


def test_a_visitor_whose_page_went_is_marked_in_the_chat_until_it_checks_in_again(app, expert, brand):
    conversation = accepted(brand, expert)
    later = utcnow() + dt.timedelta(seconds=app.config["VISITOR_GRACE_SECONDS"] + 1)
    assert departures.notice_gone_visitors(later) == 1
    left_at = db.session.get(Conversation, conversation.id, populate_existing=True).visitor_left_at
    assert summary_of(conversation.id)["visitor_left_at"] == left_at.isoformat()
    conversations.visitor_seen(conversation.id)
    assert summary_of(conversation.id)["visitor_left_at"] is None


def test_a_closed_chat_stays_in_the_inbox_with_its_rating_and_comment_for_a_while(expert, brand):
    token = visitor_token()
    conversation = accepted(brand, expert, token=token)
    messages.post_message(conversation.id, Sender.EXPERT, "e-1", "Hello!", expert_id=expert.id)
    admission.end_conversation(conversation.id, ConversationStatus.CLOSED, EndReason.EXPERT, expert_id=expert.id)
    conversations.rate(brand.widget_key, token, conversation.id, 4, "Quick and clear")

    [closed] = chat.expert_inbox(expert.id)["chats"]
    assert (closed["conversation_id"], closed["status"], closed["end_reason"]) == (conversation.id, "closed", "expert")
    assert (closed["visitor_rating"], closed["visitor_comment"]) == (4, "Quick and clear")
    assert closed["closed_at"] is not None

    long_ago = utcnow() - chat.RECENTLY_CLOSED - dt.timedelta(minutes=1)
    db.session.execute(sa.update(Conversation).where(Conversation.id == conversation.id).values(closed_at=long_ago))
    db.session.commit()
    assert chat.expert_inbox(expert.id)["chats"] == []


def test_another_experts_chats_are_not_in_the_inbox(session, expert, brand):
    mine = accepted(brand, expert)
    other = online_expert(brand)  # the least loaded now: the next chat is theirs
    session.commit()
    accepted(brand, other)
    assert [c["conversation_id"] for c in chat.expert_inbox(expert.id)["chats"]] == [mine.id]


def test_the_inbox_takes_as_many_statements_for_five_chats_as_for_one(session, brand):
    brand.expert_concurrency = 5
    few = online_expert(brand)
    session.commit()
    for expert, count in ((few, 1), (None, 5)):
        if expert is None:  # the second expert takes the next five, while the first is away
            session.get(ExpertPresence, few.id).status = PresenceStatus.AWAY
            expert = many = online_expert(brand)
            session.commit()
        for n in range(count):
            conversation = accepted(brand, expert)
            messages.post_message(conversation.id, Sender.VISITOR, f"v-{n}", "Hello?")
            messages.post_message(conversation.id, Sender.EXPERT, f"e-{n}", "Hi!", expert_id=expert.id)

    def statements(expert_id: int) -> tuple[int, int]:
        seen = []

        def record(connection, cursor, statement, *args):
            seen.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", record)
        try:
            chats = chat.expert_inbox(expert_id)["chats"]
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", record)
        return len(chats), len(seen)

    (one_chat, for_one), (five_chats, for_five) = statements(few.id), statements(many.id)
    assert (one_chat, five_chats) == (1, 5)
    assert for_five == for_one


def test_activity_of_no_conversations_asks_nothing():
    assert activity.chat_activity([]) == {}


def test_the_inbox_api_gives_the_new_fields_and_the_document_describes_them(client, session, expert, brand):
    conversation = accepted(brand, expert, locale="en-GB")
    messages.post_message(conversation.id, Sender.VISITOR, "v-1", "Hello?")
    log_in(client, session.get(User, expert.user_id).email)

    [listed] = client.get("/api/v1/expert/inbox").json["chats"]

    assert listed["visitor_label"] == summary_of(conversation.id)["visitor_label"]
    assert listed["last_message"]["body"] == "Hello?" and listed["last_message"]["sender"] == "visitor"
    assert listed["visitor_locale"] == "en-GB" and listed["unread"] == 1
    schema = client.get("/api/openapi.json").json["components"]["schemas"]
    described = next(s for name, s in schema.items() if name.startswith("Chat") and "visitor_label" in s["properties"])
    assert {"visitor_label", "last_message", "last_visitor_message_at", "visitor_left_at", "visitor_comment",
            "visitor_locale", "waited_seconds"} <= set(described["properties"])
