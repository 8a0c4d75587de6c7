"""A conversation's lifecycle: the moves it allows, and its groups of statuses, which every module reads."""

from __future__ import annotations

import pytest

from marketplace.core.lifecycles import (
    CONVERSATION_ARRIVING,
    CONVERSATION_ASSIGNED,
    CONVERSATION_ASYNCHRONOUS,
    CONVERSATION_ENDED,
    CONVERSATION_LIVE,
    CONVERSATION_MAY_LEAVE_MESSAGE,
    CONVERSATION_OPEN,
    CONVERSATION_QUEUED,
    CONVERSATION_REFUSED,
    CONVERSATION_RESOLVED_BY_BOT,
    CONVERSATION_STATUSES,
    CONVERSATION_TRANSITIONS,
    CONVERSATION_UNANSWERED,
    CONVERSATION_WITH_BOT,
    may_move,
    next_status,
)

MOVES = CONVERSATION_TRANSITIONS


@pytest.mark.parametrize(("action", "current", "target"), [
    ("admit", CONVERSATION_ARRIVING, "waiting"),
    ("refuse", CONVERSATION_ARRIVING, "capped"),
    ("offer", "waiting", "offered"),
    ("return_offer", "offered", "waiting"),
    ("accept", "offered", "active"),
    ("close", "active", "closed"),
    ("abandon", "waiting", "abandoned"),
    ("abandon", "offered", "abandoned"),
    ("miss", "waiting", "missed"),
    ("miss", "offered", "missed"),
    ("go_asynchronous", "active", "asynchronous"),  # the visitor left an address and went
    ("go_asynchronous", "waiting", "asynchronous"),  # handed back, and the visitor went again
    ("go_asynchronous", "offered", "asynchronous"),
    ("resume", "asynchronous", "active"),  # the visitor writes; their expert has room
    ("hand_back", "asynchronous", "waiting"),  # the visitor writes; their expert has none
    ("close", "asynchronous", "closed"),  # quiet time, or the expert closes it
    ("reopen", "closed", "active"),  # a message within the brand's reopen window
    ("hand_back", "closed", "waiting"),
    ("reopen_away", "closed", "asynchronous"),  # an e-mail reply within the window: the visitor is still away
    ("meet_bot", CONVERSATION_ARRIVING, "bot"),  # the brand's FAQ bot answers first
    ("admit", "bot", "waiting"),  # handed over: let in at the door
    ("refuse", "bot", "capped"),  # handed over while the brand is full: refused there, never silently
    ("resolve", "bot", "resolved"),  # it helped, or the visitor asked nothing more
])
def test_it_allows_the_moves_of_a_conversation(action, current, target):
    assert next_status(MOVES, action, current) == target


@pytest.mark.parametrize(("action", "current"), [
    ("accept", "waiting"),  # only an offer is accepted
    ("offer", "offered"),  # one live offer at a time
    ("close", "waiting"),  # a queued conversation is abandoned or missed, not closed
    ("close", "offered"),
    ("abandon", "active"),  # an active chat is closed
    ("miss", "active"),
    ("return_offer", "waiting"),
    ("admit", "waiting"),  # only an arrival is let in
    ("go_asynchronous", "closed"),  # only an open conversation's visitor goes away
    ("resume", "waiting"),  # only an asynchronous one resumes; a closed one reopens
    ("reopen", "abandoned"),  # nobody answered it: a message starts a new one
    ("reopen", "asynchronous"),
    ("reopen_away", "missed"),  # an e-mail to a chat that ended unanswered starts a new one
    ("hand_back", "active"),  # the visitor is there: it stays with its expert
    ("abandon", "asynchronous"),  # the visitor left a way back: it closes after the quiet time
    ("offer", "bot"),  # the router never sees a conversation the bot still has
    ("close", "bot"),
    ("meet_bot", "waiting"),  # once with a person, the bot never comes back
    ("resolve", "waiting"),
    ("admit", "resolved"),
])
def test_it_refuses_the_other_moves(action, current):
    assert next_status(MOVES, action, current) is None


def test_an_ended_or_refused_conversation_never_moves_again_but_a_closed_one_may_continue():
    for status in CONVERSATION_ENDED + CONVERSATION_REFUSED + CONVERSATION_RESOLVED_BY_BOT:
        moves = {action: targets[status] for action, targets in MOVES.items() if status in targets}
        # A visitor's message continues a closed (answered) conversation, to its expert or to the queue.
        continued = {"reopen": "active", "reopen_away": "asynchronous", "hand_back": "waiting"}
        assert moves == (continued if status == "closed" else {}), status


def test_every_open_conversation_can_end():
    for status in CONVERSATION_OPEN:
        ends = CONVERSATION_ENDED + CONVERSATION_RESOLVED_BY_BOT
        assert any(may_move(MOVES, status, ended) for ended in ends), status


def test_the_moves_name_only_known_statuses_and_an_arrival_is_no_status():
    for moves in MOVES.values():
        for current, target in moves.items():
            assert current in CONVERSATION_STATUSES or current == CONVERSATION_ARRIVING
            assert target in CONVERSATION_STATUSES
    assert CONVERSATION_ARRIVING not in CONVERSATION_STATUSES


def test_every_status_is_open_ended_or_refused_and_only_one_of_them():
    groups = CONVERSATION_OPEN + CONVERSATION_ENDED + CONVERSATION_REFUSED + CONVERSATION_RESOLVED_BY_BOT
    assert sorted(groups) == sorted(CONVERSATION_STATUSES)


def test_the_groups_nest_as_their_names_say():
    assert set(CONVERSATION_QUEUED) < set(CONVERSATION_LIVE)
    assert set(CONVERSATION_UNANSWERED) < set(CONVERSATION_ENDED)
    assert "active" in CONVERSATION_LIVE and "active" not in CONVERSATION_QUEUED
    # An asynchronous conversation is open (one per visitor, the visitor writes) but holds no live place.
    # So is one with the bot, which holds no place at all.
    assert (*CONVERSATION_LIVE, *CONVERSATION_ASYNCHRONOUS, *CONVERSATION_WITH_BOT) == CONVERSATION_OPEN
    assert not set(CONVERSATION_WITH_BOT) & {*CONVERSATION_LIVE, *CONVERSATION_ASSIGNED}
    assert not set(CONVERSATION_ASYNCHRONOUS) & set(CONVERSATION_LIVE)
    assert set(CONVERSATION_ASSIGNED) == {"active", *CONVERSATION_ASYNCHRONOUS} < set(CONVERSATION_OPEN)


def test_a_visitor_may_leave_a_message_while_queued_or_once_ended_without_an_expert():
    assert sorted(CONVERSATION_MAY_LEAVE_MESSAGE) == ["abandoned", "capped", "missed", "offered", "waiting"]
    assert "active" not in CONVERSATION_MAY_LEAVE_MESSAGE and "closed" not in CONVERSATION_MAY_LEAVE_MESSAGE


@pytest.mark.parametrize(("current", "target", "allowed"), [
    ("active", "closed", True),
    ("offered", "abandoned", True),
    ("waiting", "missed", True),
    ("waiting", "closed", False),
    ("active", "missed", False),
    ("closed", "closed", False),
])
def test_may_move_says_whether_any_action_leads_there(current, target, allowed):
    assert may_move(MOVES, current, target) is allowed
