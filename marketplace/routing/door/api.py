"""The chat frame's JSON calls: the visitor arrives, waits, writes, leaves and rates (the frame: views.py).

Visitors have no account: a brand's public widget key names the brand, and the random token their
browser keeps (header `X-Visitor-Token`) proves a conversation is theirs. The calls are same-origin (the
frame is ours) and read what schemas.py accepts; the call that leaves a message is in left_messages/api.py.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from marketplace.extensions import csrf, limiter
from marketplace.routing import events
from marketplace.routing.chat.messages import messages_after, post_message
from marketplace.routing.door import services as conversations
from marketplace.routing.door import waits
from marketplace.routing.door.schemas import (
    ConversationStartSchema,
    MessagesAfterQuery,
    RatingCreateSchema,
    VisitorConversationSchema,
    VisitorEmailSchema,
    VisitorMessageCreateSchema,
    WidgetInfoSchema,
)
from marketplace.routing.models import ATTACHMENT_TYPES, Sender
from marketplace.routing.schemas import MessageListSchema, MessageSchema
from marketplace.web.api import public_endpoint

blueprint = Blueprint("widget_api", __name__)
csrf.exempt(blueprint)  # no cookie speaks for the visitor: the token header does, and a page cannot forge it
TOKEN_HEADER = "X-Visitor-Token"  # noqa: S105 - a header name, not a secret
API = "/api/widget/<key>"
TAGS = ("widget",)
VISITOR = (TOKEN_HEADER,)
CONVERSATION = VisitorConversationSchema()
MESSAGE = MessageSchema()


def visitor_token() -> str | None:
    """The token the visitor's browser sent: it proves a conversation is theirs (door/services.py checks it)."""
    return request.headers.get(TOKEN_HEADER)


@blueprint.get(API)
@limiter.limit("120 per minute")
@public_endpoint("The brand's name, topics and whether it is open now", response=WidgetInfoSchema(), tags=TAGS,
                 errors=(404, 429))
def info(key: str):
    found = conversations.widget_info(key)
    return {"brand": {"name": found.name}, "topics": found.topics, "open": found.open,
            "attachment_max_bytes": found.attachment_max_bytes, "attachment_types": list(ATTACHMENT_TYPES)}


@blueprint.post(f"{API}/conversations")
@limiter.limit("30 per minute")
@public_endpoint("Start a chat (or resume the visitor's live one); refused at the door when the brand is closed "
                 "or at a cap, as a conversation already ended", body=ConversationStartSchema(),
                 response=CONVERSATION, status=201, tags=TAGS, errors=(404, 429), headers=VISITOR)
def start(key: str, body: dict):
    conversation = conversations.start_conversation(
        key, visitor_token(), topic=body["topic"], page_url=body["page_url"], locale=body["locale"],
        network=request.remote_addr)
    return waits.visitor_view(conversation)


@blueprint.get(f"{API}/conversations/<int:conversation_id>")
@public_endpoint("The visitor's conversation: status, place in the queue, wait (also says the visitor is still here)",
                 response=CONVERSATION, tags=TAGS, errors=(404, 422), headers=VISITOR)
def show(key: str, conversation_id: int):
    conversation = conversations.visitor_conversation(key, visitor_token(), conversation_id)
    conversations.visitor_seen(conversation.id)
    return waits.visitor_view(conversation)


@blueprint.get(f"{API}/conversations/<int:conversation_id>/messages")
@public_endpoint("The conversation's messages after ?after= (a sequence number), in order", query=MessagesAfterQuery(),
                 response=MessageListSchema(), tags=TAGS, errors=(404,), headers=VISITOR)
def messages(key: str, conversation_id: int, query: dict):
    conversation = conversations.visitor_conversation(key, visitor_token(), conversation_id)
    return {"messages": [events.message_payload(m) for m in messages_after(conversation.id, query["after"])]}


@blueprint.post(f"{API}/conversations/<int:conversation_id>/messages")
@limiter.limit("60 per minute")
@public_endpoint("Write in the conversation: 201 when stored, 200 with the stored copy for a resend of the same "
                 "client_id", body=VisitorMessageCreateSchema(), response=MESSAGE, status=201, tags=TAGS,
                 errors=(404, 409, 429), headers=VISITOR)
def send(key: str, conversation_id: int, body: dict):
    conversation = conversations.visitor_conversation(key, visitor_token(), conversation_id)
    posted = post_message(conversation.id, Sender.VISITOR, body["client_id"], body["body"])
    if posted.created:
        return events.message_payload(posted.message)
    return jsonify(MESSAGE.dump(events.message_payload(posted.message)))  # a resend: 200, nothing new stored


@blueprint.post(f"{API}/conversations/<int:conversation_id>/email")
@limiter.limit("10 per minute")
@public_endpoint("Give an address, with consent, where the answer goes if the visitor leaves: the chat then "
                 "continues asynchronously instead of ending", body=VisitorEmailSchema(), response=CONVERSATION,
                 tags=TAGS, errors=(404, 409, 422, 429), headers=VISITOR)
def give_email(key: str, conversation_id: int, body: dict):
    conversation = conversations.give_email(key, visitor_token(), conversation_id, body["email"], body["consent"])
    return waits.visitor_view(conversation)


@blueprint.post(f"{API}/conversations/<int:conversation_id>/leave")
@public_endpoint("The visitor ends the chat (or stops waiting)", response=CONVERSATION, tags=TAGS,
                 errors=(404, 422), headers=VISITOR)
def leave(key: str, conversation_id: int):
    return waits.visitor_view(conversations.leave(key, visitor_token(), conversation_id))


@blueprint.post(f"{API}/conversations/<int:conversation_id>/rating")
@public_endpoint("Rate a finished chat from 1 to 5, once", body=RatingCreateSchema(), response=CONVERSATION,
                 tags=TAGS, errors=(404, 409), headers=VISITOR)
def rate(key: str, conversation_id: int, body: dict):
    conversation = conversations.rate(key, visitor_token(), conversation_id, body["rating"], body["comment"])
    return waits.visitor_view(conversation)
