"""The WhatsApp Cloud API side: `POST /{phone-number-id}/messages`, `/media`, `GET /{media-id}` and downloads."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlencode

from tests.fake_graph.errors import GraphFailure, invalid
from tests.fake_graph.state import (
    MEDIA_URL_SECONDS,
    WINDOW_SECONDS,
    SentRecord,
    State,
    StoredMedia,
    Template,
    WhatsAppNumber,
)

MESSAGE_KINDS = ("text", "image", "document", "audio", "video", "sticker", "template", "interactive")
_CAPTIONED = ("image", "document", "video")
# Meta's supported media types and their size limits.
MEDIA_LIMITS = {
    "image/jpeg": 5 * 2**20, "image/png": 5 * 2**20, "image/webp": 500 * 2**10,
    "audio/aac": 16 * 2**20, "audio/amr": 16 * 2**20, "audio/mpeg": 16 * 2**20, "audio/mp4": 16 * 2**20,
    "audio/ogg": 16 * 2**20, "video/mp4": 16 * 2**20, "video/3gpp": 16 * 2**20,
    "text/plain": 100 * 2**20, "application/pdf": 100 * 2**20, "application/msword": 100 * 2**20,
    "application/vnd.ms-excel": 100 * 2**20, "application/vnd.ms-powerpoint": 100 * 2**20,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": 100 * 2**20,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": 100 * 2**20,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": 100 * 2**20,
}


class Outcome:
    """An accepted send: the answer, the record, its pricing category and the code it later fails with, if any."""

    def __init__(self, answer: dict[str, Any], record: SentRecord, category: str, fails_with: int | None) -> None:
        self.answer, self.record, self.category, self.fails_with = answer, record, category, fails_with


def wamid(number: WhatsAppNumber, to: str, serial: int) -> str:
    """A message id shaped like Meta's (`wamid.` then base64)."""
    return "wamid." + base64.b64encode(f"\x15\x02{number.phone_number_id}:{to}:{serial:012d}".encode()).decode()


def send(state: State, number: WhatsAppNumber, payload: Any) -> Outcome:
    if not isinstance(payload, dict):
        raise invalid("The request body must be a JSON object.")
    if payload.get("messaging_product") != "whatsapp":
        raise invalid("The parameter messaging_product is required and must be whatsapp.")
    if payload.get("recipient_type", "individual") != "individual":
        raise invalid("Param recipient_type must be individual.")
    raw_to = payload.get("to")
    to = str(raw_to or "").strip().replace(" ", "").replace("-", "").removeprefix("+")
    if not to.isdigit() or not 6 <= len(to) <= 20:
        raise invalid("The parameter to is required and must be a phone number.", 131009 if raw_to else 131008)
    kind = payload.get("type", "text")
    if kind not in MESSAGE_KINDS:
        raise GraphFailure(131051, details=f"Message type {kind!r} is not currently supported.")
    content = payload.get(kind)
    if not isinstance(content, dict):
        raise GraphFailure(131008, details=f"The parameter {kind} is required.")
    template = None
    if kind == "text":
        _check_text(content)
    elif kind == "template":
        template = _check_template(state, number, content)
    elif kind == "interactive":
        _check_reply_buttons(content)
    else:
        _check_media(state, number, kind, content)
    fails_with = None
    if template is None:
        since = state.seconds_since_inbound(number.phone_number_id, to)
        if since is None or since > WINDOW_SECONDS:
            if state.window_refusal == "answer":
                raise GraphFailure(131047)
            fails_with = 131047
    if fails_with is None and state.failed_deliveries:
        fails_with = state.failed_deliveries.pop(0)
    message_id = wamid(number, to, state.next_id())
    record = state.record(SentRecord("whatsapp", number.phone_number_id, message_id, to, kind, payload, state.now()))
    message: dict[str, Any] = {"id": message_id}
    if template is not None:
        message["message_status"] = "accepted"
    answer = {"messaging_product": "whatsapp", "contacts": [{"input": str(raw_to), "wa_id": to}],
              "messages": [message]}
    return Outcome(answer, record, template.category if template else "service", fails_with)


def _check_text(content: dict[str, Any]) -> None:
    body = content.get("body")
    if not isinstance(body, str) or not body.strip():
        raise GraphFailure(131008, details="The parameter text['body'] is required.")
    if len(body) > 4096:
        raise GraphFailure(131009, details="Param text['body'] must be at most 4096 characters long.")


def _check_reply_buttons(content: dict[str, Any]) -> None:
    """Reply buttons as the Cloud API takes them: a body of at most 1024 characters and 1 to 3 buttons, each a reply
    with an id (at most 256) and a title (at most 20), both unique."""
    if content.get("type") != "button":
        raise GraphFailure(131009, details="Param interactive['type'] must be button here.")
    body = content.get("body") if isinstance(content.get("body"), dict) else {}
    text = body.get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > 1024:
        raise GraphFailure(131009, details="Param interactive['body']['text'] must be 1 to 1024 characters long.")
    action = content.get("action") if isinstance(content.get("action"), dict) else {}
    buttons = action.get("buttons")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        raise GraphFailure(131009, details="Param interactive['action']['buttons'] must hold 1 to 3 buttons.")
    ids, titles = set(), set()
    for button in buttons:
        reply = button.get("reply") if isinstance(button, dict) and button.get("type") == "reply" else None
        if not isinstance(reply, dict):
            raise GraphFailure(131009, details="Each button must be of type reply with a reply object.")
        button_id, title = reply.get("id"), reply.get("title")
        if not isinstance(button_id, str) or not 1 <= len(button_id) <= 256:
            raise GraphFailure(131009, details="Param reply['id'] must be 1 to 256 characters long.")
        if not isinstance(title, str) or not 1 <= len(title) <= 20:
            raise GraphFailure(131009, details="Param reply['title'] must be 1 to 20 characters long.")
        if button_id in ids or title in titles:
            raise GraphFailure(131009, details="Buttons must have unique ids and titles.")
        ids.add(button_id)
        titles.add(title)


def _check_media(state: State, number: WhatsAppNumber, kind: str, content: dict[str, Any]) -> None:
    media_id, link = content.get("id"), content.get("link")
    if (media_id is None) == (link is None):
        raise invalid(f"Please specify exactly one of id or link for {kind}.", 131009)
    if media_id is not None:
        media = state.media.get(str(media_id))
        if media is None or media.account_id != number.phone_number_id:
            raise GraphFailure(131009, details=f"Media id {media_id} is not valid for this phone number.")
    elif not str(link).startswith(("https://", "http://")):
        raise GraphFailure(131009, details=f"Param {kind}['link'] must be a valid URL.")
    caption = content.get("caption")
    if caption is not None and (kind not in _CAPTIONED or not isinstance(caption, str) or len(caption) > 1024):
        raise GraphFailure(131009, details=f"Param {kind}['caption'] is not valid.")
    if content.get("filename") is not None and kind != "document":
        raise GraphFailure(131009, details=f"Param {kind}['filename'] is not valid.")


def _check_template(state: State, number: WhatsAppNumber, content: dict[str, Any]) -> Template:
    name = content.get("name")
    language = content.get("language") if isinstance(content.get("language"), dict) else {}
    code = language.get("code")
    if not isinstance(name, str) or not isinstance(code, str):
        raise GraphFailure(131008, details="The parameters template['name'] and template['language']['code'] "
                                           "are required.")
    template = state.templates.get((number.phone_number_id, name, code))
    if template is None:
        raise GraphFailure(132001, details=f"template name ({name}) does not exist in {code}")
    counts = {"body": 0, "header": 0}
    components = content.get("components") or []
    if not isinstance(components, list):
        raise GraphFailure(131009, details="Param template['components'] must be a list.")
    for component in components:
        if not isinstance(component, dict) or component.get("type") not in ("body", "header", "button"):
            raise GraphFailure(131009, details="Param template['components'] holds an invalid component.")
        parameters = component.get("parameters") or []
        for parameter in parameters:
            if not isinstance(parameter, dict) or (parameter.get("type") == "text"
                                                   and not isinstance(parameter.get("text"), str)):
                raise GraphFailure(131009, details="Param template['components'][]['parameters'] is not valid.")
        if component["type"] in counts:
            counts[component["type"]] += len(parameters)
    if counts["body"] != template.parameters or counts["header"] != template.header_parameters:
        raise GraphFailure(132000, details=f"body: number of localizable_params ({counts['body']}) does not match "
                                           f"the expected number of params ({template.parameters})")
    return template


def upload(state: State, number: WhatsAppNumber, fields: dict[str, str],
           files: dict[str, tuple[str, bytes, str]]) -> dict[str, Any]:
    if fields.get("messaging_product") != "whatsapp":
        raise invalid("The parameter messaging_product is required and must be whatsapp.")
    if "file" not in files:
        raise GraphFailure(131008, details="The parameter file is required.")
    filename, content, part_type = files["file"]
    mime_type = (fields.get("type") or part_type or "").split(";")[0].strip().lower()
    limit = MEDIA_LIMITS.get(mime_type)
    if limit is None:
        raise GraphFailure(131053, details=f"Param file must be a file with one of the following types: "
                                           f"{', '.join(MEDIA_LIMITS)}. Received file of type '{mime_type}'.")
    if not content or len(content) > limit:
        raise GraphFailure(131053, details=f"The file is {len(content)} bytes; {mime_type} takes 1 to {limit}.")
    return {"id": state.store_media(number.phone_number_id, content, mime_type, filename).media_id}


def phone_number(number: WhatsAppNumber, fields: str | None) -> dict[str, Any]:
    """`GET /{phone-number-id}`: the id, and the fields asked for (Graph's default without `fields`)."""
    known = {"display_phone_number": number.display_phone_number, "verified_name": number.verified_name,
             "quality_rating": "GREEN", "code_verification_status": "VERIFIED"}
    asked = [name.strip() for name in fields.split(",")] if fields else ["display_phone_number", "verified_name"]
    unknown = [name for name in asked if name not in known]
    if unknown:
        raise GraphFailure(100, details=f"Tried accessing nonexisting field ({unknown[0]}) on node type "
                                        "(WhatsAppBusinessPhoneNumber)")
    return {**{name: known[name] for name in asked}, "id": number.phone_number_id}


def media_info(state: State, media: StoredMedia) -> dict[str, Any]:
    expires = int(state.now()) + MEDIA_URL_SECONDS
    query = urlencode({"mid": media.media_id, "ext": expires, "hash": state.url_hash(media.media_id, expires)})
    return {"messaging_product": "whatsapp", "url": f"{state.base_url}/whatsapp_business/attachments/?{query}",
            "mime_type": media.mime_type, "sha256": media.sha256, "file_size": len(media.content),
            "id": media.media_id}
