"""Socket.IO handlers: the expert's on the main namespace, the visitor's on `/visitor` (see README.md).

Each handler checks who is calling, calls one service and answers through the acknowledgement:
`{"ok": true, ...}` or `{"ok": false, "error": "...", "field": "..."}`; nothing here commits.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import request, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room

from marketplace.accounts.models import Role
from marketplace.database import db
from marketplace.errors import DomainError, Forbidden
from marketplace.experts import services as experts
from marketplace.routing import chat, conversations, events, router, waits
from marketplace.routing.models import Conversation, Sender
from marketplace.web.schemas import ID_MAX


def _answer(handler: Callable[..., dict]) -> Callable[..., dict]:
    """Turn domain errors into a refusal the client can show, and never leave a transaction open."""
    @functools.wraps(handler)
    def wrapper(data: Any = None) -> dict:
        try:
            return {"ok": True, **handler(data if isinstance(data, dict) else {})}
        except DomainError as error:
            db.session.rollback()
            return {"ok": False, "error": str(error.message), "field": error.field}
    return wrapper


def _expert_id() -> int:
    """The calling expert's profile id: the user is loaded and checked on every event, the profile found once."""
    if (not current_user.is_authenticated or getattr(current_user, "is_token", False)
            or current_user.role != Role.EXPERT):
        raise Forbidden(_l("Only experts answer chats."))
    # A user's expert profile never changes, so the socket's session (in memory, never a cookie) keeps its id.
    known = session.get("expert_profile")
    if known is None or known[0] != current_user.id:
        known = session["expert_profile"] = (current_user.id, experts.own_profile(current_user).id)
    return known[1]


def _int(data: dict, name: str) -> Any:
    """A record id from an event's payload; -1 (found nowhere) when it is not one the database can hold."""
    value = data.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= ID_MAX else -1


# The expert.

@_answer
def on_offer_accept(data: dict) -> dict:
    conversation = router.accept_offer(_expert_id(), _int(data, "offer_id"), network=request.remote_addr)
    return {"chat": chat.chat_summary(conversation)}


@_answer
def on_offer_decline(data: dict) -> dict:
    router.decline_offer(_expert_id(), _int(data, "offer_id"))
    return {}


@_answer
def on_chat_send(data: dict) -> dict:
    expert_id = _expert_id()
    conversation = chat.expert_conversation(expert_id, _int(data, "conversation_id"))
    posted = chat.post_message(conversation.id, Sender.EXPERT, data.get("client_id"), data.get("body"),
                               author_id=current_user.id, expert_id=expert_id,
                               expert_users={expert_id: current_user.id}, sender_sid=request.sid)
    return {"message": events.message_payload(posted.message)}


@_answer
def on_chat_sync(data: dict) -> dict:
    conversation = chat.expert_conversation(_expert_id(), _int(data, "conversation_id"))
    messages = chat.messages_after(conversation.id, data.get("after_seq", 0))
    return {"messages": [events.message_payload(m) for m in messages]}


@_answer
def on_chat_read(data: dict) -> dict:
    chat.mark_read(_expert_id(), _int(data, "conversation_id"), data.get("seq"))
    return {}


@_answer
def on_chat_typing(data: dict) -> dict:
    expert_id = _expert_id()
    conversation = chat.expert_conversation(expert_id, _int(data, "conversation_id"))
    chat.typing(conversation, Sender.EXPERT, {expert_id: current_user.id})
    return {}


@_answer
def on_chat_close(data: dict) -> dict:
    expert_id = _expert_id()
    conversation = chat.expert_conversation(expert_id, _int(data, "conversation_id"))
    conversations.end_conversation(conversation.id, conversations.ConversationStatus.CLOSED,
                                   conversations.EndReason.EXPERT, expert_id=expert_id)
    db.session.refresh(conversation)
    return {"chat": chat.chat_summary(conversation)}


# The visitor.

def on_visitor_connect(auth: dict | None = None) -> None:
    auth = auth if isinstance(auth, dict) else {}
    try:
        conversation = conversations.visitor_conversation(
            str(auth.get("key") or ""), auth.get("token"), _int(auth, "conversation_id"))
    except DomainError:
        db.session.rollback()
        raise ConnectionRefusedError("unknown conversation") from None
    # This socket session lives in the server's memory for the socket's lifetime (never in a cookie);
    # `expert_users` is post_message's memo of the assigned expert's user id.
    session["visitor"] = {"key": auth["key"], "token": auth["token"], "conversation_id": conversation.id,
                          "expert_users": {}}
    join_room(events.conversation_room(conversation.id))
    conversations.visitor_seen(conversation.id)


def on_visitor_disconnect(reason: Any = None) -> None:
    visitor = session.get("visitor")
    if visitor:
        conversations.visitor_seen(visitor["conversation_id"])  # the grace period starts now


def _visitor() -> dict:
    """This socket's visitor session: the conversation whose token was checked once, on connect."""
    visitor = session.get("visitor")
    if not visitor:
        raise Forbidden(_l("Connect to a conversation first."))
    return visitor


def _visitor_conversation() -> Conversation:
    conversation = db.session.get(Conversation, _visitor()["conversation_id"])
    if conversation is None:
        raise Forbidden(_l("Connect to a conversation first."))
    return conversation


@_answer
def on_visitor_send(data: dict) -> dict:
    # The conversation row is not loaded first: the statement that numbers the message finds it and checks
    # that the visitor may still write.
    visitor = _visitor()
    posted = chat.post_message(visitor["conversation_id"], Sender.VISITOR, data.get("client_id"), data.get("body"),
                               expert_users=visitor["expert_users"], sender_sid=request.sid)
    return {"message": events.message_payload(posted.message)}


@_answer
def on_visitor_sync(data: dict) -> dict:
    messages = chat.messages_after(_visitor()["conversation_id"], data.get("after_seq", 0))
    return {"messages": [events.message_payload(m) for m in messages]}


@_answer
def on_visitor_typing(data: dict) -> dict:
    chat.typing(_visitor_conversation(), Sender.VISITOR, _visitor()["expert_users"])
    return {}


@_answer
def on_visitor_status(data: dict) -> dict:
    conversation = _visitor_conversation()
    conversations.visitor_seen(conversation.id)
    return {"conversation": waits.visitor_view(conversation)}


def init_app() -> None:
    from marketplace.extensions import socketio

    for event, handler in {
        "offer_accept": on_offer_accept, "offer_decline": on_offer_decline, "chat_send": on_chat_send,
        "chat_sync": on_chat_sync, "chat_read": on_chat_read, "chat_typing": on_chat_typing,
        "chat_close": on_chat_close,
    }.items():
        socketio.on_event(event, handler)
    namespace = events.VISITOR_NAMESPACE
    socketio.on_event("connect", on_visitor_connect, namespace=namespace)
    socketio.on_event("disconnect", on_visitor_disconnect, namespace=namespace)
    for event, handler in {"send": on_visitor_send, "sync": on_visitor_sync, "typing": on_visitor_typing,
                           "status": on_visitor_status}.items():
        socketio.on_event(event, handler, namespace=namespace)
