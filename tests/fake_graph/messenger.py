"""The Messenger side: `POST /{page-id}/messages` (the Send API) and `/message_attachments` (uploads)."""

from __future__ import annotations

import base64
import json
from typing import Any

from tests.fake_graph.errors import MESSENGER_NO_USER, MESSENGER_OUTSIDE_WINDOW, GraphFailure
from tests.fake_graph.state import HUMAN_AGENT_SECONDS, WINDOW_SECONDS, MessengerPage, SentRecord, State

MESSAGING_TYPES = ("RESPONSE", "UPDATE", "MESSAGE_TAG")
# Tags other than HUMAN_AGENT are for non-conversational updates; they are not bound to the window.
OTHER_TAGS = ("ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "CUSTOMER_FEEDBACK")
ATTACHMENT_KINDS = ("image", "audio", "video", "file")


def refuse(details: str) -> GraphFailure:
    return GraphFailure(100, message=f"(#100) {details}", whatsapp=False)


def mid(page: MessengerPage, serial: int) -> str:
    return "m_" + base64.urlsafe_b64encode(f"{page.page_id}:{serial:012d}".encode()).decode().rstrip("=")


def send(state: State, page: MessengerPage, payload: Any) -> tuple[dict[str, Any], SentRecord]:
    if not isinstance(payload, dict):
        raise refuse("The request body must be a JSON object")
    recipient = payload.get("recipient") if isinstance(payload.get("recipient"), dict) else {}
    psid = str(recipient.get("id") or "")
    if not psid.isdigit():
        raise refuse("The parameter recipient is required")
    messaging_type, tag = payload.get("messaging_type"), payload.get("tag")
    if messaging_type not in MESSAGING_TYPES:
        raise refuse(f"Param messaging_type must be one of {{{', '.join(MESSAGING_TYPES)}}}")
    if (messaging_type == "MESSAGE_TAG") != (tag is not None):
        raise refuse("Param tag is required with messaging_type MESSAGE_TAG, and only with it")
    if tag is not None and tag not in ("HUMAN_AGENT", *OTHER_TAGS):
        raise refuse(f"Param tag must be one of {{HUMAN_AGENT, {', '.join(OTHER_TAGS)}}}")
    message = payload.get("message")
    if not isinstance(message, dict) or ("text" in message) == ("attachment" in message):
        raise refuse("Must send either message text or an attachment")
    kind = _check_message(state, page, message)
    _check_window(state, page, psid, tag)
    message_id = mid(page, state.next_id())
    record = state.record(SentRecord("messenger", page.page_id, message_id, psid, kind, payload, state.now(), tag))
    return {"recipient_id": psid, "message_id": message_id}, record


def _check_message(state: State, page: MessengerPage, message: dict[str, Any]) -> str:
    if "text" in message:
        text = message["text"]
        if not isinstance(text, str) or not text.strip():
            raise refuse("Param message[text] must be a non-empty UTF-8 encoded string")
        if len(text) > 2000:
            raise refuse("Length of param message[text] must be less than or equal to 2000")
        _check_quick_replies(message.get("quick_replies"))
        return "text"
    attachment = message["attachment"] if isinstance(message["attachment"], dict) else {}
    kind = attachment.get("type")
    payload = attachment.get("payload") if isinstance(attachment.get("payload"), dict) else {}
    if kind not in ATTACHMENT_KINDS:
        raise refuse(f"Param message[attachment][type] must be one of {{{', '.join(ATTACHMENT_KINDS)}}}")
    if "attachment_id" in payload:
        stored = state.media.get(str(payload["attachment_id"]))
        if stored is None or stored.account_id != page.page_id:
            raise refuse("Attachment id is not valid for this page")
    elif not str(payload.get("url") or "").startswith(("https://", "http://")):
        raise refuse("Param message[attachment][payload][url] must be a valid URL")
    return kind


def _check_quick_replies(replies: Any) -> None:
    """Quick replies as the Send API takes them: at most 13, each text with a title of at most 20 characters and a
    payload of at most 1000."""
    if replies is None:
        return
    if not isinstance(replies, list) or not 1 <= len(replies) <= 13:
        raise refuse("Param message[quick_replies] must be a list of 1 to 13 quick replies")
    for reply in replies:
        if not isinstance(reply, dict) or reply.get("content_type") != "text":
            raise refuse("Param message[quick_replies][][content_type] must be text")
        title, payload = reply.get("title"), reply.get("payload")
        if not isinstance(title, str) or not 1 <= len(title) <= 20:
            raise refuse("Param message[quick_replies][][title] must be 1 to 20 characters long")
        if not isinstance(payload, str) or not 1 <= len(payload) <= 1000:
            raise refuse("Param message[quick_replies][][payload] must be 1 to 1000 characters long")


def _check_window(state: State, page: MessengerPage, psid: str, tag: str | None) -> None:
    since = state.seconds_since_inbound(page.page_id, psid)
    if since is None:
        code, subcode, message = MESSENGER_NO_USER
        raise GraphFailure(code, message=message, subcode=subcode, whatsapp=False)
    allowed = (since <= WINDOW_SECONDS or (tag == "HUMAN_AGENT" and since <= HUMAN_AGENT_SECONDS)
               or tag in OTHER_TAGS)
    if not allowed:
        code, subcode, message = MESSENGER_OUTSIDE_WINDOW
        raise GraphFailure(code, message=message, subcode=subcode, status=400, whatsapp=False)


def upload(state: State, page: MessengerPage, fields: dict[str, str],
           files: dict[str, tuple[str, bytes, str]]) -> dict[str, Any]:
    try:
        message = json.loads(fields.get("message") or "")
        kind = message["attachment"]["type"]
    except (ValueError, KeyError, TypeError):
        raise refuse("Param message must be JSON with attachment.type") from None
    if kind not in ATTACHMENT_KINDS:
        raise refuse(f"Param message[attachment][type] must be one of {{{', '.join(ATTACHMENT_KINDS)}}}")
    if "filedata" not in files or not files["filedata"][1]:
        raise refuse("The parameter filedata is required")
    filename, content, mime_type = files["filedata"]
    if len(content) > 25 * 2**20:
        raise refuse("The file is larger than 25 MB")
    stored = state.store_media(page.page_id, content, mime_type or "application/octet-stream", filename)
    return {"attachment_id": stored.media_id}
