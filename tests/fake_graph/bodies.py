"""Webhook bodies as Meta writes them (WhatsApp Cloud API and Messenger), built from plain values."""

from __future__ import annotations

import hashlib
from typing import Any

from tests.fake_graph.state import MessengerPage, WhatsAppNumber


def whatsapp_envelope(number: WhatsAppNumber, value: dict[str, Any]) -> dict[str, Any]:
    """One entry, one `messages` change, for one phone number."""
    metadata = {"display_phone_number": number.display_phone_number, "phone_number_id": number.phone_number_id}
    return {"object": "whatsapp_business_account", "entry": [{"id": number.waba_id, "changes": [
        {"value": {"messaging_product": "whatsapp", "metadata": metadata, **value}, "field": "messages"}]}]}


def whatsapp_inbound(number: WhatsAppNumber, message: dict[str, Any], name: str | None) -> dict[str, Any]:
    """A customer's message, with their profile name in `contacts` as Meta sends it."""
    contact = {"profile": {"name": name or ""}, "wa_id": message["from"]}
    return whatsapp_envelope(number, {"contacts": [contact], "messages": [message]})


def whatsapp_message(sender: str, message_id: str, timestamp: int, kind: str, content: dict[str, Any] | None,
                     context_id: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"from": sender, "id": message_id, "timestamp": str(timestamp), "type": kind}
    if content is not None:
        message[kind] = content
    if context_id:
        message["context"] = {"from": sender, "id": context_id}
    return message


def whatsapp_status(number: WhatsAppNumber, message_id: str, recipient: str, status: str, timestamp: int, *,
                    category: str = "service", errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A status of a sent message; `sent` and `delivered` carry the conversation and the per-message pricing."""
    item: dict[str, Any] = {"id": message_id, "status": status, "timestamp": str(timestamp),
                            "recipient_id": recipient}
    if status in ("sent", "delivered"):
        conversation = hashlib.md5(f"{number.phone_number_id}:{recipient}:{category}".encode()).hexdigest()  # noqa: S324
        item["conversation"] = {"id": conversation, "origin": {"type": category}}
        item["pricing"] = {"billable": category != "service", "pricing_model": "PMP", "category": category,
                           "type": "free_customer_service" if category == "service" else "regular"}
    if errors:
        item["errors"] = errors
    return whatsapp_envelope(number, {"statuses": [item]})


def whatsapp_error(code: int, title: str, details: str) -> dict[str, Any]:
    """An error of a `failed` status, as Meta writes it."""
    return {"code": code, "title": title, "message": title, "error_data": {"details": details},
            "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}


def messenger_envelope(page: MessengerPage, events: list[dict[str, Any]], time_ms: int) -> dict[str, Any]:
    return {"object": "page", "entry": [{"id": page.page_id, "time": time_ms, "messaging": events}]}


def messenger_event(page: MessengerPage, person: str, time_ms: int, **event: Any) -> dict[str, Any]:
    """One `messaging` event from a person to the page: `message=...`, `postback=...`, `delivery=...`, `read=...`."""
    return {"sender": {"id": person}, "recipient": {"id": page.page_id}, "timestamp": time_ms, **event}
