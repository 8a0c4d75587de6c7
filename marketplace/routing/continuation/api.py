"""Continuation's calls: the widget binds a browser through the resume link and asks for the transcript; a mail
provider's inbound route hands over a visitor's reply by e-mail."""

from __future__ import annotations

import hmac

from flask import Blueprint, current_app, request

from marketplace.extensions import csrf, limiter
from marketplace.routing.continuation import inbound, services
from marketplace.routing.continuation.schemas import InboundMailResultSchema, ResumeCreateSchema
from marketplace.routing.continuation.smtp_in import MAX_MESSAGE_BYTES
from marketplace.routing.door import waits
from marketplace.routing.door.api import API, CONVERSATION, TAGS, VISITOR, visitor_token
from marketplace.web.api import api_blueprint, public_endpoint
from marketplace.web.problems import problem

blueprint = api_blueprint("continuation_api", __name__)
widget_blueprint = Blueprint("continuation_widget", __name__)
csrf.exempt(widget_blueprint)  # as the widget's other calls (door/api.py): the token header speaks, no cookie
SECRET_HEADER = "X-Inbound-Secret"  # noqa: S105 - a header name, not a secret


@widget_blueprint.post(f"{API}/resume")
@limiter.limit("20 per minute")
@public_endpoint("Bind this browser to the conversation of an e-mailed resume link; answers that conversation",
                 body=ResumeCreateSchema(), response=CONVERSATION, tags=TAGS, errors=(404, 422, 429),
                 headers=VISITOR)
def resume(key: str, body: dict):
    return waits.visitor_view(services.resume(key, body["token"], visitor_token()))


@widget_blueprint.post(f"{API}/conversations/<int:conversation_id>/transcript")
@limiter.limit("5 per hour")
@public_endpoint("E-mail the conversation's transcript to the address the visitor gave with consent",
                 response=CONVERSATION, tags=TAGS, errors=(404, 409, 422, 429), headers=VISITOR)
def transcript(key: str, conversation_id: int):
    return waits.visitor_view(services.send_transcript(key, visitor_token(), conversation_id))


@blueprint.post("/inbound-mail")
@public_endpoint("A mail provider's inbound route: the raw RFC 5322 message (Content-Type: message/rfc822) of a "
                 "visitor's reply to a continuation e-mail, with the shared secret in X-Inbound-Secret; 422 when "
                 "refused, 503 when it cannot be taken now and should be sent again later (no reason given)",
                 response=InboundMailResultSchema(), tags=("mail",), errors=(401, 422, 503),
                 headers=(SECRET_HEADER,))
def inbound_mail():
    secret = current_app.config["INBOUND_MAIL_SECRET"]
    given = request.headers.get(SECRET_HEADER, "")
    # Unset, the route takes nothing; the answer is the same as to a wrong secret, so a prober learns neither.
    if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
        return problem(401, "Unauthorized", f"Send the shared secret in {SECRET_HEADER}.")
    request.max_content_length = MAX_MESSAGE_BYTES
    posted = inbound.receive(request.get_data(cache=False))
    return {"conversation_id": posted.message.conversation_id, "seq": posted.message.seq,
            "created": posted.created}
