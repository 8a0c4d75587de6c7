"""The allowed status changes of experts, enrolments and conversations (DESIGN section 3), as plain data."""

from __future__ import annotations

# Expert: applied -> approved | rejected; approved -> suspended -> approved. A rejected applicant may
# correct their application and resubmit it: rejected -> applied, back in the vetting queue.
EXPERT_TRANSITIONS: dict[str, dict[str, str]] = {
    "approve": {"applied": "approved"},
    "reject": {"applied": "rejected"},
    "suspend": {"approved": "suspended"},
    "reinstate": {"suspended": "approved"},
    "resubmit": {"rejected": "applied"},
}

# The decisions ops take on an expert; the other actions are the expert's own.
EXPERT_DECISIONS: tuple[str, ...] = ("approve", "reject", "suspend", "reinstate")

# Enrolment with one brand: applied -> quiz_passed -> approved | rejected. A brand may also turn
# down an applicant before the quiz, and take back an approval (both end as rejected).
ENROLMENT_TRANSITIONS: dict[str, dict[str, str]] = {
    "pass_quiz": {"applied": "quiz_passed"},
    "approve": {"quiz_passed": "approved"},
    "reject": {"applied": "rejected", "quiz_passed": "rejected", "approved": "rejected"},
}


# Conversation (DESIGN sections 3 and 9). A visitor arriving at the door is let in (waiting) or refused (capped);
# a waiting conversation is offered to one expert at a time, and goes back to waiting when the offer is
# declined, expires or is taken back, keeping its place; an accepted offer makes it active until it is
# closed. A queued conversation ends abandoned (the visitor left) or missed (it waited too long).
# An active conversation whose visitor left a way back (an e-mail given with consent) becomes asynchronous
# when their page goes: it keeps its expert but no live slot. When the visitor writes again it goes back to
# that expert (resume) if they are online with room, or to the queue (hand_back: routed like a new one, with
# its history, to anyone but the experts it was already offered to); it closes after the brand's quiet time.
# A visitor message on an answered closed conversation within the brand's reopen window continues it
# (reopen to its expert, or hand back to the queue); one written from elsewhere than the page (an e-mail reply)
# continues it with the visitor still away (reopen_away to its expert's asynchronous list, or hand back to the
# queue). A handed-back conversation keeps the expert who held it last
# (`expert_id`) until another accepts it, and counts against nobody's concurrency while queued; when its visitor
# leaves again, or it waits too long, it goes back to that expert's asynchronous list (go_asynchronous) if they
# have room there, else it ends as a queued one does.
# A brand whose FAQ bot is on (faq/, routing/bot/) has a newcomer answered by the bot first: the conversation is
# with the bot (no place in the brand's count, no expert), then handed over (let in at the door, or refused there as
# capped, as an arriving one is) or resolved by the bot (the visitor said it helped, or asked nothing more).
# "arriving" is no stored status: it is the conversation the door has not yet let in or refused.
CONVERSATION_ARRIVING = "arriving"
CONVERSATION_TRANSITIONS: dict[str, dict[str, str]] = {
    "admit": {CONVERSATION_ARRIVING: "waiting", "bot": "waiting"},
    "refuse": {CONVERSATION_ARRIVING: "capped", "bot": "capped"},
    "meet_bot": {CONVERSATION_ARRIVING: "bot"},
    "resolve": {"bot": "resolved"},
    "offer": {"waiting": "offered"},
    "return_offer": {"offered": "waiting"},
    "accept": {"offered": "active"},
    "close": {"active": "closed", "asynchronous": "closed"},
    "abandon": {"waiting": "abandoned", "offered": "abandoned"},
    "miss": {"waiting": "missed", "offered": "missed"},
    "go_asynchronous": {"active": "asynchronous", "waiting": "asynchronous", "offered": "asynchronous"},
    "resume": {"asynchronous": "active"},
    "reopen": {"closed": "active"},
    "reopen_away": {"closed": "asynchronous"},
    "hand_back": {"asynchronous": "waiting", "closed": "waiting"},
}

# The statuses a conversation may have, and its groups of them; every other module reads these.
CONVERSATION_STATUSES: tuple[str, ...] = ("waiting", "offered", "active", "asynchronous", "closed", "abandoned",
                                          "missed", "capped", "bot", "resolved")
# In the brand's queue: the visitor is shown a place and a wait.
CONVERSATION_QUEUED: tuple[str, ...] = ("waiting", "offered")
# Live (the visitor is there): a place in the brand's `max_concurrent`; active ones hold a slot of their expert's
# concurrency.
CONVERSATION_LIVE: tuple[str, ...] = (*CONVERSATION_QUEUED, "active")
# The visitor is away but left a way back: counted against the brand's asynchronous limit per expert, not its live
# slots.
CONVERSATION_ASYNCHRONOUS: tuple[str, ...] = ("asynchronous",)
# With the FAQ bot, before any person: no place in the brand's count, no expert; the visitor may write.
CONVERSATION_WITH_BOT: tuple[str, ...] = ("bot",)
# Open: not ended. One per visitor and brand, and the visitor may write.
CONVERSATION_OPEN: tuple[str, ...] = (*CONVERSATION_LIVE, *CONVERSATION_ASYNCHRONOUS, *CONVERSATION_WITH_BOT)
# Ended by the bot before any person: it helped, or the visitor asked nothing more. Not an answered chat.
CONVERSATION_RESOLVED_BY_BOT: tuple[str, ...] = ("resolved",)
# Held by its expert, who may write in it.
CONVERSATION_ASSIGNED: tuple[str, ...] = ("active", *CONVERSATION_ASYNCHRONOUS)
# Let in, then left before an expert answered: the visitor went, or waited too long.
CONVERSATION_UNANSWERED: tuple[str, ...] = ("abandoned", "missed")
# Let in and ended: a conversation here with no expert reply will never have one (unless reopened).
CONVERSATION_ENDED: tuple[str, ...] = ("closed", *CONVERSATION_UNANSWERED)
# Refused at the door.
CONVERSATION_REFUSED: tuple[str, ...] = ("capped",)
# Queued, or ended without an expert: the visitor may leave a message and an address for the brand instead.
CONVERSATION_MAY_LEAVE_MESSAGE: tuple[str, ...] = (*CONVERSATION_QUEUED, *CONVERSATION_UNANSWERED,
                                                   *CONVERSATION_REFUSED)


def next_status(transitions: dict[str, dict[str, str]], action: str, current: str) -> str | None:
    """The status `action` leads to from `current`, or None when the lifecycle does not allow it."""
    return transitions.get(action, {}).get(current)


def may_move(transitions: dict[str, dict[str, str]], current: str, target: str) -> bool:
    """Whether some action of the lifecycle leads from `current` to `target`."""
    return any(moves.get(current) == target for moves in transitions.values())
