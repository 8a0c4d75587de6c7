"""The widget's calls to the bot: "Did this answer your question? Yes / Talk to an expert", and the button that
reaches a person at any moment (rule 16); the expert's: the brand's entries for the visitor's last message, and a
good answer proposed as a new entry."""

from __future__ import annotations

from flask import Blueprint

from marketplace.accounts.models import Role
from marketplace.experts import services as experts
from marketplace.extensions import csrf, limiter
from marketplace.routing.bot import assist
from marketplace.routing.bot import services as bot
from marketplace.routing.bot.schemas import (
    BotFeedbackSchema,
    FaqProposalCreatedSchema,
    FaqProposalSchema,
    FaqSuggestionListSchema,
)
from marketplace.routing.door import services as conversations
from marketplace.routing.door import waits
from marketplace.routing.door.api import API, CONVERSATION, TAGS, VISITOR, visitor_token
from marketplace.web.api import api_blueprint, endpoint, public_endpoint

blueprint = Blueprint("widget_bot_api", __name__)
expert_blueprint = api_blueprint("bot_assist_api", __name__)
csrf.exempt(blueprint)  # as the widget's other calls: the visitor's token header speaks for them


@blueprint.post(f"{API}/conversations/<int:conversation_id>/expert")
@limiter.limit("30 per minute")
@public_endpoint("Talk to an expert now: the bot steps aside and the chat goes to the queue (or is refused at the "
                 "door, as a newcomer would be); the conversation as it stands when it is no longer the bot's",
                 response=CONVERSATION, tags=TAGS, errors=(404, 422, 429), headers=VISITOR)
def talk_to_expert(key: str, conversation_id: int):
    conversation = conversations.visitor_conversation(key, visitor_token(), conversation_id)
    bot.give_to_expert(conversation.id, bot.Reason.VISITOR_ASKED)
    return waits.visitor_view(conversations.visitor_conversation(key, visitor_token(), conversation_id))


@blueprint.post(f"{API}/conversations/<int:conversation_id>/bot-feedback")
@limiter.limit("30 per minute")
@public_endpoint("The visitor's verdict on the bot's last answer: helpful resolves the conversation, not helpful "
                 "hands it over to an expert (409 when the bot has not answered, or no longer has the chat)",
                 body=BotFeedbackSchema(), response=CONVERSATION, tags=TAGS, errors=(404, 409, 422, 429),
                 headers=VISITOR)
def feedback(key: str, conversation_id: int, body: dict):
    conversation = conversations.visitor_conversation(key, visitor_token(), conversation_id)
    bot.feedback(conversation.id, body["helpful"])
    return waits.visitor_view(conversations.visitor_conversation(key, visitor_token(), conversation_id))


@expert_blueprint.get("/conversations/<int:conversation_id>/faq-suggestions")
@endpoint("The brand's FAQ entries that best match the visitor's last message in one of the expert's chats, best "
          "first (one tap fills the composer)", roles=[Role.EXPERT], response=FaqSuggestionListSchema(),
          tags=["conversations"], errors=(404,))
def faq_suggestions(actor, conversation_id: int):
    return assist.suggestions(experts.own_profile(actor).id, conversation_id)


@expert_blueprint.post("/conversations/<int:conversation_id>/faq-proposals")
@endpoint("Propose an answer the expert wrote in one of their chats as a new entry of the brand's FAQ: the brand "
          "approves or edits it, and each conversation the bot later resolves with it earns the expert the brand's "
          "credit", roles=[Role.EXPERT], body=FaqProposalSchema(), response=FaqProposalCreatedSchema(), status=201,
          tags=["conversations"], errors=(404, 409))
def propose_faq_entry(actor, conversation_id: int, body: dict):
    entry = assist.propose(experts.own_profile(actor).id, conversation_id, body["question"], body["answer"],
                           body["lang"])
    return {"id": entry.id, "ref": entry.ref, "status": entry.status.value}
