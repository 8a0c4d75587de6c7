"""An e-mail reply to a closed conversation: within the reopen window it continues it with the visitor still away,
after the window it starts a new conversation of the same brand and contact; a brand that cannot take it now has the
mail tried again later."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from marketplace.database import db, utcnow
from marketplace.routing.chat import messages
from marketplace.routing.contacts import services as contacts
from marketplace.routing.continuation import inbound
from marketplace.routing.door import departures, waits
from marketplace.routing.door import services as conversations
from marketplace.routing.models import BrandLoad, Conversation, ConversationStatus, EndReason, Message, Sender
from marketplace.routing.router import loads, offers
from marketplace.routing.router.admission import end_conversation
from marketplace.routing.router.decisions import route_brand
from tests.routing.attachments.conftest import pdf_bytes
from tests.routing.conftest import messages_when_offered, online_expert
from tests.routing.continuation.conftest import VISITOR_EMAIL
from tests.routing.continuation.mails import reply, reply_address_of
from tests.routing.continuation.test_inbound_files import with_files
from tests.routing.router.test_asynchronous import chat_with, gone, load_of, pending_offer


def conversation(conversation_id: int) -> Conversation:
    return db.session.get(Conversation, conversation_id, populate_existing=True)


def bodies(conversation_id: int) -> list[tuple[str, str]]:
    return [(message.sender.value, message.body) for message in messages.messages_after(conversation_id, 0)]


def close(chat_id: int, expert_id: int, *, ago: dt.timedelta = dt.timedelta(0)) -> str:
    """Close the chat (the expert ends it, `ago`), and the reply address its visitor was sent before."""
    address = reply_address_of(chat_id)
    end_conversation(chat_id, ConversationStatus.CLOSED, EndReason.EXPERT, expert_id=expert_id, now=utcnow() - ago)
    return address


def conversation_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Conversation))


# Within the reopen window.

def test_within_the_window_a_reply_continues_the_chat_asynchronous_with_its_expert(app, session, away):
    address = close(away.id, away.expert.id)
    posted = inbound.receive(reply(address).as_bytes())
    reopened = conversation(away.id)
    assert posted.message.conversation_id == away.id
    assert (reopened.status, reopened.expert_id, reopened.closed_at, reopened.end_reason) == (
        ConversationStatus.ASYNCHRONOUS, away.expert.id, None, None)
    assert reopened.visitor_left_at is not None  # still away: their page is not there
    assert bodies(away.id)[-1] == ("visitor", "Thanks, the fuse was it!")
    assert load_of(away.expert.id) == (0, 0, 1)  # no live slot taken: one of their asynchronous places
    assert loads.counters_match() == []
    # The expert's answer goes out by e-mail, as in any asynchronous chat.
    messages.post_message(away.id, Sender.EXPERT, "e-after-mail", "Parfait !", expert_id=away.expert.id)
    assert conversation(away.id).continuation_due_at is not None


def test_within_the_window_with_its_experts_asynchronous_list_full_the_chat_is_routed_with_its_history(
        app, session, brand, away):
    address = close(away.id, away.expert.id)
    brand.async_expert_limit = 0
    other = online_expert(brand, display_name="Louis Martin")
    session.commit()
    inbound.receive(reply(address).as_bytes())
    offer = pending_offer(away.id)
    assert conversation(away.id).status == ConversationStatus.OFFERED
    assert offer is not None and offer.expert_id == other.id  # routed like a new one: to an expert with room
    brand.async_expert_limit = 5
    session.commit()
    offers.accept_offer(other.id, offer.id)
    taken = conversation(away.id)
    # The visitor is still away: the chat goes to the new expert's asynchronous list, with its whole history.
    assert (taken.status, taken.expert_id) == (ConversationStatus.ASYNCHRONOUS, other.id)
    assert [body for _, body in bodies(away.id)] == ["Bonjour !", "Thanks, the fuse was it!"]
    assert load_of(other.id) == (0, 0, 1) and load_of(away.expert.id) == (0, 0, 0)
    assert loads.counters_match() == []


def test_a_chat_queued_by_mail_is_not_abandoned_for_a_silent_page_only_missed_after_the_wait(
        app, session, brand, away):
    address = close(away.id, away.expert.id)
    brand.async_expert_limit = 0
    brand.max_wait_seconds = 600
    session.commit()
    inbound.receive(reply(address).as_bytes())
    # Nobody to offer it to: its own expert, the only one online, had it already (and has no asynchronous room).
    assert conversation(away.id).status == ConversationStatus.WAITING
    counts = departures.sweep(gone(app))
    assert counts["abandoned"] == 0 and conversation(away.id).status == ConversationStatus.WAITING
    counts = departures.sweep(utcnow() + dt.timedelta(seconds=601))
    assert counts["missed"] == 1 and conversation(away.id).status == ConversationStatus.MISSED
    assert loads.counters_match() == []


# After the reopen window.

def test_after_the_window_a_reply_starts_a_new_conversation_of_the_same_brand_and_contact(app, session, brand, away):
    brand.reopen_window_hours = 1
    session.commit()
    contacts.address_proved(away.id, VISITOR_EMAIL)
    address = close(away.id, away.expert.id, ago=dt.timedelta(hours=2))
    posted = inbound.receive(reply(address).as_bytes())
    old, new = conversation(away.id), conversation(posted.message.conversation_id)
    assert new.id != away.id and old.status == ConversationStatus.CLOSED
    assert bodies(away.id)[-1] == ("expert", "Bonjour !")  # nothing added to the old one
    assert (new.brand_id, new.contact_id, new.visitor_email, new.visitor_email_consent_at) == (
        brand.id, old.contact_id, old.visitor_email, old.visitor_email_consent_at)
    assert new.contact_id is not None and new.visitor_left_at is not None
    assert bodies(new.id) == [("visitor", "Thanks, the fuse was it!")]
    offer = pending_offer(new.id)  # queued and routed like any other
    assert new.status == ConversationStatus.OFFERED and offer.expert_id == away.expert.id
    offers.accept_offer(away.expert.id, offer.id)
    assert conversation(new.id).status == ConversationStatus.ASYNCHRONOUS  # the visitor is away: answered by e-mail
    assert loads.counters_match() == []


def test_after_the_window_the_same_mail_delivered_twice_starts_one_conversation(app, session, brand, away):
    brand.reopen_window_hours = 1
    session.commit()
    address = close(away.id, away.expert.id, ago=dt.timedelta(hours=2))
    raw = reply(address, message_id="<twice@example.com>").as_bytes()
    before = conversation_count()
    first, second = inbound.receive(raw), inbound.receive(raw)
    assert (first.created, second.created) == (True, False)
    assert first.message.conversation_id == second.message.conversation_id != away.id
    assert conversation_count() == before + 1
    assert bodies(first.message.conversation_id) == [("visitor", "Thanks, the fuse was it!")]


def test_after_the_window_a_reply_goes_to_the_visitors_open_conversation_with_the_brand(app, session, brand, away):
    brand.reopen_window_hours = 1
    session.commit()
    address = close(away.id, away.expert.id, ago=dt.timedelta(hours=2))
    live = conversations.start_conversation(brand.widget_key, away.visitor_token)  # back on the page meanwhile
    posted = inbound.receive(reply(address).as_bytes())
    assert posted.message.conversation_id == live.id
    assert bodies(live.id) == [("visitor", "Thanks, the fuse was it!")]


def test_a_brand_that_cannot_take_a_conversation_now_has_the_mail_tried_again_later(app, session, brand, away):
    brand.reopen_window_hours = 1
    brand.max_concurrent = 0
    session.commit()
    address = close(away.id, away.expert.id, ago=dt.timedelta(hours=2))
    before, refusals = conversation_count(), db.session.get(BrandLoad, brand.id).refusals
    with pytest.raises(inbound.MailDeferred):
        inbound.receive(reply(address).as_bytes())
    # Nothing stays, not even a refusal at the door: the retry counts once.
    assert conversation_count() == before
    assert db.session.get(BrandLoad, brand.id, populate_existing=True).refusals == refusals
    brand.max_concurrent = None
    session.commit()
    posted = inbound.receive(reply(address).as_bytes())
    assert posted.created and posted.message.conversation_id != away.id


# The reply is in the new conversation before anyone is offered it.

@pytest.mark.parametrize("meanwhile", ["nothing", "the brand is routed"])
def test_after_the_window_the_reply_is_stored_before_an_expert_is_offered_the_new_conversation(
        app, session, brand, away, monkeypatch, meanwhile):
    """Not an empty chat on the expert's phone, nor one they could close before the reply is in: and not when
    another arrival (or a freed slot) routes the brand between the door and the reply either."""
    brand.reopen_window_hours = 1
    brand_id = brand.id
    session.commit()
    address = close(away.id, away.expert.id, ago=dt.timedelta(hours=2))
    held = messages_when_offered(monkeypatch)
    if meanwhile == "the brand is routed":
        store = inbound.post_message

        def routed_first(*args, **kwargs):
            route_brand(brand_id)
            return store(*args, **kwargs)

        monkeypatch.setattr(inbound, "post_message", routed_first)
    posted = inbound.receive(reply(address).as_bytes())
    new_id = posted.message.conversation_id
    assert new_id != away.id
    assert held == {new_id: ["Thanks, the fuse was it!"]}
    assert pending_offer(new_id).expert_id == away.expert.id
    assert loads.counters_match() == []


def test_a_new_conversation_whose_file_cannot_be_scanned_now_waits_unoffered_until_the_mail_comes_again(
        app, session, brand, away, clamd, attachment_storage, monkeypatch, tmp_path):
    """The mail is deferred once its conversation is let in: no pass offers that conversation while it holds
    nothing, and the mail's next delivery, which stores the file, offers it at once."""
    brand.reopen_window_hours = 1
    brand_id = brand.id
    session.commit()
    address = close(away.id, away.expert.id, ago=dt.timedelta(hours=2))
    raw = with_files(reply(address, body=""), (pdf_bytes(), "facture.pdf", "application/pdf")).as_bytes()
    held = messages_when_offered(monkeypatch)
    monkeypatch.setitem(app.config, "CLAMD_SOCKET", str(tmp_path / "no-clamd.sock"))  # the scanner does not answer
    with pytest.raises(inbound.MailDeferred):
        inbound.receive(raw)
    waiting = db.session.scalar(sa.select(Conversation).where(Conversation.brand_id == brand_id)
                                .order_by(Conversation.id.desc()).limit(1))
    assert waiting.id != away.id and waiting.status == ConversationStatus.WAITING
    route_brand(brand_id)  # another arrival, a freed slot, the sweep
    assert held == {} and pending_offer(waiting.id) is None
    monkeypatch.setitem(app.config, "CLAMD_SOCKET", clamd)  # back
    posted = inbound.receive(raw)
    assert posted.created and posted.message.conversation_id == waiting.id
    assert held == {waiting.id: [""]} and posted.message.attachment is not None  # the file, captioned with nothing
    assert pending_offer(waiting.id).expert_id == away.expert.id
    assert loads.counters_match() == []


def test_within_the_window_a_brand_without_a_live_place_defers_a_chat_its_expert_has_no_room_for(
        app, session, brand, away):
    address = close(away.id, away.expert.id)
    brand.async_expert_limit = 0
    brand.max_concurrent = 0
    session.commit()
    with pytest.raises(inbound.MailDeferred):
        inbound.receive(reply(address).as_bytes())
    assert conversation(away.id).status == ConversationStatus.CLOSED
    assert bodies(away.id)[-1] == ("expert", "Bonjour !")
    assert loads.counters_match() == []


def test_a_forged_token_or_another_sender_on_a_closed_chat_starts_nothing(app, session, brand, away):
    brand.reopen_window_hours = 1
    session.commit()
    address = close(away.id, away.expert.id, ago=dt.timedelta(hours=2))
    local, _, domain = address.partition("@")
    forged = local[:-3] + ("aaa" if not local.endswith("aaa") else "bbb") + "@" + domain
    before = conversation_count()
    for raw in (reply(forged).as_bytes(), reply(address, sender="eve@example.com").as_bytes()):
        with pytest.raises(inbound.MailRefused):
            inbound.receive(raw)
    assert conversation_count() == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Message).where(
        Message.sender == Sender.VISITOR)) == 0


def test_the_widget_is_told_whether_its_closed_chat_may_continue(app, session, brand):
    brand.reopen_window_hours = 1
    expert = online_expert(brand)
    session.commit()
    recent, _ = chat_with(brand, expert, email=None)
    end_conversation(recent.id, ConversationStatus.CLOSED, EndReason.EXPERT, expert_id=expert.id)
    late, _ = chat_with(brand, expert, email=None)
    end_conversation(late.id, ConversationStatus.CLOSED, EndReason.EXPERT, expert_id=expert.id,
                     now=utcnow() - dt.timedelta(hours=2))
    assert waits.visitor_view(conversation(recent.id))["may_continue"] is True
    assert waits.visitor_view(conversation(late.id))["may_continue"] is False
