"""Visitors who go without a word, as the routing sweeps find them: conversations missed (waited too long), abandoned
(the visitor's page went) or closed (silent), and chats whose visitor's page went silent, told to their expert or made
asynchronous. The visitor's own comings and goings are services.py's; every end goes through the router
(`router/admission.py`), and every move to and from an expert's asynchronous list through `router/away.py`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from flask import current_app

from marketplace.brands import services as brands
from marketplace.brands.models import Brand
from marketplace.database import db, end_read, unit_of_work, utcnow
from marketplace.experts import services as experts
from marketplace.extensions import socketio
from marketplace.routing import activity, events
from marketplace.routing.models import (
    ASSIGNED_STATUSES,
    OPEN_STATUSES,
    QUEUED_STATUSES,
    WITH_BOT_STATUSES,
    Channel,
    Conversation,
    ConversationStatus,
    EndReason,
)
from marketplace.routing.router import away
from marketplace.routing.router.admission import end_conversation, end_with_bot

# The routing sweep's gone visitors (`notice_gone_visitors`): chats marked in one statement and transaction, chats
# tried asynchronous (a transaction and a routing each, about 10 ms) between two yields, and a run's most of each.
MARK_BATCH = 500
MOVE_BATCH = 10
MOST_MARKED_PER_RUN = 2_000
MOST_MOVED_PER_RUN = 100


def sweep(now: dt.datetime | None = None) -> dict[str, int]:
    """Mark conversations missed (waited too long), abandoned (the visitor's page went) or closed (silent).

    An active chat whose visitor's page went is not ended (they may come back to it): `notice_gone_visitors`
    tells the expert, or makes it asynchronous. An asynchronous one closes after the brand's quiet time. A
    conversation handed back to the queue (answered before) whose visitor goes, or which waits too long, goes back
    to its expert's asynchronous list when it can (`away.visitor_away`), else it ends as a queued one does. One
    queued while its visitor is away (they wrote by e-mail: `visitor_left_at`) has no page to go silent: it is only
    missed.
    """
    now = now or utcnow()
    grace = dt.timedelta(seconds=current_app.config["VISITOR_GRACE_SECONDS"])
    rows = db.session.execute(
        sa.select(Conversation.id, Conversation.status, Conversation.channel, Conversation.queued_at,
                  Conversation.visitor_seen_at, Conversation.visitor_left_at, Conversation.last_activity_at,
                  Conversation.accepted_at, Brand.max_wait_seconds, Brand.inactivity_close_minutes,
                  Brand.async_quiet_hours)
        .join(Brand, Brand.id == Conversation.brand_id)
        .where(Conversation.status.in_(OPEN_STATUSES))
    ).all()
    end_read()
    counts = {"missed": 0, "abandoned": 0, "closed": 0, "asynchronous": 0, "resolved": 0}
    for row in rows:
        if row.status in WITH_BOT_STATUSES:
            # The bot's visitor whose page went: resolved (unconfirmed when the bot had answered). A messaging app's
            # customer has no page: the bot's own sweep resolves theirs after the brand's resolution time.
            if row.channel == Channel.WEB and row.visitor_seen_at + grace <= now:
                counts["resolved"] += end_with_bot(row.id, now=now, quiet_since=row.last_activity_at) is not None
        elif row.status in QUEUED_STATUSES:
            # queued_at: when it joined the queue (its arrival, or when it was handed back).
            if row.queued_at + dt.timedelta(seconds=row.max_wait_seconds) <= now:
                outcome, status = "missed", ConversationStatus.MISSED
            elif row.channel == Channel.WEB and row.visitor_left_at is None and row.visitor_seen_at + grace <= now:
                # (A messaging app's customer has no page to leave: they wait, reachable, until max_wait.)
                outcome, status = "abandoned", ConversationStatus.ABANDONED
            else:
                continue
            if row.accepted_at is not None and away.visitor_away(row.id, now) is not None:
                counts["asynchronous"] += 1
            else:
                reason = EndReason.MAX_WAIT if outcome == "missed" else EndReason.LEFT
                counts[outcome] += end_conversation(row.id, status, reason, now=now) is not None
        elif row.status == ConversationStatus.ASYNCHRONOUS:
            if row.last_activity_at + dt.timedelta(hours=row.async_quiet_hours) <= now:
                counts["closed"] += end_conversation(row.id, ConversationStatus.CLOSED, EndReason.INACTIVITY,
                                                     now=now) is not None
        elif row.last_activity_at + dt.timedelta(minutes=row.inactivity_close_minutes) <= now:
            counts["closed"] += end_conversation(row.id, ConversationStatus.CLOSED, EndReason.INACTIVITY,
                                                 now=now) is not None
    return counts


def notice_gone_visitors(now: dt.datetime | None = None) -> int:
    """Handle the chats whose visitor's page has been silent for VISITOR_GRACE_SECONDS; how many.

    A messaging app's customer has no page: they count as present for CHANNEL_PRESENCE_SECONDS after their last
    message, then their chat goes asynchronous the same way (their channel is their way back), and their next
    message brings it back (`away.visitor_back`).
    Run with the routing sweep (every ROUTING_SWEEP_SECONDS), so the expert learns it soon after the grace. The
    sweep runs in the web process, and thousands of visitors can go at once (a network blip, a restart): the chats
    only marked are marked MARK_BATCH at a time in one statement, those that may go asynchronous (a transaction
    and a routing each) MOVE_BATCH at a time, the process's other work runs between batches, and one run takes
    at most MOST_MARKED_PER_RUN and MOST_MOVED_PER_RUN of them, those silent longest first: the next takes the rest.
    """
    now = now or utcnow()
    since = {True: now - dt.timedelta(seconds=current_app.config["VISITOR_GRACE_SECONDS"]),
             False: now - dt.timedelta(seconds=current_app.config["CHANNEL_PRESENCE_SECONDS"])}
    silent = _silent_since(since)
    web = Conversation.channel == Channel.WEB
    # Only an active chat whose visitor left a way back may go asynchronous; an asynchronous one whose visitor
    # looked in again (their page cleared `visitor_left_at`) and went is marked, as is one with no way back.
    may_go_away = sa.and_(Conversation.status == ConversationStatus.ACTIVE,
                          sa.or_(Conversation.visitor_email_consent_at.is_not(None),
                                 Conversation.visitor_push_at.is_not(None), sa.not_(web)))
    # All of them are read (no more than the chats experts hold): a run's share of each kind, silent longest first.
    gone = db.session.execute(
        sa.select(Conversation.id, web.label("web"), may_go_away.label("may_go_away"))
        .where(_gone(silent)).order_by(Conversation.visitor_seen_at, Conversation.id)
    ).all()
    end_read()
    marking = [row.id for row in gone if not row.may_go_away][:MOST_MARKED_PER_RUN]
    moving = [row for row in gone if row.may_go_away][:MOST_MOVED_PER_RUN]
    handled = 0
    for start in range(0, len(marking), MARK_BATCH):
        handled += len(_mark_gone(marking[start:start + MARK_BATCH], silent, now))
        _let_others_run()
    for start in range(0, len(moving), MOVE_BATCH):
        handled += _move_or_mark(moving[start:start + MOVE_BATCH], since, now)
        _let_others_run()
    return handled


def _silent_since(since: dict[bool, dt.datetime]) -> sa.ColumnElement[bool]:
    """The visitor's page (a messaging app's customer: their channel) last seen at `since` or earlier, by whether
    the chat is the web widget's: what the sweep reads, and what its writes compare again (a visitor who came back
    meanwhile moved `visitor_seen_at` past it)."""
    web = Conversation.channel == Channel.WEB
    return sa.or_(sa.and_(web, Conversation.visitor_seen_at <= since[True]),
                  sa.and_(sa.not_(web), Conversation.visitor_seen_at <= since[False]))


def _gone(silent: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    """A chat its expert holds whose visitor is `silent` and not marked as gone yet."""
    return sa.and_(Conversation.status.in_(ASSIGNED_STATUSES), Conversation.visitor_left_at.is_(None), silent)


def _move_or_mark(rows: Sequence[sa.Row], since: dict[bool, dt.datetime], now: dt.datetime) -> int:
    """Move each chat to its expert's asynchronous list (a transaction each, routing the freed slot), and mark
    those that did not move (no room there, or changed meanwhile); how many moved or were marked."""
    moved, stayed = 0, []
    for row in rows:
        if away.visitor_away(row.id, now, seen_before=since[bool(row.web)]) is not None:
            moved += 1
        else:
            stayed.append(row.id)
    return moved + len(_mark_gone(stayed, _silent_since(since), now))


def visitor_gone(conversation_id: int, seen_before: dt.datetime, now: dt.datetime, *, reachable: bool = True) -> bool:
    """An active chat's visitor page went silent (last seen at `seen_before` or earlier): asynchronous when they
    left a way back and their expert has room for it (the live slot is offered at once), else marked as left
    for the expert (`visitor_left_at`); True when this call moved or marked it. `reachable`: False when the
    caller read that the visitor left no way back (saves the attempt)."""
    if reachable and away.visitor_away(conversation_id, now, seen_before=seen_before) is not None:
        return True
    return bool(_mark_gone([conversation_id], Conversation.visitor_seen_at <= seen_before, now))


def _mark_gone(conversation_ids: Sequence[int], silent: sa.ColumnElement[bool], now: dt.datetime) -> list[int]:
    """Mark the chats whose visitor's page went silent, in one statement and one transaction, and tell their experts
    once it commits; the ids this call marked.

    A compare-and-set (`_gone`): a visitor who came back meanwhile is not marked, and of two runs only one marks a
    chat. On PostgreSQL the rows are taken with SKIP LOCKED: a row another transaction holds (a second run, the
    visitor coming back) is left to it rather than waited for while this one holds the others (nor can two runs
    then lock the same rows in opposite orders); the sweep's next run looks at it again.
    """
    if not conversation_ids:
        return []
    with unit_of_work():
        held = (sa.select(Conversation.id).where(Conversation.id.in_(conversation_ids), _gone(silent))
                .with_for_update(skip_locked=True))
        marked = list(db.session.scalars(
            sa.update(Conversation).where(Conversation.id.in_(held.scalar_subquery()))
            .values(visitor_left_at=now).returning(Conversation.id).execution_options(synchronize_session=False)))
        _tell_experts(marked)
    return marked


def _tell_experts(conversation_ids: Sequence[int]) -> None:
    """Send each chat's expert the chat as it now stands, once the transaction commits (in the same few statements
    however many chats)."""
    if not conversation_ids:
        return
    chats = [conversation for conversation in db.session.scalars(
        sa.select(Conversation).where(Conversation.id.in_(conversation_ids)).order_by(Conversation.id)
        .execution_options(populate_existing=True)) if conversation.expert_id is not None]
    brands_by_id = brands.brands_by_id({chat.brand_id for chat in chats})
    profiles = experts.profiles_by_id({chat.expert_id for chat in chats})
    activities = activity.chat_activity(chats)
    for chat in chats:
        events.chat_changed(chat, brands_by_id[chat.brand_id], profiles[chat.expert_id].user_id, activities[chat.id])


def _let_others_run() -> None:
    """Yield between a sweep's batches: under gevent the scheduler is a greenlet of the web process, which answers
    nothing while the sweep holds on (the server's async mode's sleep, as group commit's; a thread's otherwise)."""
    socketio.sleep(0)
