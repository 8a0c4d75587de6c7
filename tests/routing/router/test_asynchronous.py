"""Asynchronous conversations: a visitor who left an address and went frees their expert's live slot; they come
back to the same expert when that expert has room, else to the queue; quiet ones close; closed ones reopen within
the brand's window (DESIGN section 9, issue 18)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from marketplace.database import db, utcnow
from marketplace.errors import Conflict
from marketplace.payouts.earnings import services as earnings
from marketplace.payouts.models import Earning
from marketplace.routing import delivery
from marketplace.routing.chat import messages
from marketplace.routing.chat import services as chat_services
from marketplace.routing.door import departures
from marketplace.routing.door import services as conversations
from marketplace.routing.models import (
    BrandLoad,
    Conversation,
    ConversationStatus,
    EndReason,
    ExpertLoad,
    Offer,
    OfferStatus,
    Sender,
)
from marketplace.routing.router import admission, loads, offers
from tests.routing.conftest import online_expert, visitor_token


def pending_offer(conversation_id: int) -> Offer | None:
    return db.session.scalar(sa.select(Offer).where(Offer.conversation_id == conversation_id,
                                                    Offer.status == OfferStatus.PENDING))


def chat_with(brand, expert, *, email: str | None = "ana@example.com") -> tuple[Conversation, str]:
    """A visitor's chat accepted by `expert` and answered once, with an address given (unless `email` is None)."""
    token = visitor_token()
    conversation = conversations.start_conversation(brand.widget_key, token)
    offer = pending_offer(conversation.id)
    assert offer is not None and offer.expert_id == expert.id
    offers.accept_offer(expert.id, offer.id)
    messages.post_message(conversation.id, Sender.EXPERT, f"e-{conversation.id}", "Bonjour !", expert_id=expert.id)
    if email is not None:
        conversations.give_email(brand.widget_key, token, conversation.id, email, True)
    return db.session.get(Conversation, conversation.id, populate_existing=True), token


def gone(app, minutes: float = 0) -> dt.datetime:
    """A moment past the visitor's grace: their page has stopped checking in."""
    return utcnow() + dt.timedelta(seconds=app.config["VISITOR_GRACE_SECONDS"] + 1, minutes=minutes)


def load_of(expert_id: int) -> tuple[int, int, int]:
    load = db.session.get(ExpertLoad, expert_id, populate_existing=True)
    return load.open_chats, load.pending_offers, load.async_chats


def status_of(conversation_id: int) -> ConversationStatus:
    return db.session.get(Conversation, conversation_id, populate_existing=True).status


def visitor_writes(conversation_id: int, body: str = "Toujours en panne") -> None:
    messages.post_message(conversation_id, Sender.VISITOR, f"v-{visitor_token()[:12]}", body)


def away_chat(app, session, brand, **settings) -> tuple[object, Conversation]:
    """An expert online for the brand (set as `settings` say) whose answered chat's visitor gave an address and
    went: the chat is asynchronous."""
    for name, value in settings.items():
        setattr(brand, name, value)
    expert = online_expert(brand)
    session.commit()
    chat, _ = chat_with(brand, expert)
    departures.notice_gone_visitors(gone(app))
    assert status_of(chat.id) == ConversationStatus.ASYNCHRONOUS
    return expert, chat


def test_with_concurrency_one_a_visitor_away_frees_the_slot_for_a_second_visitor(app, session, brand):
    brand.expert_concurrency = 1
    expert = online_expert(brand)
    session.commit()
    first, _ = chat_with(brand, expert)
    second = conversations.start_conversation(brand.widget_key, visitor_token())
    assert second.status == ConversationStatus.WAITING  # the expert's one slot is taken
    assert departures.notice_gone_visitors(gone(app)) == 1
    assert status_of(first.id) == ConversationStatus.ASYNCHRONOUS
    assert db.session.get(Conversation, first.id).expert_id == expert.id  # still theirs, in their own list
    offer = pending_offer(second.id)
    assert offer is not None and offer.expert_id == expert.id  # the freed slot went at once to the same expert
    assert load_of(expert.id) == (0, 1, 1)
    brand_load = db.session.get(BrandLoad, brand.id, populate_existing=True)
    assert (brand_load.open_conversations, brand_load.async_conversations) == (1, 1)
    assert loads.counters_match() == []


def test_a_visitor_who_left_no_address_keeps_the_slot_as_before(app, session, brand):
    brand.expert_concurrency = 1
    expert = online_expert(brand)
    session.commit()
    first, _ = chat_with(brand, expert, email=None)
    second = conversations.start_conversation(brand.widget_key, visitor_token())
    assert departures.notice_gone_visitors(gone(app)) == 1
    left = db.session.get(Conversation, first.id, populate_existing=True)
    assert (left.status, left.visitor_left_at is not None) == (ConversationStatus.ACTIVE, True)
    assert status_of(second.id) == ConversationStatus.WAITING
    assert load_of(expert.id) == (1, 0, 0)
    assert loads.counters_match() == []


def test_the_brands_asynchronous_limit_per_expert_holds(app, session, brand):
    brand.expert_concurrency, brand.async_expert_limit = 2, 1
    expert = online_expert(brand)
    session.commit()
    one, _ = chat_with(brand, expert)
    two, _ = chat_with(brand, expert, email="bo@example.com")
    assert departures.notice_gone_visitors(gone(app)) == 2
    statuses = sorted([status_of(one.id), status_of(two.id)])
    assert statuses == [ConversationStatus.ACTIVE, ConversationStatus.ASYNCHRONOUS]  # one list place: one moved
    assert load_of(expert.id) == (1, 0, 1)
    assert loads.counters_match() == []


def test_the_visitor_writing_again_goes_back_to_the_same_expert_with_room(app, session, brand):
    expert, chat = away_chat(app, session, brand)
    visitor_writes(chat.id)
    back = db.session.get(Conversation, chat.id, populate_existing=True)
    assert (back.status, back.expert_id, back.visitor_left_at, back.handed_back) == (
        ConversationStatus.ACTIVE, expert.id, None, 0)
    assert load_of(expert.id) == (1, 0, 0)
    assert loads.counters_match() == []


def test_the_visitor_writing_while_their_expert_is_full_is_routed_like_a_new_one(app, session, brand):
    first_expert, chat = away_chat(app, session, brand, expert_concurrency=1)
    day_accepted = db.session.get(BrandLoad, brand.id).day_accepted
    other, _ = chat_with(brand, first_expert, email=None)  # the freed slot is taken by a newcomer
    second_expert = online_expert(brand)
    session.commit()
    visitor_writes(chat.id, "Je reviens")
    handed = db.session.get(Conversation, chat.id, populate_existing=True)
    assert (handed.status, handed.handed_back) == (ConversationStatus.OFFERED, 1)
    offer = pending_offer(chat.id)
    assert offer.expert_id == second_expert.id  # never offered to the expert who held it (rule 4)
    offers.accept_offer(second_expert.id, offer.id)
    taken = db.session.get(Conversation, chat.id, populate_existing=True)
    assert (taken.status, taken.expert_id) == (ConversationStatus.ACTIVE, second_expert.id)
    assert [m.body for m in messages.messages_after(chat.id, 0)] == ["Bonjour !", "Je reviens"]  # its history
    # Accepted once: the day's cap and the month's budget counted it then, not again.
    assert db.session.get(BrandLoad, brand.id, populate_existing=True).day_accepted == day_accepted + 1
    assert load_of(first_expert.id) == (1, 0, 0) and status_of(other.id) == ConversationStatus.ACTIVE
    assert load_of(second_expert.id) == (1, 0, 0)
    assert loads.counters_match() == []


def test_a_handed_back_conversation_whose_visitor_goes_again_returns_to_its_experts_list(app, session, brand):
    expert, chat = away_chat(app, session, brand, expert_concurrency=1)
    chat_with(brand, expert, email=None)
    visitor_writes(chat.id)
    assert status_of(chat.id) == ConversationStatus.WAITING  # nobody else online
    assert departures.sweep(gone(app, minutes=1))["asynchronous"] == 1
    again = db.session.get(Conversation, chat.id, populate_existing=True)
    assert (again.status, again.expert_id) == (ConversationStatus.ASYNCHRONOUS, expert.id)
    assert load_of(expert.id) == (1, 0, 1)
    assert loads.counters_match() == []


def test_the_brands_quiet_time_closes_it_and_it_is_earned_once(app, session, brand):
    expert, chat = away_chat(app, session, brand)
    visitor_writes(chat.id)  # back to the expert, then away again
    departures.notice_gone_visitors(gone(app, minutes=2))
    assert status_of(chat.id) == ConversationStatus.ASYNCHRONOUS
    almost = utcnow() + dt.timedelta(hours=brand.async_quiet_hours, minutes=-1)
    assert departures.sweep(almost)["closed"] == 0
    quiet = utcnow() + dt.timedelta(hours=brand.async_quiet_hours, minutes=1)
    assert departures.sweep(quiet)["closed"] == 1
    closed = db.session.get(Conversation, chat.id, populate_existing=True)
    assert (closed.status, closed.end_reason) == (ConversationStatus.CLOSED, EndReason.INACTIVITY)
    assert load_of(expert.id) == (0, 0, 0)
    assert loads.counters_match() == []
    later = quiet + dt.timedelta(minutes=app.config["PAYOUT_RATING_GRACE_MINUTES"] + 1)
    earnings.record_earnings(later)
    earnings.record_earnings(later)
    earned = db.session.scalars(sa.select(Earning).where(Earning.conversation_id == chat.id)).all()
    assert [(e.expert_id, e.price_cents) for e in earned] == [(expert.id, closed.rate_cents)]


def test_only_the_experts_messages_to_an_away_visitor_take_the_ways_back(app, session, brand, monkeypatch):
    """Every message goes through the one delivery service; the ways back to a visitor who left (the e-mail digest,
    push, channels) hear only of what their expert writes while they are away, inside the message's transaction."""
    heard = []
    monkeypatch.setitem(delivery._reachers, "test", delivery.Reacher(
        "test", delivery.Side.VISITOR, delivery.expert_reply_to_away_visitor,
        lambda message: heard.append((message.sender, message.body, db.session().in_transaction()))))
    expert = online_expert(brand)
    session.commit()
    chat, token = chat_with(brand, expert)  # the expert's greeting, the visitor present: no way back used
    visitor_writes(chat.id, "Je dois partir")
    assert heard == []
    departures.notice_gone_visitors(gone(app))
    assert status_of(chat.id) == ConversationStatus.ASYNCHRONOUS
    posted = messages.post_message(chat.id, Sender.EXPERT, "e-away", "Voici la réponse", expert_id=expert.id)
    assert posted.created and heard == [(Sender.EXPERT, "Voici la réponse", True)]
    messages.post_message(chat.id, Sender.EXPERT, "e-away", "Voici la réponse", expert_id=expert.id)  # a resend
    assert len(heard) == 1
    assert status_of(chat.id) == ConversationStatus.ASYNCHRONOUS  # the expert writing does not bring them back
    admission.end_conversation(chat.id, ConversationStatus.CLOSED, EndReason.EXPERT, expert_id=expert.id)
    assert status_of(chat.id) == ConversationStatus.CLOSED
    assert loads.counters_match() == []


def test_a_way_back_that_fails_stores_nothing(app, session, brand, monkeypatch):
    """What a reacher notes is stored with the message or not at all: its failure rolls the message back."""
    def broken(message):
        raise RuntimeError("the digest's table is gone")
    monkeypatch.setitem(delivery._reachers, "test", delivery.Reacher(
        "test", delivery.Side.VISITOR, delivery.expert_reply_to_away_visitor, broken))
    expert, chat = away_chat(app, session, brand)
    before = db.session.get(Conversation, chat.id, populate_existing=True).last_seq
    with pytest.raises(RuntimeError):
        messages.post_message(chat.id, Sender.EXPERT, "e-broken", "Perdu ?", expert_id=expert.id)
    db.session.rollback()
    assert db.session.get(Conversation, chat.id, populate_existing=True).last_seq == before
    assert [m.body for m in messages.messages_after(chat.id, before)] == []


def test_registering_a_way_back_again_replaces_it(monkeypatch):
    monkeypatch.setattr(delivery, "_reachers", {})
    first = delivery.Reacher("email", delivery.Side.VISITOR, delivery.expert_reply_to_away_visitor, print)
    second = delivery.Reacher("email", delivery.Side.VISITOR, delivery.expert_reply_to_away_visitor, repr)
    delivery.register(first)
    delivery.register(second)
    assert delivery.reachers() == [second]


def test_a_visitor_message_within_the_reopen_window_continues_a_closed_chat(session, brand):
    expert = online_expert(brand)
    session.commit()
    chat, _ = chat_with(brand, expert, email=None)
    admission.end_conversation(chat.id, ConversationStatus.CLOSED, EndReason.EXPERT, expert_id=expert.id)
    visitor_writes(chat.id, "Une dernière question")
    reopened = db.session.get(Conversation, chat.id, populate_existing=True)
    assert (reopened.status, reopened.expert_id, reopened.closed_at) == (ConversationStatus.ACTIVE, expert.id, None)
    assert messages.messages_after(chat.id, 0)[-1].body == "Une dernière question"
    assert load_of(expert.id) == (1, 0, 0)
    assert loads.counters_match() == []


def test_after_the_reopen_window_or_without_an_answer_a_closed_chat_stays_closed(session, brand):
    brand.reopen_window_hours = 1
    expert = online_expert(brand)
    session.commit()
    answered, _ = chat_with(brand, expert, email=None)
    admission.end_conversation(answered.id, ConversationStatus.CLOSED, EndReason.EXPERT, expert_id=expert.id,
                               now=utcnow() - dt.timedelta(hours=1, minutes=1))
    with pytest.raises(Conflict):
        visitor_writes(answered.id)
    unanswered = conversations.start_conversation(brand.widget_key, visitor_token())
    offers.accept_offer(expert.id, pending_offer(unanswered.id).id)
    admission.end_conversation(unanswered.id, ConversationStatus.CLOSED, EndReason.EXPERT, expert_id=expert.id)
    with pytest.raises(Conflict):
        visitor_writes(unanswered.id)
    assert (status_of(answered.id), status_of(unanswered.id)) == (ConversationStatus.CLOSED,) * 2
    assert messages.messages_after(answered.id, 0)[-1].body == "Bonjour !"  # nothing stored
    assert loads.counters_match() == []


def test_a_closed_chat_whose_expert_is_full_reopens_to_the_queue(session, brand):
    brand.expert_concurrency = 1
    expert = online_expert(brand)
    session.commit()
    chat, _ = chat_with(brand, expert, email=None)
    admission.end_conversation(chat.id, ConversationStatus.CLOSED, EndReason.EXPERT, expert_id=expert.id)
    chat_with(brand, expert, email=None)
    visitor_writes(chat.id)
    queued = db.session.get(Conversation, chat.id, populate_existing=True)
    assert (queued.status, queued.handed_back, queued.end_reason) == (ConversationStatus.WAITING, 1, None)
    assert loads.counters_match() == []


def test_a_message_from_an_away_visitor_keeps_it_asynchronous_with_the_brands_first_reply_target(app, session, brand):
    expert, chat = away_chat(app, session, brand, async_first_reply_minutes=8)
    summary = chat_services.chat_summary(db.session.get(Conversation, chat.id, populate_existing=True))
    assert summary["status"] == "asynchronous" and summary["reply_due_at"] is None  # the expert wrote last
    posted = messages.post_message(chat.id, Sender.VISITOR, "v-mail", "Réponse par e-mail", visitor_present=False)
    assert status_of(chat.id) == ConversationStatus.ASYNCHRONOUS  # not from their page: they are still away
    summary = chat_services.chat_summary(db.session.get(Conversation, chat.id, populate_existing=True))
    due = dt.datetime.fromisoformat(summary["reply_due_at"])
    assert due == posted.message.created_at + dt.timedelta(minutes=8)
    assert loads.counters_match() == []


def test_the_door_counts_a_handed_back_conversation_against_the_days_cap_once(app, session, brand):
    expert, chat = away_chat(app, session, brand, expert_concurrency=1, daily_cap=3)
    chat_with(brand, expert, email=None)  # the day's second acceptance
    visitor_writes(chat.id)
    assert status_of(chat.id) == ConversationStatus.WAITING  # handed back: accepted already, today
    assert db.session.get(BrandLoad, brand.id, populate_existing=True).day_accepted == 2
    newcomer = conversations.start_conversation(brand.widget_key, visitor_token())
    assert newcomer.status == ConversationStatus.WAITING  # 2 accepted + this one may still be: within the cap of 3
    late = conversations.start_conversation(brand.widget_key, visitor_token())
    assert (late.status, late.end_reason) == (ConversationStatus.CAPPED, EndReason.DAILY_CAP)
    assert loads.counters_match() == []
