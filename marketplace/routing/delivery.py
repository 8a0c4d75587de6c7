"""Delivery: one service takes each stored message to each side of its conversation, by whatever reaches them.

A message is stored and numbered once, whoever wrote it and however it came in (the widget, the expert's app, an
e-mail reply, later a messaging channel): `chat/messages.py` does that, then hands it here once, inside the
message's transaction, with the conversation as that transaction wrote it (a `Route`). Each side is reached by
the reachers that apply to the route:

- its open pages, always: the visitor's room on `/visitor` and the holding expert's user room, once the message
  commits (the socket that sent it has it in its acknowledgement instead). A page that is not open loses nothing:
  it asks for everything after its last number when it comes back;
- the visitor who is away (an asynchronous conversation) and the ways back they left: the e-mail digest
  (continuation/), Web Push in their browser, and the messaging channels of the next layer, each registered at
  start-up by its own package (the shared modules import nothing above them).

A reacher runs inside the message's transaction, so what it notes (the digest's due time, a push to send) is
stored with the message or not at all, and a reacher that raises (a messaging app that would refuse it) refuses
the message; it sends nothing itself before the commit (`database.after_commit`). A
reacher's failure after the commit loses nothing either: the message is stored, and the page, the next digest
or the resume link shows it.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from marketplace.routing import events
from marketplace.routing.models import Channel, ConversationStatus, Message, Sender

log = logging.getLogger("marketplace.routing.delivery")


class Side(enum.Enum):
    VISITOR = "visitor"
    EXPERT = "expert"


@dataclass(frozen=True)
class Route:
    """The conversation as the message's transaction wrote it: who holds it, and whether its visitor is away."""

    status: ConversationStatus
    expert_user_id: int | None  # the holding expert's user (their sockets' room); None when nobody holds it
    sender_sid: str | None = None  # the socket the message came from, answered with it in its acknowledgement
    channel: Channel = Channel.WEB  # how the visitor reaches the conversation: a messaging app is its way back

    @property
    def visitor_away(self) -> bool:
        return self.status == ConversationStatus.ASYNCHRONOUS


@dataclass(frozen=True)
class Reacher:
    """A way to reach one side beyond its open pages: `reach(message)` runs in the message's transaction when
    `applies(message, route)`."""

    name: str
    side: Side
    applies: Callable[[Message, Route], bool]
    reach: Callable[[Message], None]


_reachers: dict[str, Reacher] = {}
_before_numbering: dict[str, tuple[frozenset[Sender], Callable[[int, Sender], None]]] = {}
_numbered_alone: set[Sender] = set()  # the senders some step concerns (asked for every message)
_after_stored: dict[str, Callable[[Message, ConversationStatus], None]] = {}


def register(reacher: Reacher) -> None:
    """Add a way to reach a side (at start-up); registering the same name again replaces it, never doubles it."""
    _reachers[reacher.name] = reacher


def register_before_numbering(name: str, step: Callable[[int, Sender], None], senders: Iterable[Sender]) -> None:
    """Add a step run in the transaction of a message of one of `senders` before it is numbered
    (`step(conversation_id, sender)`).

    Numbering locks the conversation's row. A reacher that will lock a row the router locks before a conversation's
    (the brand's load: a messaging app's fee) must take it here, first, so that every transaction takes the two in
    the router's order and none waits on another that waits on it (a deadlock on PostgreSQL). For the same reason a
    message of these senders is stored in a transaction of its own (`numbered_alone`), never one shared with other
    messages, which would have locked their conversations first."""
    _before_numbering[name] = (frozenset(senders), step)
    _numbered_alone.clear()
    _numbered_alone.update(*(concerned for concerned, _ in _before_numbering.values()))


def numbered_alone(sender: Sender) -> bool:
    """Whether a step runs before this sender's messages are numbered: they then need a transaction of their own."""
    return sender in _numbered_alone


def before_numbering(conversation_id: int, sender: Sender) -> None:
    """Run the registered steps for this sender; call inside the message's transaction, before numbering it."""
    for senders, step in _before_numbering.values():
        if sender in senders:
            step(conversation_id, sender)


def register_after_stored(name: str, step: Callable[[Message, ConversationStatus], None]) -> None:
    """Add a step run once a new message has committed, in the caller's own flow (not inside any transaction):
    `step(message, status)`, the conversation's status as the message's transaction wrote it. The FAQ bot reads the
    visitor's messages so (routing/bot/). A step must not raise."""
    _after_stored[name] = step


def after_stored(message: Message, status: ConversationStatus) -> None:
    """Run the registered steps for a message just stored and committed (never for a resend)."""
    for step in _after_stored.values():
        step(message, status)


def reachers() -> list[Reacher]:
    return list(_reachers.values())


def expert_reply_to_away_visitor(message: Message, route: Route) -> bool:
    """The condition of every way back a widget's visitor left (e-mail, Web Push): their expert wrote while they
    were away. A messaging app's customer is reached by their app instead, whatever the status."""
    return message.sender == Sender.EXPERT and route.visitor_away and route.channel == Channel.WEB


def deliver(message: Message, route: Route) -> list[str]:
    """Take a message just stored to both sides; the names of the reachers beyond the pages that took it.

    Call inside the message's transaction, once, for a message stored for the first time (never for a resend).
    The reachers go first: what they note shows in the message the pages get (a channel message's delivery state),
    and one may refuse the message (a messaging app's window has closed), rolling the transaction back.
    """
    used = []
    for reacher in _reachers.values():
        if reacher.applies(message, route):
            reacher.reach(message)
            used.append(reacher.name)
    events.message_posted(message, route.expert_user_id, route.sender_sid)
    return used
