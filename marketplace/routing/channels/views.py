"""Meta's webhooks for WhatsApp and Messenger: the subscription handshake, and every delivery, verified first.

Plain text answers (Meta reads only the status): 200 once a delivery is taken, 403 for anything not verified as
Meta's for a connected account (nothing is stored), 400 for a verified body that is not what Meta sends, 503 when
a file could not be fetched or scanned now (Meta delivers it again; what was stored is not stored twice). No CSRF:
the signature is the proof, and no cookie is read.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from marketplace.errors import DomainError
from marketplace.extensions import csrf
from marketplace.routing.channels import connections, inbound
from marketplace.routing.channels.signatures import SIGNATURE_HEADER
from marketplace.routing.models import Channel

blueprint = Blueprint("channels_webhooks", __name__, url_prefix="/webhooks")
csrf.exempt(blueprint)
MAX_BODY_BYTES = 3 * 1024 * 1024  # Meta's deliveries are a few kilobytes; files come by id, never in the body


def _text(body: str, status: int) -> Response:
    return Response(body, status=status, mimetype="text/plain")


def _handshake(kind: Channel) -> Response:
    """Meta's subscription check: the challenge back when the verify token is a connected account's, else 403."""
    args = request.args
    if args.get("hub.mode") == "subscribe" and connections.verify_token_matches(kind, args.get("hub.verify_token", "")):
        return _text(args.get("hub.challenge", ""), 200)
    return _text("", 403)


def _delivery(kind: Channel) -> Response:
    request.max_content_length = MAX_BODY_BYTES
    try:
        taken = inbound.receive(kind, request.get_data(cache=False), request.headers.get(SIGNATURE_HEADER))
    except DomainError as error:
        return _text(str(error), error.status)
    return _text(f"{taken.messages} messages, {taken.statuses} statuses", 200)


@blueprint.route("/whatsapp", methods=["GET", "POST"])
def whatsapp() -> Response:
    return _handshake(Channel.WHATSAPP) if request.method == "GET" else _delivery(Channel.WHATSAPP)


@blueprint.route("/messenger", methods=["GET", "POST"])
def messenger() -> Response:
    return _handshake(Channel.MESSENGER) if request.method == "GET" else _delivery(Channel.MESSENGER)
