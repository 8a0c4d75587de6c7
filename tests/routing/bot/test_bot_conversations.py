"""The FAQ bot in a widget conversation: it answers first, labelled as automated, and steps aside for a person."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from marketplace.database import db, utcnow
from marketplace.faq.models import FaqEntry, FaqSettings
from marketplace.routing.bot import services as bot
from marketplace.routing.bot.models import BotTurn, TurnOutcome
from marketplace.routing.chat.messages import post_message
from marketplace.routing.models import BrandLoad, Conversation, ConversationStatus, EndReason, Message, Offer, Sender
from marketplace.routing.router import offers
from tests.routing.conftest import online_expert, visitor_token

DELIVERY = "Nous livrons en 2 à 3 jours ouvrés en France métropolitaine."


def call(client, method, path, token, **kwargs):
    return client.open(path, method=method, headers={"X-Visitor-Token": token}, **kwargs)


@pytest.fixture
def with_bot(session, brand):
    """The brand's bot is on, with two entries."""
    db.session.add(FaqSettings(brand_id=brand.id, bot_enabled=True, threshold=0.3, resolve_after_minutes=10,
                               credit_cents=0, synonyms="", version=1))
    db.session.add_all([
        FaqEntry(brand_id=brand.id, ref="delivery", lang="fr", question="Quels sont vos délais de livraison ?",
                 answer=DELIVERY, tags=["livraison"]),
        FaqEntry(brand_id=brand.id, ref="returns", lang="en", question="How do I return an item?",
                 answer="Returns are free within 30 days from the order page.", tags=["returns"]),
    ])
    session.commit()
    return brand


def start(client, brand, token):
    response = call(client, "POST", f"/api/widget/{brand.widget_key}/conversations", token, json={})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def write(client, brand, token, conversation_id, body, client_id):
    response = call(client, "POST", f"/api/widget/{brand.widget_key}/conversations/{conversation_id}/messages", token,
                    json={"client_id": client_id, "body": body})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def messages(conversation_id):
    return db.session.execute(sa.select(Message.seq, Message.sender, Message.body)
                              .where(Message.conversation_id == conversation_id).order_by(Message.seq)).all()


def test_a_new_visitor_meets_the_bot_which_holds_no_place_and_is_offered_to_nobody(client, with_bot):
    online_expert(with_bot)
    db.session.commit()
    conversation = start(client, with_bot, visitor_token())
    assert conversation["status"] == "bot"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Offer)) == 0
    load = db.session.get(BrandLoad, with_bot.id)
    assert load is None or load.open_conversations == 0


def test_the_bot_answers_a_covered_question_as_itself(client, with_bot):
    token = visitor_token()
    conversation = start(client, with_bot, token)
    write(client, with_bot, token, conversation["id"], "bonjour, quels sont vos delais de livraison ?", "v1")
    rows = messages(conversation["id"])
    assert [(row.seq, row.sender, row.body) for row in rows][1] == (2, Sender.BOT, DELIVERY)
    turn = db.session.scalar(sa.select(BotTurn))
    assert (turn.outcome, turn.visitor_seq, turn.bot_seq) == (TurnOutcome.ANSWERED, 1, 2)
    assert db.session.get(Conversation, conversation["id"]).status == ConversationStatus.BOT


def test_yes_resolves_it_and_nobody_earns_it(client, with_bot):
    token = visitor_token()
    conversation = start(client, with_bot, token)
    write(client, with_bot, token, conversation["id"], "quels sont vos délais de livraison", "v1")
    path = f"/api/widget/{with_bot.widget_key}/conversations/{conversation['id']}/bot-feedback"
    response = call(client, "POST", path, token, json={"helpful": True})
    assert response.status_code == 200
    assert (response.get_json()["status"], response.get_json()["end_reason"]) == ("resolved", "bot_confirmed")
    stored = db.session.get(Conversation, conversation["id"])
    assert stored.expert_id is None and stored.first_reply_at is None and stored.closed_at is not None
    assert db.session.scalar(sa.select(BotTurn.helpful)) is True


@pytest.mark.parametrize("say", ["no", "not helpful button"])
def test_no_hands_it_over_to_an_expert_who_sees_the_exchange(client, with_bot, say):
    expert = online_expert(with_bot)
    db.session.commit()
    token = visitor_token()
    conversation = start(client, with_bot, token)
    write(client, with_bot, token, conversation["id"], "délais de livraison ?", "v1")
    if say == "no":
        write(client, with_bot, token, conversation["id"], "Non", "v2")
    else:
        response = call(client, "POST",
                        f"/api/widget/{with_bot.widget_key}/conversations/{conversation['id']}/bot-feedback",
                        token, json={"helpful": False})
        assert response.status_code == 200
    stored = db.session.get(Conversation, conversation["id"], populate_existing=True)
    assert stored.status == ConversationStatus.OFFERED
    offer = db.session.scalar(sa.select(Offer).where(Offer.conversation_id == stored.id))
    accepted = offers.accept_offer(expert.id, offer.id)
    assert accepted.status == ConversationStatus.ACTIVE
    senders = [row.sender for row in messages(stored.id)]
    assert senders[:3] == [Sender.VISITOR, Sender.BOT, Sender.VISITOR] or senders[:2] == [Sender.VISITOR, Sender.BOT]
    assert senders[-1] == Sender.BOT  # "I am passing you to an expert"
    handed = db.session.scalar(sa.select(BotTurn).where(BotTurn.outcome == TurnOutcome.HANDED_OVER))
    assert handed.reason == "not_helpful"
    assert db.session.scalar(sa.select(BotTurn.helpful).where(BotTurn.outcome == TurnOutcome.ANSWERED)) is False


@pytest.mark.parametrize(("text", "reason"), [
    ("je veux parler à un conseiller", "asked_for_person"),
    ("Je voudrais un humain svp", "asked_for_person"),
    ("can I talk to an agent", "asked_for_person"),
])
def test_words_asking_for_a_person_reach_routing_at_once(client, with_bot, text, reason):
    online_expert(with_bot)
    db.session.commit()
    token = visitor_token()
    conversation = start(client, with_bot, token)
    write(client, with_bot, token, conversation["id"], text, "v1")
    stored = db.session.get(Conversation, conversation["id"], populate_existing=True)
    assert stored.status == ConversationStatus.OFFERED
    assert db.session.scalar(sa.select(BotTurn.reason)) == reason
    assert [row.sender for row in messages(stored.id)] == [Sender.VISITOR, Sender.BOT]


def test_the_talk_to_an_expert_button_works_before_any_message(client, with_bot):
    token = visitor_token()
    conversation = start(client, with_bot, token)
    response = call(client, "POST", f"/api/widget/{with_bot.widget_key}/conversations/{conversation['id']}/expert",
                    token)
    assert response.status_code == 200
    assert response.get_json()["status"] in ("waiting", "offered")
    again = call(client, "POST", f"/api/widget/{with_bot.widget_key}/conversations/{conversation['id']}/expert",
                 token)
    assert again.status_code == 200  # a second tap changes nothing
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BotTurn)) == 1
    stored = db.session.get(Conversation, conversation["id"], populate_existing=True)
    assert stored.handed_over_at is not None and stored.handed_over_at >= stored.created_at


def test_a_question_it_cannot_answer_is_handed_over_with_its_reason(client, with_bot):
    token = visitor_token()
    conversation = start(client, with_bot, token)
    write(client, with_bot, token, conversation["id"], "Quelle est la couleur du ciel sur Mars en hiver ?", "v1")
    assert db.session.get(Conversation, conversation["id"], populate_existing=True).status in (
        ConversationStatus.WAITING, ConversationStatus.OFFERED)
    assert db.session.scalar(sa.select(BotTurn.reason)) in ("low_confidence", "off_topic")


def test_a_second_question_it_cannot_answer_is_handed_over(client, with_bot):
    token = visitor_token()
    conversation = start(client, with_bot, token)
    write(client, with_bot, token, conversation["id"], "quels sont vos délais de livraison", "v1")
    write(client, with_bot, token, conversation["id"], "Et la couleur du ciel sur Mars en hiver ?", "v2")
    reasons = db.session.scalars(sa.select(BotTurn.reason).order_by(BotTurn.visitor_seq)).all()
    assert reasons == ["answered", "second_unanswered"]


def test_the_bot_failing_hands_over_instead_of_silence(client, with_bot, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the index is broken")

    monkeypatch.setattr(bot.answering, "answer", broken)
    token = visitor_token()
    conversation = start(client, with_bot, token)
    write(client, with_bot, token, conversation["id"], "quels sont vos délais de livraison", "v1")
    assert db.session.get(Conversation, conversation["id"], populate_existing=True).status in (
        ConversationStatus.WAITING, ConversationStatus.OFFERED)
    assert db.session.scalar(sa.select(BotTurn.reason)) == "error"


def test_the_sweep_hands_over_a_message_the_bot_never_read(session, with_bot, monkeypatch):
    conversation_id = start_directly(with_bot)
    monkeypatch.setattr(bot, "read_message", lambda *args: None)  # the reading was lost (a crash)
    post_message(conversation_id, Sender.VISITOR, "v1", "quels sont vos délais de livraison")
    assert bot.sweep(utcnow() + dt.timedelta(seconds=5)) == {"resolved": 0, "handed_over": 0}
    assert bot.sweep(utcnow() + dt.timedelta(seconds=bot.UNREAD_SECONDS + 1)) == {"resolved": 0, "handed_over": 1}
    assert db.session.get(Conversation, conversation_id, populate_existing=True).status == ConversationStatus.WAITING


def start_directly(brand):
    from marketplace.routing.door import services as door

    return door.start_conversation(brand.widget_key, visitor_token()).id


def test_a_visitor_who_asks_nothing_more_is_resolved_unconfirmed_after_the_brands_time(session, with_bot):
    conversation_id = start_directly(with_bot)
    post_message(conversation_id, Sender.VISITOR, "v1", "quels sont vos délais de livraison")
    assert bot.sweep(utcnow() + dt.timedelta(minutes=9)) == {"resolved": 0, "handed_over": 0}
    assert bot.sweep(utcnow() + dt.timedelta(minutes=11)) == {"resolved": 1, "handed_over": 0}
    stored = db.session.get(Conversation, conversation_id, populate_existing=True)
    assert (stored.status, stored.end_reason) == (ConversationStatus.RESOLVED, EndReason.BOT_UNCONFIRMED)


def test_a_visitor_who_leaves_after_an_answer_is_resolved_unconfirmed_and_before_one_is_just_gone(client, with_bot):
    token = visitor_token()
    answered = start(client, with_bot, token)
    write(client, with_bot, token, answered["id"], "quels sont vos délais de livraison", "v1")
    left = call(client, "POST", f"/api/widget/{with_bot.widget_key}/conversations/{answered['id']}/leave", token)
    assert (left.get_json()["status"], left.get_json()["end_reason"]) == ("resolved", "bot_unconfirmed")
    other = visitor_token()
    silent = start(client, with_bot, other)
    left = call(client, "POST", f"/api/widget/{with_bot.widget_key}/conversations/{silent['id']}/leave", other)
    assert (left.get_json()["status"], left.get_json()["end_reason"]) == ("resolved", "left")


def test_the_bot_never_writes_once_the_conversation_was_handed_over(session, with_bot):
    conversation_id = start_directly(with_bot)
    post_message(conversation_id, Sender.VISITOR, "v1", "je veux un conseiller")
    assert db.session.get(Conversation, conversation_id).status == ConversationStatus.WAITING
    before = messages(conversation_id)
    bot._answer(conversation_id, 99, bot.answering.Answer({"id": 1, "ref": "x", "answer": "late"}, 0.9, False,
                                                          "answered"))
    assert messages(conversation_id) == before
    assert bot.resolve(conversation_id) is False


def test_the_bot_stays_off_for_a_brand_that_did_not_turn_it_on(client, brand):
    conversation = start(client, brand, visitor_token())
    assert conversation["status"] in ("waiting", "capped")


def test_a_verdict_on_a_chat_the_bot_no_longer_has_is_refused_naming_the_field(client, with_bot):
    token = visitor_token()
    conversation = start(client, with_bot, token)
    base = f"/api/widget/{with_bot.widget_key}/conversations/{conversation['id']}"
    early = call(client, "POST", f"{base}/bot-feedback", token, json={"helpful": True})
    assert early.status_code == 409 and "helpful" in early.get_json()["errors"]  # nothing answered yet
    assert call(client, "POST", f"{base}/expert", token).status_code == 200
    late = call(client, "POST", f"{base}/bot-feedback", token, json={"helpful": False})
    assert late.status_code == 409 and "helpful" in late.get_json()["errors"]
    bad = call(client, "POST", f"{base}/bot-feedback", token, json={"helpful": "maybe"})
    assert bad.status_code == 422 and "helpful" in bad.get_json()["errors"]
    other = call(client, "POST", f"{base}/expert", visitor_token())
    assert other.status_code == 404  # another visitor's token finds nothing


def test_an_injected_fault_in_answering_hands_the_visitor_over(client, with_bot):
    from marketplace.shared import faults

    faults.arm("faq.answer", 1)
    try:
        token = visitor_token()
        conversation = start(client, with_bot, token)
        write(client, with_bot, token, conversation["id"], "quels sont vos délais de livraison", "v1")
    finally:
        faults.arm("faq.answer", 0)
    assert db.session.get(Conversation, conversation["id"], populate_existing=True).status in (
        ConversationStatus.WAITING, ConversationStatus.OFFERED)
    assert db.session.scalar(sa.select(BotTurn.reason)) == "error"


def test_a_hand_over_the_door_refuses_says_so_and_offers_to_leave_a_message(client, with_bot):
    with_bot.max_concurrent = 1
    db.session.commit()
    first, second = visitor_token(), visitor_token()
    for token in (first, second):
        conversation = start(client, with_bot, token)
        handed = call(client, "POST", f"/api/widget/{with_bot.widget_key}/conversations/{conversation['id']}/expert",
                      token).get_json()
    assert (handed["status"], handed["end_reason"], handed["may_leave_message"]) == ("capped", "max_concurrent", True)
    lines = [row.body for row in messages(handed["id"]) if row.sender == Sender.BOT]
    assert lines == ["No expert can take your chat right now: you may leave a message instead."]


def test_a_sweep_decision_taken_before_the_visitors_new_question_ends_nothing(session, with_bot):
    from marketplace.routing.router.admission import end_with_bot

    conversation_id = start_directly(with_bot)
    post_message(conversation_id, Sender.VISITOR, "v1", "quels sont vos délais de livraison")
    read_at = db.session.get(Conversation, conversation_id).last_activity_at - dt.timedelta(seconds=1)
    # The sweep read the conversation quiet at `read_at`; the visitor wrote since (the answer moved it, too).
    assert end_with_bot(conversation_id, EndReason.BOT_UNCONFIRMED, quiet_since=read_at) is None
    assert db.session.get(Conversation, conversation_id, populate_existing=True).status == ConversationStatus.BOT


@pytest.mark.parametrize("text", ["Oui", "merci !", "Yes"])
def test_thanks_with_no_answer_to_judge_calls_nobody(session, with_bot, text):
    """A late tap on "Yes" (a messaging app's button, after the chat was resolved) starts a new conversation: the bot
    says it is glad, and no expert is called for it."""
    conversation_id = start_directly(with_bot)
    post_message(conversation_id, Sender.VISITOR, "v1", text)
    stored = db.session.get(Conversation, conversation_id, populate_existing=True)
    assert (stored.status, stored.end_reason) == (ConversationStatus.RESOLVED, EndReason.LEFT)
    assert [row.sender for row in messages(conversation_id)] == [Sender.VISITOR, Sender.BOT]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Offer)) == 0
