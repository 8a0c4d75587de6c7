"""JSON API for conversations: the expert's inbox and chats, the brand's live view, inbox and chat program."""

from __future__ import annotations

from flask import request

from marketplace.accounts.models import Role
from marketplace.brands import program
from marketplace.brands import services as brands
from marketplace.experts import services as experts
from marketplace.routing import caps as demand
from marketplace.routing import chat, conversations, events, router
from marketplace.routing.models import ConversationStatus, EndReason, Sender
from marketplace.routing.schemas import (
    AfterQuery,
    CannedAnswerSchema,
    CannedAnswersSchema,
    CapUsageSchema,
    ChatSchema,
    InboxSchema,
    LeftMessageSchema,
    LiveSchema,
    MessageCreateSchema,
    MessageListSchema,
    MessageSchema,
    ProgramChangeSchema,
    ProgramSchema,
)
from marketplace.web.api import api_blueprint, endpoint

blueprint = api_blueprint("routing_api", __name__)
EXPERT = [Role.EXPERT]
BRAND_PEOPLE = [Role.OPS, Role.BRAND]


def _expert_id(actor) -> int:
    return experts.own_profile(actor).id


@blueprint.get("/expert/inbox")
@endpoint("The calling expert's pending offers, open and recently closed chats, and canned answers", roles=EXPERT,
          response=InboxSchema(), tags=["conversations"])
def inbox(actor):
    return chat.expert_inbox(_expert_id(actor))


@blueprint.post("/offers/<int:offer_id>/accept")
@endpoint("Accept an offer: the chat becomes the expert's", roles=EXPERT, response=ChatSchema(),
          tags=["conversations"], errors=[409])
def accept(actor, offer_id: int):
    return chat.chat_summary(router.accept_offer(_expert_id(actor), offer_id, network=request.remote_addr))


@blueprint.post("/offers/<int:offer_id>/decline")
@endpoint("Decline an offer: it goes to another expert", roles=EXPERT, tags=["conversations"], errors=[409])
def decline(actor, offer_id: int):
    router.decline_offer(_expert_id(actor), offer_id)


@blueprint.get("/conversations/<int:conversation_id>/messages")
@endpoint("Messages of one of the expert's chats after ?after= (a sequence number), in order", roles=EXPERT,
          query=AfterQuery(), response=MessageListSchema(), tags=["conversations"])
def messages(actor, conversation_id: int, query):
    conversation = chat.expert_conversation(_expert_id(actor), conversation_id)
    return {"messages": [events.message_payload(m) for m in chat.messages_after(conversation.id, query["after"])]}


@blueprint.post("/conversations/<int:conversation_id>/messages")
@endpoint("Send a message in one of the expert's chats (a resend with the same client_id is not a duplicate)",
          roles=EXPERT, body=MessageCreateSchema(), response=MessageSchema(), status=201, tags=["conversations"],
          errors=[409])
def send(actor, conversation_id: int, body):
    expert_id = _expert_id(actor)
    conversation = chat.expert_conversation(expert_id, conversation_id)
    posted = chat.post_message(conversation.id, Sender.EXPERT, body["client_id"], body["body"],
                               author_id=actor.id, expert_id=expert_id)
    return events.message_payload(posted.message)


@blueprint.post("/conversations/<int:conversation_id>/close")
@endpoint("Close one of the expert's chats", roles=EXPERT, response=ChatSchema(), tags=["conversations"])
def close(actor, conversation_id: int):
    expert_id = _expert_id(actor)
    conversation = chat.expert_conversation(expert_id, conversation_id)
    conversations.end_conversation(conversation.id, ConversationStatus.CLOSED, EndReason.EXPERT, expert_id=expert_id)
    return chat.chat_summary(chat.expert_conversation(expert_id, conversation_id))


@blueprint.get("/brands/<int:brand_id>/conversations/live")
@endpoint("The brand's waiting and active conversations now, and its experts online", roles=BRAND_PEOPLE,
          response=LiveSchema(), tags=["conversations"])
def live(actor, brand_id: int):
    return chat.live_view(actor, brand_id)


@blueprint.get("/brands/<int:brand_id>/left-messages")
@endpoint("Messages visitors left for the brand when no expert could answer, newest first", roles=BRAND_PEOPLE,
          response=LeftMessageSchema(many=True), tags=["conversations"])
def left_messages(actor, brand_id: int):
    return chat.left_messages(actor, brand_id)


@blueprint.get("/brands/<int:brand_id>/program")
@endpoint("The brand's chat program: widget origins, topics, hours, timings and caps", roles=BRAND_PEOPLE,
          response=ProgramSchema(), tags=["conversations"])
def get_program(actor, brand_id: int):
    return brands.get_brand(actor, brand_id)


@blueprint.patch("/brands/<int:brand_id>/program")
@endpoint("Change the brand's chat program (admins); caps apply to the next arrival", roles=BRAND_PEOPLE,
          body=ProgramChangeSchema(partial=True), response=ProgramSchema(), tags=["conversations"])
def patch_program(actor, brand_id: int, body):
    return program.update_program(actor, brand_id, body)


@blueprint.put("/brands/<int:brand_id>/canned-answers")
@endpoint("Replace the brand's canned answers (admins)", roles=BRAND_PEOPLE, body=CannedAnswersSchema(),
          response=CannedAnswerSchema(many=True), tags=["conversations"])
def put_canned_answers(actor, brand_id: int, body):
    return program.set_canned_answers(actor, brand_id, body["answers"])


@blueprint.get("/brands/<int:brand_id>/caps")
@endpoint("The brand's demand caps with their use now and the door's refusals today, by reason",
          roles=[Role.OPS, Role.FINANCE, Role.BRAND], response=CapUsageSchema(), tags=["conversations"])
def cap_usage(actor, brand_id: int):
    return demand.cap_usage(actor, brand_id)
