"""The expert's socket handlers, on the main namespace: offers and their chats (README.md)."""

from __future__ import annotations

from flask import request, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from marketplace.accounts.models import Role
from marketplace.database import db
from marketplace.errors import Forbidden
from marketplace.experts import services as experts
from marketplace.extensions import socketio
from marketplace.routing import events
from marketplace.routing.chat import services as chats
from marketplace.routing.chat.messages import messages_after, post_message, typing
from marketplace.routing.models import ConversationStatus, EndReason, Sender
from marketplace.routing.router import offers
from marketplace.routing.router.admission import end_conversation
from marketplace.routing.sockets import answer, record_id


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


@answer
def on_offer_accept(data: dict) -> dict:
    conversation = offers.accept_offer(_expert_id(), record_id(data, "offer_id"), network=request.remote_addr)
    return {"chat": chats.chat_summary(conversation)}


@answer
def on_offer_decline(data: dict) -> dict:
    offers.decline_offer(_expert_id(), record_id(data, "offer_id"))
    return {}


@answer
def on_chat_send(data: dict) -> dict:
    expert_id = _expert_id()
    conversation = chats.expert_conversation(expert_id, record_id(data, "conversation_id"))
    posted = post_message(conversation.id, Sender.EXPERT, data.get("client_id"), data.get("body"),
                          author_id=current_user.id, expert_id=expert_id,
                          expert_users={expert_id: current_user.id}, sender_sid=request.sid)
    return {"message": events.message_payload(posted.message)}


@answer
def on_chat_sync(data: dict) -> dict:
    conversation = chats.expert_conversation(_expert_id(), record_id(data, "conversation_id"))
    messages = messages_after(conversation.id, data.get("after_seq", 0))
    return {"messages": [events.message_payload(m) for m in messages]}


@answer
def on_chat_read(data: dict) -> dict:
    chats.mark_read(_expert_id(), record_id(data, "conversation_id"), data.get("seq"))
    return {}


@answer
def on_chat_typing(data: dict) -> dict:
    expert_id = _expert_id()
    conversation = chats.expert_conversation(expert_id, record_id(data, "conversation_id"))
    typing(conversation, Sender.EXPERT, {expert_id: current_user.id})
    return {}


@answer
def on_chat_close(data: dict) -> dict:
    expert_id = _expert_id()
    conversation = chats.expert_conversation(expert_id, record_id(data, "conversation_id"))
    end_conversation(conversation.id, ConversationStatus.CLOSED, EndReason.EXPERT, expert_id=expert_id)
    db.session.refresh(conversation)
    return {"chat": chats.chat_summary(conversation)}


def register() -> None:
    for event, handler in {
        "offer_accept": on_offer_accept, "offer_decline": on_offer_decline, "chat_send": on_chat_send,
        "chat_sync": on_chat_sync, "chat_read": on_chat_read, "chat_typing": on_chat_typing,
        "chat_close": on_chat_close,
    }.items():
        socketio.on_event(event, handler)
