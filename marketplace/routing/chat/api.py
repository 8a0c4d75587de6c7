"""JSON API of the expert's side: their inbox, offers to accept or decline, and their chats."""

from __future__ import annotations

from flask import request

from marketplace.accounts.models import Role
from marketplace.experts import services as experts
from marketplace.routing import events
from marketplace.routing.chat import services as chats
from marketplace.routing.chat.messages import messages_after, post_message
from marketplace.routing.chat.schemas import AfterQuery, ChatSchema, InboxSchema, MessageCreateSchema
from marketplace.routing.models import ConversationStatus, EndReason, Sender
from marketplace.routing.router import offers
from marketplace.routing.router.admission import end_conversation
from marketplace.routing.schemas import MessageListSchema, MessageSchema
from marketplace.web.api import api_blueprint, endpoint

blueprint = api_blueprint("chat_api", __name__)
EXPERT = [Role.EXPERT]


def _expert_id(actor) -> int:
    return experts.own_profile(actor).id


@blueprint.get("/expert/inbox")
@endpoint("The calling expert's pending offers, open and recently closed chats, and canned answers", roles=EXPERT,
          response=InboxSchema(), tags=["conversations"])
def inbox(actor):
    return chats.expert_inbox(_expert_id(actor))


@blueprint.post("/offers/<int:offer_id>/accept")
@endpoint("Accept an offer: the chat becomes the expert's", roles=EXPERT, response=ChatSchema(),
          tags=["conversations"], errors=[409])
def accept(actor, offer_id: int):
    return chats.chat_summary(offers.accept_offer(_expert_id(actor), offer_id, network=request.remote_addr))


@blueprint.post("/offers/<int:offer_id>/decline")
@endpoint("Decline an offer: it goes to another expert", roles=EXPERT, tags=["conversations"], errors=[409])
def decline(actor, offer_id: int):
    offers.decline_offer(_expert_id(actor), offer_id)


@blueprint.get("/conversations/<int:conversation_id>/messages")
@endpoint("Messages of one of the expert's chats after ?after= (a sequence number), in order", roles=EXPERT,
          query=AfterQuery(), response=MessageListSchema(), tags=["conversations"])
def messages(actor, conversation_id: int, query):
    conversation = chats.expert_conversation(_expert_id(actor), conversation_id)
    return {"messages": [events.message_payload(m) for m in messages_after(conversation.id, query["after"])]}


@blueprint.post("/conversations/<int:conversation_id>/messages")
@endpoint("Send a message in one of the expert's chats (a resend with the same client_id is not a duplicate)",
          roles=EXPERT, body=MessageCreateSchema(), response=MessageSchema(), status=201, tags=["conversations"],
          errors=[409])
def send(actor, conversation_id: int, body):
    expert_id = _expert_id(actor)
    conversation = chats.expert_conversation(expert_id, conversation_id)
    posted = post_message(conversation.id, Sender.EXPERT, body["client_id"], body["body"],
                          author_id=actor.id, expert_id=expert_id)
    return events.message_payload(posted.message)


@blueprint.post("/conversations/<int:conversation_id>/close")
@endpoint("Close one of the expert's chats", roles=EXPERT, response=ChatSchema(), tags=["conversations"])
def close(actor, conversation_id: int):
    expert_id = _expert_id(actor)
    conversation = chats.expert_conversation(expert_id, conversation_id)
    end_conversation(conversation.id, ConversationStatus.CLOSED, EndReason.EXPERT, expert_id=expert_id)
    return chats.chat_summary(chats.expert_conversation(expert_id, conversation_id))
