"""The visitor's side over HTTP: the loader script, the chat frame, and the frame's JSON calls.

Visitors have no account: a brand's public widget key names the brand, and the random token their
browser keeps (header `X-Visitor-Token`) proves a conversation is theirs. The frame is served from our
origin, so its calls are same-origin; where it may be embedded is the brand's list of origins, enforced
by the browser through `frame-ancestors`. The JSON calls read what widget_schemas.py accepts.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, current_app, jsonify, render_template, request, send_from_directory, url_for
from flask_babel import get_locale

from marketplace.brands import services as brands
from marketplace.database import db
from marketplace.extensions import csrf, limiter
from marketplace.routing import chat, conversations, events, waits
from marketplace.routing.models import Sender
from marketplace.routing.schemas import MessageListSchema, MessageSchema
from marketplace.routing.widget_schemas import (
    PAGE_URL_LENGTH,
    ConversationStartSchema,
    LeftMessageCreatedSchema,
    LeftMessageCreateSchema,
    MessagesAfterQuery,
    RatingCreateSchema,
    VisitorConversationSchema,
    VisitorMessageCreateSchema,
    WidgetInfoSchema,
)
from marketplace.web.api import public_endpoint

blueprint = Blueprint("widget", __name__)
csrf.exempt(blueprint)  # no cookie speaks for the visitor: the token header does, and a page cannot forge it
STATIC = Path(__file__).resolve().parent.parent / "static"
TOKEN_HEADER = "X-Visitor-Token"  # noqa: S105 - a header name, not a secret
API = "/api/widget/<key>"
TAGS = ("widget",)
VISITOR = (TOKEN_HEADER,)
CONVERSATION = VisitorConversationSchema()
MESSAGE = MessageSchema()


def _token() -> str | None:
    return request.headers.get(TOKEN_HEADER)


@blueprint.get("/widget.js")
def loader():
    """The snippet brands put on their pages."""
    response = send_from_directory(STATIC / "widget", "loader.js", max_age=300)
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def frame_ancestors(origins: list[str]) -> str:
    return " ".join(["'self'", *origins])


def page_address(page: str | None) -> str:
    """The brand's page the frame opened on, as a conversation can store it; empty when it is not a web page."""
    page = (page or "").strip()[:PAGE_URL_LENGTH]
    try:
        scheme = urlsplit(page).scheme
    except ValueError:  # a malformed host ("http://[x")
        return ""
    return page if scheme in ("http", "https") else ""


@blueprint.get("/widget/<key>")
def frame(key: str):
    """The chat panel the loader opens in an iframe."""
    brand = brands.brand_for_widget(key)
    html = render_template(
        "routing/widget_frame.html", key=key, brand_name=brand.name, topics=list(brand.topics or []),
        page_url=page_address(request.args.get("page")), lang=str(get_locale()),
        socketio_src=url_for("web.vendor", name="socket.io.min.js"),
        widget_js=url_for("static", filename="js/widget.js"), widget_css=url_for("static", filename="css/widget.css"),
    )
    db.session.commit()
    response = current_app.make_response(html)
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; "
        f"frame-ancestors {frame_ancestors(brand.widget_origins or [])}; base-uri 'self'; form-action 'self'"
    )
    return response


@blueprint.get(API)
@limiter.limit("120 per minute")
@public_endpoint("The brand's name, topics and whether it is open now", response=WidgetInfoSchema(), tags=TAGS,
                 errors=(404, 429))
def info(key: str):
    found = conversations.widget_info(key)
    return {"brand": {"name": found.name}, "topics": found.topics, "open": found.open}


@blueprint.post(f"{API}/conversations")
@limiter.limit("30 per minute")
@public_endpoint("Start a chat (or resume the visitor's live one); refused at the door when the brand is closed "
                 "or at a cap, as a conversation already ended", body=ConversationStartSchema(),
                 response=CONVERSATION, status=201, tags=TAGS, errors=(404, 429), headers=VISITOR)
def start(key: str, body: dict):
    conversation = conversations.start_conversation(
        key, _token(), topic=body["topic"], page_url=body["page_url"], locale=body["locale"],
        network=request.remote_addr)
    return waits.visitor_view(conversation)


@blueprint.get(f"{API}/conversations/<int:conversation_id>")
@public_endpoint("The visitor's conversation: status, place in the queue, wait (also says the visitor is still here)",
                 response=CONVERSATION, tags=TAGS, errors=(404, 422), headers=VISITOR)
def show(key: str, conversation_id: int):
    conversation = conversations.visitor_conversation(key, _token(), conversation_id)
    conversations.visitor_seen(conversation.id)
    return waits.visitor_view(conversation)


@blueprint.get(f"{API}/conversations/<int:conversation_id>/messages")
@public_endpoint("The conversation's messages after ?after= (a sequence number), in order", query=MessagesAfterQuery(),
                 response=MessageListSchema(), tags=TAGS, errors=(404,), headers=VISITOR)
def messages(key: str, conversation_id: int, query: dict):
    conversation = conversations.visitor_conversation(key, _token(), conversation_id)
    return {"messages": [events.message_payload(m) for m in chat.messages_after(conversation.id, query["after"])]}


@blueprint.post(f"{API}/conversations/<int:conversation_id>/messages")
@limiter.limit("60 per minute")
@public_endpoint("Write in the conversation: 201 when stored, 200 with the stored copy for a resend of the same "
                 "client_id", body=VisitorMessageCreateSchema(), response=MESSAGE, status=201, tags=TAGS,
                 errors=(404, 409, 429), headers=VISITOR)
def send(key: str, conversation_id: int, body: dict):
    conversation = conversations.visitor_conversation(key, _token(), conversation_id)
    posted = chat.post_message(conversation.id, Sender.VISITOR, body["client_id"], body["body"])
    if posted.created:
        return events.message_payload(posted.message)
    return jsonify(MESSAGE.dump(events.message_payload(posted.message)))  # a resend: 200, nothing new stored


@blueprint.post(f"{API}/conversations/<int:conversation_id>/leave")
@public_endpoint("The visitor ends the chat (or stops waiting)", response=CONVERSATION, tags=TAGS,
                 errors=(404, 422), headers=VISITOR)
def leave(key: str, conversation_id: int):
    return waits.visitor_view(conversations.leave(key, _token(), conversation_id))


@blueprint.post(f"{API}/conversations/<int:conversation_id>/rating")
@public_endpoint("Rate a finished chat from 1 to 5, once", body=RatingCreateSchema(), response=CONVERSATION,
                 tags=TAGS, errors=(404, 409), headers=VISITOR)
def rate(key: str, conversation_id: int, body: dict):
    conversation = conversations.rate(key, _token(), conversation_id, body["rating"], body["comment"])
    return waits.visitor_view(conversation)


@blueprint.post(f"{API}/conversations/<int:conversation_id>/left-message")
@limiter.limit("10 per hour")
@public_endpoint("Leave a message and an e-mail address for the brand instead of waiting, once",
                 body=LeftMessageCreateSchema(), response=LeftMessageCreatedSchema(), status=201, tags=TAGS,
                 errors=(404, 409, 429), headers=VISITOR)
def left_message(key: str, conversation_id: int, body: dict):
    left = conversations.leave_message(key, _token(), conversation_id, body["email"], body["body"])
    return {"id": left.id}
