"""A conversation's live time: the seconds it was active, holding a live slot of its expert, summed over each
stretch; the capacity planner's handle time (history.handling) and the visitor's wait estimate read it, so an
asynchronous visitor's days away do not count as handling (issue 18)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from marketplace.database import db
from marketplace.experts.models import ExpertPresence
from marketplace.routing import history
from marketplace.routing.models import Conversation, ConversationStatus, EndReason
from marketplace.routing.router import admission, away
from tests.routing.conftest import online_expert
from tests.routing.router.test_asynchronous import chat_with


def reread(conversation_id: int) -> Conversation:
    return db.session.get(Conversation, conversation_id, populate_existing=True)


def expert_online_at(expert_id: int, moment: dt.datetime) -> None:
    """The expert's app checked in at `moment` (a later day: the router reads them as online then)."""
    db.session.execute(sa.update(ExpertPresence).where(ExpertPresence.expert_id == expert_id)
                       .values(last_heartbeat_at=moment, changed_at=moment))
    db.session.commit()


def live_away_back_closed(brand, expert, live: dt.timedelta, gone: dt.timedelta,
                          back: dt.timedelta) -> Conversation:
    """A chat accepted by `expert`, live for `live`, its visitor away for `gone` (asynchronous), back with the same
    expert for `back`, then closed by them; every move through the router."""
    chat, _ = chat_with(brand, expert)
    accepted = chat.accepted_at
    assert away.visitor_away(chat.id, accepted + live).status == ConversationStatus.ASYNCHRONOUS
    returned = accepted + live + gone
    expert_online_at(expert.id, returned)
    assert away.visitor_back(chat.id, returned).status == ConversationStatus.ACTIVE
    admission.end_conversation(chat.id, ConversationStatus.CLOSED, EndReason.EXPERT, now=returned + back)
    return reread(chat.id)


def test_live_5_minutes_away_2_days_back_3_minutes_is_8_minutes_of_handle_time(app, session, brand):
    expert = online_expert(brand)
    session.commit()
    chat, _ = chat_with(brand, expert)
    accepted = chat.accepted_at
    assert (chat.active_since, chat.live_seconds) == (accepted, 0)

    away.visitor_away(chat.id, accepted + dt.timedelta(minutes=5))
    gone = reread(chat.id)
    assert (gone.status, gone.live_seconds, gone.active_since) == (ConversationStatus.ASYNCHRONOUS, 300, None)

    returned = accepted + dt.timedelta(days=2, minutes=5)
    expert_online_at(expert.id, returned)
    away.visitor_back(chat.id, returned)
    back = reread(chat.id)
    assert (back.status, back.expert_id, back.active_since) == (ConversationStatus.ACTIVE, expert.id, returned)

    admission.end_conversation(chat.id, ConversationStatus.CLOSED, EndReason.EXPERT,
                               now=returned + dt.timedelta(minutes=3))
    closed = reread(chat.id)
    assert (closed.status, closed.live_seconds, closed.active_since) == (ConversationStatus.CLOSED, 480, None)
    assert closed.closed_at - closed.accepted_at == dt.timedelta(days=2, minutes=8)  # what was counted before

    found = history.handling(brand.id, accepted - dt.timedelta(hours=1), accepted + dt.timedelta(hours=1))
    assert (found.answered, found.handle_s) == (1, 480.0)


def test_a_chat_reopened_after_its_close_adds_its_second_stretch(app, session, brand):
    expert = online_expert(brand)
    session.commit()
    chat, _ = chat_with(brand, expert, email=None)  # no address: it never goes asynchronous
    accepted = chat.accepted_at
    admission.end_conversation(chat.id, ConversationStatus.CLOSED, EndReason.EXPERT,
                               now=accepted + dt.timedelta(minutes=4))
    reopened_at = accepted + dt.timedelta(hours=1)
    expert_online_at(expert.id, reopened_at)
    assert away.visitor_back(chat.id, reopened_at).status == ConversationStatus.ACTIVE
    admission.end_conversation(chat.id, ConversationStatus.CLOSED, EndReason.VISITOR,
                               now=reopened_at + dt.timedelta(minutes=2, seconds=30))
    assert reread(chat.id).live_seconds == 4 * 60 + 150


def test_a_chat_of_unknown_live_time_is_left_out_of_the_handle_time(app, session, brand):
    expert = online_expert(brand)
    session.commit()
    known = live_away_back_closed(brand, expert, dt.timedelta(minutes=2), dt.timedelta(days=1),
                                  dt.timedelta(minutes=2))
    unknown = live_away_back_closed(brand, expert, dt.timedelta(minutes=9), dt.timedelta(days=1),
                                    dt.timedelta(minutes=9))
    # As the migration leaves a chat from before the count whose visitor gave an address (it may have been away).
    db.session.execute(sa.update(Conversation).where(Conversation.id == unknown.id).values(live_seconds=None))
    db.session.commit()
    found = history.handling(brand.id, known.created_at - dt.timedelta(hours=1),
                             known.created_at + dt.timedelta(hours=1))
    assert (found.answered, found.handle_s) == (2, 240.0)
