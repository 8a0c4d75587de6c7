"""The widget's calls to the bot: "Did this answer your question? Yes / Talk to an expert", and the button that
reaches a person at any moment (rule 16)."""

from __future__ import annotations

from flask import Blueprint

from marketplace.extensions import csrf, limiter
from marketplace.routing.bot import services as bot
from marketplace.routing.bot.schemas import BotFeedbackSchema
from marketplace.routing.door import services as conversations
from marketplace.routing.door import waits
from marketplace.routing.door.api import API, CONVERSATION, TAGS, VISITOR, visitor_token
from marketplace.web.api import public_endpoint

blueprint = Blueprint("widget_bot_api", __name__)
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
