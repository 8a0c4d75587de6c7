"""JSON calls for attachments: the visitor and the expert send a file (multipart), and links to download one.

A send is `multipart/form-data` with `file`, `client_id` and an optional caption `body`; it answers like a
message send (201, or 200 with the stored copy for a resend of the same client_id). The body is refused as
soon as its announced length passes the brand's limit, before it is read.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import RequestEntityTooLarge

from marketplace.accounts.models import Role
from marketplace.brands.program import NUMBERS
from marketplace.errors import InvalidInput, UnsupportedType
from marketplace.experts import services as experts
from marketplace.extensions import csrf, limiter
from marketplace.routing import events
from marketplace.routing.attachments import services as attachments
from marketplace.routing.attachments.schemas import AttachmentFormSchema, AttachmentLinksSchema
from marketplace.routing.chat import services as chats
from marketplace.routing.chat.messages import Posted
from marketplace.routing.door import services as conversations
from marketplace.routing.door.api import API, TAGS, VISITOR, visitor_token
from marketplace.routing.models import Conversation, Sender
from marketplace.routing.schemas import MessageSchema
from marketplace.web.api import api_blueprint, endpoint, public_endpoint

widget_blueprint = Blueprint("attachments_widget_api", __name__)
csrf.exempt(widget_blueprint)  # the visitor's token header speaks for them, as in door/api.py
blueprint = api_blueprint("attachments_api", __name__)
MESSAGE = MessageSchema()
LINKS = AttachmentLinksSchema()
FORM = AttachmentFormSchema()
MULTIPART_SLACK = 64 * 1024  # the form's other fields and boundaries around the file
# The largest request a send may be whatever the brand: the CSRF check reads a logged-in sender's form before the
# view knows the brand's own limit, which the view then applies.
CEILING = NUMBERS["attachment_max_bytes"][1] + MULTIPART_SLACK
SEND = ("Send a file (multipart/form-data: file, client_id, body as an optional caption): a photo (JPEG, PNG, "
        "WebP, HEIC) or a PDF up to the brand's attachment_max_bytes; 201 when stored, 200 for a resend")


def _upload(limit: int) -> attachments.Upload:
    """The request's file, refused before reading when its length passes the brand's limit."""
    if request.mimetype != "multipart/form-data":
        raise UnsupportedType(_l("Send the file as multipart/form-data."), "file")
    if request.content_length is not None and request.content_length > limit + MULTIPART_SLACK:
        raise attachments.too_large(limit)
    if request.max_content_length is None or request.max_content_length < limit + MULTIPART_SLACK:
        request.max_content_length = limit + MULTIPART_SLACK  # before anything reads the form (the visitor's)
    try:
        file = request.files.get("file")
    except RequestEntityTooLarge:
        raise attachments.too_large(limit) from None
    if file is None:
        raise InvalidInput(_l("Choose a file to send."), "file")
    try:
        data = file.read(limit + 1)
    finally:
        file.close()  # a big upload waits in a temporary file: closed now, whatever follows
    if len(data) > limit:
        raise attachments.too_large(limit)
    return attachments.Upload(file.filename, data)


def _send(conversation: Conversation, sender: Sender, **who: int) -> Posted:
    target = attachments.Sent.of(conversation)
    upload = _upload(attachments.attachment_limit(target.brand_id))  # no transaction open while the body comes
    return attachments.send_attachment(target, sender, upload, client_id=request.form.get("client_id"),
                                       caption=request.form.get("body"), **who)


def _answer(posted: Posted):
    if posted.created:
        return events.message_payload(posted.message)
    return jsonify(MESSAGE.dump(events.message_payload(posted.message)))  # a resend: 200, nothing new stored


# The visitor, in the widget.

@widget_blueprint.post(f"{API}/conversations/<int:conversation_id>/attachments")
@limiter.limit("20 per minute")
@public_endpoint(SEND, form=FORM, response=MESSAGE, status=201, tags=TAGS, errors=(404, 409, 429, 503),
                 headers=VISITOR)
def visitor_send(key: str, conversation_id: int):
    conversation = conversations.visitor_conversation(key, visitor_token(), conversation_id)
    return _answer(_send(conversation, Sender.VISITOR))


@widget_blueprint.get(f"{API}/conversations/<int:conversation_id>/attachments/<int:attachment_id>/link")
@limiter.limit("240 per minute")
@public_endpoint("Short-lived links to a file of the visitor's conversation (and its thumbnail)", response=LINKS,
                 tags=TAGS, errors=(404, 422, 429), headers=VISITOR)  # 422: no visitor token
def visitor_link(key: str, conversation_id: int, attachment_id: int):
    conversation = conversations.visitor_conversation(key, visitor_token(), conversation_id)
    return attachments.visitor_links(conversation, attachment_id)


# The expert, and the brand's people.

@blueprint.post("/conversations/<int:conversation_id>/attachments")
@endpoint(SEND, roles=[Role.EXPERT], form=FORM, max_bytes=CEILING, response=MESSAGE, status=201,
          tags=["conversations"], errors=[409, 503])
def expert_send(actor, conversation_id: int):
    expert_id = experts.own_profile(actor).id
    conversation = chats.expert_conversation(expert_id, conversation_id)
    return _answer(_send(conversation, Sender.EXPERT, author_id=actor.id, expert_id=expert_id))


@blueprint.get("/attachments/<int:attachment_id>/link")
@endpoint("Short-lived links to a file, for the conversation's expert and the brand's people", roles=list(Role),
          response=LINKS, tags=["conversations"])
def person_link(actor, attachment_id: int):
    return attachments.person_links(actor, attachment_id)
