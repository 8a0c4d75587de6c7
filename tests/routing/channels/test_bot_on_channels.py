"""The brand's FAQ bot answers first on WhatsApp and Messenger too, within their rules: its answer goes out with
"Yes / Talk to an expert" as WhatsApp reply buttons or Messenger quick replies, and the customer's tap is read as the
widget's buttons."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.database import db
from marketplace.faq.models import FaqEntry, FaqSettings
from marketplace.routing.bot.models import BotTurn
from marketplace.routing.channels import outbound
from marketplace.routing.models import Channel, Conversation, ConversationStatus, EndReason, Message, Sender
from tests.routing.channels.conftest import CUSTOMER, connect
from tests.routing.conftest import received

pytestmark = pytest.mark.usefixtures("graph_settings")
ANSWER = "We deliver in 2 to 3 working days anywhere in France."


@pytest.fixture
def with_bot(session, brand):
    db.session.add(FaqSettings(brand_id=brand.id, bot_enabled=True, threshold=0.3, resolve_after_minutes=10,
                               credit_cents=0, synonyms="", version=1))
    db.session.add(FaqEntry(brand_id=brand.id, ref="delivery", lang="en", question="How long does delivery take?",
                            answer=ANSWER, tags=["delivery"]))
    session.commit()
    return brand


def _conversation(session, kind):
    return session.scalar(sa.select(Conversation).where(Conversation.channel == kind)
                          .execution_options(populate_existing=True))


def test_on_whatsapp_the_answer_comes_with_reply_buttons_and_a_tap_on_talk_to_an_expert_hands_over(
        session, with_bot, expert_socket, fake_graph, number, whatsapp_relay):
    _expert, sio = expert_socket
    connect(session, with_bot, number)
    fake_graph.deliver_inbound(number, CUSTOMER, "how long does delivery take?")
    assert [answer.status_code for answer in whatsapp_relay(1)] == [200]
    conversation = _conversation(session, Channel.WHATSAPP)
    assert conversation.status == ConversationStatus.BOT
    assert received(sio, "offer") == []  # no expert is offered what the bot has
    assert outbound.send_due() == 1
    sent = fake_graph.sent(to=CUSTOMER, account=number)
    assert [(record.kind, record.text, record.buttons) for record in sent] == \
        [("interactive", ANSWER, [("bot_yes", "Yes"), ("bot_expert", "Talk to an expert")])]

    fake_graph.deliver_inbound(number, CUSTOMER, reply=("bot_expert", "Talk to an expert"))
    assert {answer.status_code for answer in whatsapp_relay()} == {200}  # the answer's statuses, then the tap
    conversation = _conversation(session, Channel.WHATSAPP)
    assert conversation.status == ConversationStatus.OFFERED
    assert received(sio, "offer")[-1]["conversation_id"] == conversation.id
    turns = session.execute(sa.select(BotTurn.reason, BotTurn.helpful).order_by(BotTurn.visitor_seq)).all()
    assert [tuple(turn) for turn in turns] == [("answered", False), ("visitor_asked", None)]
    # The bot's hand-over line goes out too, as plain text.
    assert outbound.send_due() == 1
    assert fake_graph.sent(to=CUSTOMER, account=number)[-1].kind == "text"


def test_on_whatsapp_a_tap_on_yes_resolves_it(session, with_bot, fake_graph, number, whatsapp_relay):
    connect(session, with_bot, number)
    fake_graph.deliver_inbound(number, CUSTOMER, "How long does delivery take?")
    whatsapp_relay(1)
    fake_graph.deliver_inbound(number, CUSTOMER, reply=("bot_yes", "Yes"))
    whatsapp_relay(1)
    conversation = _conversation(session, Channel.WHATSAPP)
    assert (conversation.status, conversation.end_reason) == (ConversationStatus.RESOLVED, EndReason.BOT_CONFIRMED)
    senders = session.scalars(sa.select(Message.sender).where(Message.conversation_id == conversation.id)
                              .order_by(Message.seq)).all()
    assert senders == [Sender.VISITOR, Sender.BOT, Sender.VISITOR, Sender.BOT]


def test_on_messenger_the_answer_comes_with_quick_replies(session, with_bot, fake_graph, page, messenger_relay):
    connect(session, with_bot, page)
    fake_graph.deliver_inbound(page, CUSTOMER, "how long does the delivery take")
    assert [answer.status_code for answer in messenger_relay(1)] == [200]
    assert outbound.send_due() == 1
    sent = fake_graph.sent(to=CUSTOMER, account=page)
    assert [(record.text, record.buttons) for record in sent] == \
        [(ANSWER, [("bot_yes", "Yes"), ("bot_expert", "Talk to an expert")])]
    fake_graph.deliver_inbound(page, CUSTOMER, button=("bot_yes", "Yes"))
    messenger_relay(1)
    conversation = _conversation(session, Channel.MESSENGER)
    assert (conversation.status, conversation.end_reason) == (ConversationStatus.RESOLVED, EndReason.BOT_CONFIRMED)


def test_a_bot_answer_past_the_monthly_budget_hands_over_instead_of_silence(session, with_bot, fake_graph, number,
                                                                           whatsapp_relay):
    import datetime as dt

    from marketplace.routing.models import ChannelFee, FeeCategory

    session.add(ChannelFee(brand_id=with_bot.id, kind=Channel.WHATSAPP, category=FeeCategory.SERVICE, amount_cents=5,
                           effective_from=dt.date(2020, 1, 1)))
    with_bot.monthly_budget_cents = 1  # not even one message's fee
    session.commit()
    connect(session, with_bot, number)
    fake_graph.deliver_inbound(number, CUSTOMER, "How long does delivery take?")
    assert {answer.status_code for answer in whatsapp_relay()} == {200}
    conversation = _conversation(session, Channel.WHATSAPP)
    assert conversation.status != ConversationStatus.BOT  # a person's now, never a silent bot
    assert session.scalar(sa.select(BotTurn.reason)) == "error"
    assert session.scalars(sa.select(Message.sender).where(Message.conversation_id == conversation.id)).all() == \
        [Sender.VISITOR]  # neither line could go out: nothing stored that was not sent
