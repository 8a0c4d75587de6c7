"""JSON calls for left messages: the visitor leaves one from the widget; the brand lists them and replies."""

from __future__ import annotations

from flask import Blueprint

from marketplace.accounts.models import Role
from marketplace.extensions import csrf, limiter
from marketplace.routing.door.api import API, TAGS, VISITOR, visitor_token
from marketplace.routing.left_messages import services as left_messages
from marketplace.routing.left_messages.schemas import (
    LeftMessageCreatedSchema,
    LeftMessageCreateSchema,
    LeftMessageReplyCreateSchema,
    LeftMessageSchema,
    LeftMessageStateSchema,
)
from marketplace.web.api import api_blueprint, endpoint, public_endpoint

blueprint = api_blueprint("left_messages_api", __name__)
# The widget's call, beside its others under /api/widget (door/api.py), and exempt from CSRF as they are.
widget_blueprint = Blueprint("left_messages_widget", __name__)
csrf.exempt(widget_blueprint)


@widget_blueprint.post(f"{API}/conversations/<int:conversation_id>/left-message")
@limiter.limit("10 per hour")
@public_endpoint("Leave a message and an e-mail address for the brand instead of waiting, once",
                 body=LeftMessageCreateSchema(), response=LeftMessageCreatedSchema(), status=201, tags=TAGS,
                 errors=(404, 409, 429), headers=VISITOR)
def leave(key: str, conversation_id: int, body: dict):
    left = left_messages.leave_message(key, visitor_token(), conversation_id, body["email"], body["body"])
    return {"id": left.id}


@blueprint.get("/brands/<int:brand_id>/left-messages")
@endpoint("Messages visitors left for the brand when no expert could answer, newest first",
          roles=[Role.OPS, Role.BRAND], response=LeftMessageSchema(many=True), tags=["conversations"])
def messages(actor, brand_id: int):
    return left_messages.left_messages(actor, brand_id)


@blueprint.post("/brands/<int:brand_id>/left-messages/<int:message_id>/reply")
@endpoint("Answer a message a visitor left, by e-mail, once (admins)", roles=[Role.OPS, Role.BRAND],
          body=LeftMessageReplyCreateSchema(), response=LeftMessageStateSchema(), tags=["conversations"],
          errors=[409])
def reply(actor, brand_id: int, message_id: int, body):
    return left_messages.reply_to_left_message(actor, brand_id, message_id, body["body"])
