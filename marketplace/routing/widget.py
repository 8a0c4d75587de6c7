"""The visitor's side over HTTP: the loader script, the chat frame, and the frame's JSON calls.

Visitors have no account: a brand's public widget key names the brand, and the random token their
browser keeps (header `X-Visitor-Token`) proves a conversation is theirs. The frame is served from our
origin, so its calls are same-origin; where it may be embedded is the brand's list of origins, enforced
by the browser through `frame-ancestors`.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, jsonify, render_template, request, send_from_directory, url_for
from flask_babel import get_locale

from marketplace.brands import services as brands
from marketplace.database import db
from marketplace.extensions import csrf, limiter
from marketplace.routing import chat, conversations, events, waits
from marketplace.routing.models import Sender

blueprint = Blueprint("widget", __name__)
csrf.exempt(blueprint)  # no cookie speaks for the visitor: the token header does, and a page cannot forge it
STATIC = Path(__file__).resolve().parent.parent / "static"
TOKEN_HEADER = "X-Visitor-Token"  # noqa: S105 - a header name, not a secret
API = "/api/widget/<key>"


def _token() -> str | None:
    return request.headers.get(TOKEN_HEADER)


def _json() -> dict:
    payload = request.get_json(silent=True)
    return payload if isinstance(payload, dict) else {}


@blueprint.get("/widget.js")
def loader():
    """The snippet brands put on their pages."""
    response = send_from_directory(STATIC / "widget", "loader.js", max_age=300)
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def frame_ancestors(origins: list[str]) -> str:
    return " ".join(["'self'", *origins])


@blueprint.get("/widget/<key>")
def frame(key: str):
    """The chat panel the loader opens in an iframe."""
    brand = brands.brand_for_widget(key)
    html = render_template(
        "routing/widget_frame.html", key=key, brand_name=brand.name, topics=list(brand.topics or []),
        page_url=(request.args.get("page") or "")[:500], lang=str(get_locale()),
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
def info(key: str):
    found = conversations.widget_info(key)
    return jsonify({"brand": {"name": found.name}, "topics": found.topics, "open": found.open})


@blueprint.post(f"{API}/conversations")
@limiter.limit("30 per minute")
def start(key: str):
    payload = _json()
    conversation = conversations.start_conversation(
        key, _token(), topic=payload.get("topic"), page_url=payload.get("page_url"), locale=payload.get("locale"),
        network=request.remote_addr)
    return jsonify(waits.visitor_view(conversation)), 201


@blueprint.get(f"{API}/conversations/<int:conversation_id>")
def show(key: str, conversation_id: int):
    conversation = conversations.visitor_conversation(key, _token(), conversation_id)
    conversations.visitor_seen(conversation.id)
    return jsonify(waits.visitor_view(conversation))


@blueprint.get(f"{API}/conversations/<int:conversation_id>/messages")
def messages(key: str, conversation_id: int):
    conversation = conversations.visitor_conversation(key, _token(), conversation_id)
    after = request.args.get("after", "0")
    found = chat.messages_after(conversation.id, int(after) if after.isdigit() else -1)
    return jsonify({"messages": [events.message_payload(m) for m in found]})


@blueprint.post(f"{API}/conversations/<int:conversation_id>/messages")
@limiter.limit("60 per minute")
def send(key: str, conversation_id: int):
    conversation = conversations.visitor_conversation(key, _token(), conversation_id)
    payload = _json()
    posted = chat.post_message(conversation.id, Sender.VISITOR, payload.get("client_id"), payload.get("body"))
    return jsonify(events.message_payload(posted.message)), 201 if posted.created else 200


@blueprint.post(f"{API}/conversations/<int:conversation_id>/leave")
def leave(key: str, conversation_id: int):
    conversation = conversations.leave(key, _token(), conversation_id)
    return jsonify(waits.visitor_view(conversation))


@blueprint.post(f"{API}/conversations/<int:conversation_id>/rating")
def rate(key: str, conversation_id: int):
    payload = _json()
    conversation = conversations.rate(key, _token(), conversation_id, payload.get("rating"), payload.get("comment"))
    return jsonify(waits.visitor_view(conversation))


@blueprint.post(f"{API}/conversations/<int:conversation_id>/left-message")
@limiter.limit("10 per hour")
def left_message(key: str, conversation_id: int):
    payload = _json()
    left = conversations.leave_message(key, _token(), conversation_id, payload.get("email"), payload.get("body"))
    return jsonify({"id": left.id}), 201

