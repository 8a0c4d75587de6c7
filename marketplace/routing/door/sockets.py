"""The visitor's socket handlers, on the `/visitor` namespace: their conversation's messages and status (README.md).

The token is checked once, on connect; the socket's WSGI environ (in the server's memory for the socket's lifetime,
never a cookie) remembers the conversation, where the frequent `send` reads it without a request context.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import lazy_gettext as _l
from flask_socketio import ConnectionRefusedError, join_room

from marketplace.database import db
from marketplace.errors import DomainError, Forbidden
from marketplace.extensions import socketio
from marketplace.routing import events
from marketplace.routing.chat.messages import messages_after, post_message, visitor_typing
from marketplace.routing.door import services as conversations
from marketplace.routing.door import waits
from marketplace.routing.models import Conversation, Sender
from marketplace.routing.sockets import answer, on_frequent_event, record_id
from marketplace.shared.rooms import conversation_room

_VISITOR = "marketplace.visitor"  # the socket's visitor, in its environ


def on_visitor_connect(auth: dict | None = None) -> None:
    auth = auth if isinstance(auth, dict) else {}
    try:
        conversation = conversations.visitor_conversation(
            str(auth.get("key") or ""), auth.get("token"), record_id(auth, "conversation_id"))
    except DomainError:
        db.session.rollback()
        raise ConnectionRefusedError("unknown conversation") from None
    # `expert_users` is post_message's memo of the assigned expert's user id.
    request.environ[_VISITOR] = {"key": auth["key"], "token": auth["token"], "conversation_id": conversation.id,
                                 "expert_users": {}}
    join_room(conversation_room(conversation.id))
    conversations.visitor_seen(conversation.id)


def on_visitor_disconnect(reason: Any = None) -> None:
    visitor = request.environ.get(_VISITOR)
    if visitor:
        conversations.visitor_seen(visitor["conversation_id"])  # the grace period starts now


def _visitor(environ: dict | None = None) -> dict:
    """This socket's visitor: the conversation whose token was checked once, on connect."""
    visitor = (request.environ if environ is None else environ).get(_VISITOR)
    if not visitor:
        raise Forbidden(_l("Connect to a conversation first."))
    return visitor


def _visitor_conversation() -> Conversation:
    conversation = db.session.get(Conversation, _visitor()["conversation_id"])
    if conversation is None:
        raise Forbidden(_l("Connect to a conversation first."))
    return conversation


def on_visitor_send(sid: str, environ: dict, data: dict) -> dict:
    # The conversation row is not loaded first: the statement that numbers the message finds it and checks
    # that the visitor may still write.
    visitor = _visitor(environ)
    posted = post_message(visitor["conversation_id"], Sender.VISITOR, data.get("client_id"), data.get("body"),
                          expert_users=visitor["expert_users"], sender_sid=sid)
    return {"message": events.message_payload(posted.message)}


@answer
def on_visitor_sync(data: dict) -> dict:
    messages = messages_after(_visitor()["conversation_id"], data.get("after_seq", 0))
    return {"messages": [events.message_payload(m) for m in messages]}


def on_visitor_typing(sid: str, environ: dict, data: dict) -> dict:
    visitor = _visitor(environ)  # sent every few seconds while they write: no request context (on_frequent_event)
    visitor_typing(visitor["conversation_id"], visitor["expert_users"])
    return {}


@answer
def on_visitor_status(data: dict) -> dict:
    conversation = _visitor_conversation()
    conversations.visitor_seen(conversation.id)
    return {"conversation": waits.visitor_view(conversation)}


def register() -> None:
    namespace = events.VISITOR_NAMESPACE
    socketio.on_event("connect", on_visitor_connect, namespace=namespace)
    socketio.on_event("disconnect", on_visitor_disconnect, namespace=namespace)
    on_frequent_event("send", on_visitor_send, namespace)
    on_frequent_event("typing", on_visitor_typing, namespace)
    for event, handler in {"sync": on_visitor_sync, "status": on_visitor_status}.items():
        socketio.on_event(event, handler, namespace=namespace)
