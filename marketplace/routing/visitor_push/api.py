"""The visitor's push calls: the widget asks for the opt-in page's link, subscribes (when it is the page itself) or
stops; the opt-in page subscribes with its link's token (services.py says why two ways)."""

from __future__ import annotations

from flask import Blueprint

from marketplace.extensions import csrf, limiter
from marketplace.routing.door import waits
from marketplace.routing.door.api import API, CONVERSATION, TAGS, VISITOR, visitor_token
from marketplace.routing.visitor_push import services
from marketplace.routing.visitor_push.schemas import (
    OptedInPushSubscriptionSchema,
    OptedInSchema,
    OptInLinkSchema,
    VisitorPushEndpointSchema,
    VisitorPushSubscriptionSchema,
)
from marketplace.web.api import public_endpoint

blueprint = Blueprint("visitor_push_api", __name__)
csrf.exempt(blueprint)  # as the widget's other calls (door/api.py): the token header or the page's token speaks
SUBSCRIPTIONS = f"{API}/conversations/<int:conversation_id>/push-subscriptions"


@blueprint.post(f"{API}/conversations/<int:conversation_id>/push-opt-in")
@limiter.limit("10 per minute")
@public_endpoint("The link of the page (on this site, opened at the top) where the visitor lets this browser notify "
                 "them of replies; valid a few minutes", response=OptInLinkSchema(), tags=TAGS,
                 errors=(404, 409, 422, 429), headers=VISITOR)
def opt_in_link(key: str, conversation_id: int):
    return services.opt_in_link(key, visitor_token(), conversation_id)


@blueprint.post(SUBSCRIPTIONS)
@limiter.limit("10 per minute")
@public_endpoint("Let this browser take Web Push for the conversation (the widget opened as a page): if the visitor "
                 "leaves, the chat continues asynchronously and replies are pushed",
                 body=VisitorPushSubscriptionSchema(), response=CONVERSATION, status=201, tags=TAGS,
                 errors=(404, 409, 422, 429), headers=VISITOR)
def subscribe(key: str, conversation_id: int, body: dict):
    conversation = services.subscribe(key, visitor_token(), conversation_id, body["endpoint"],
                                      body["keys"]["p256dh"], body["keys"]["auth"])
    return waits.visitor_view(conversation)


@blueprint.delete(SUBSCRIPTIONS)
@public_endpoint("Stop Web Push for the conversation: to one browser, or to all", body=VisitorPushEndpointSchema(),
                 response=CONVERSATION, tags=TAGS, errors=(404, 422), headers=VISITOR)
def unsubscribe(key: str, conversation_id: int, body: dict):
    return waits.visitor_view(services.unsubscribe(key, visitor_token(), conversation_id, body["endpoint"]))


@blueprint.post(f"{API}/push-subscriptions")
@limiter.limit("10 per minute")
@public_endpoint("The opt-in page's call: let this browser take Web Push for the conversation of the page's token "
                 "(404 for a forged or expired one)", body=OptedInPushSubscriptionSchema(), response=OptedInSchema(),
                 status=201, tags=TAGS, errors=(404, 409, 422, 429))
def subscribe_opted_in(key: str, body: dict):
    conversation = services.subscribe_opted_in(key, body["token"], body["endpoint"], body["keys"]["p256dh"],
                                               body["keys"]["auth"])
    return {"conversation_id": conversation.id, "push_enabled": conversation.visitor_push_at is not None}
