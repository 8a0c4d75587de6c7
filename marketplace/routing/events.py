"""Delivery: what each party is told when a conversation changes, sent only once the change has committed.

This is the one place that knows the rooms: the visitor's (`conversation:<id>` on the `/visitor`
namespace), the expert's own user room, and the brand's room for its live view. A message reaches the
sides through `delivery.py`, which sends it to these rooms and to the other ways of reaching an away
visitor. Payloads are described in `routing/README.md`.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from babel.numbers import get_currency_precision
from flask_babel import gettext

from marketplace.accounts import services as accounts
from marketplace.accounts.language import in_language_of
from marketplace.brands import rates
from marketplace.brands.models import Brand
from marketplace.core import rates as pricing
from marketplace.database import after_commit, utcnow
from marketplace.extensions import socketio
from marketplace.notifications import services as notifications
from marketplace.routing import activity
from marketplace.routing.models import (
    MAY_LEAVE_MESSAGE,
    QUEUED_STATUSES,
    Attachment,
    ChannelDelivery,
    Conversation,
    ConversationStatus,
    Message,
    Offer,
    may_reopen,
)
from marketplace.shared.links import path_for
from marketplace.shared.rooms import brand_room, conversation_room, user_room

log = logging.getLogger("marketplace.routing")

VISITOR_NAMESPACE = "/visitor"


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _emit(event: str, payload: dict[str, Any], room: str, namespace: str = "/", skip_sid: str | None = None) -> None:
    def send() -> None:
        try:
            socketio.emit(event, payload, to=room, namespace=namespace, skip_sid=skip_sid)
        except Exception:
            # The change is committed and every client catches up on reconnect: a lost event fails nothing.
            log.exception("could not emit %s to %s", event, room)
    after_commit(send)


# What each party sees.

def attachment_payload(attachment: Attachment | None) -> dict[str, Any] | None:
    """What a message shows of its file; its links come from the link calls (attachments/api.py)."""
    if attachment is None:
        return None
    return {"id": attachment.id, "kind": attachment.kind.value, "name": attachment.filename,
            "content_type": attachment.content_type, "size": attachment.size, "width": attachment.width,
            "height": attachment.height, "has_thumbnail": attachment.thumbnail_key is not None}


def delivery_payload(delivery: ChannelDelivery | None) -> dict[str, Any] | None:
    """What became of a message sent to a messaging app (null for every other message)."""
    if delivery is None:
        return None
    return {"state": delivery.state.value, "error": delivery.error_text}


def message_payload(message: Message) -> dict[str, Any]:
    return {"conversation_id": message.conversation_id, "seq": message.seq, "sender": message.sender.value,
            "client_id": message.client_id, "body": message.body, "created_at": _iso(message.created_at),
            "attachment": attachment_payload(message.attachment), "delivery": delivery_payload(message.delivery)}


def visitor_payload(conversation: Conversation, *, position: int | None = None, estimate: int | None = None,
                    expert_name: str | None = None, left_message: bool = False,
                    nobody_available: bool = False, reopen_window_hours: int | None = None) -> dict[str, Any]:
    """What the widget shows of the conversation. `reopen_window_hours`: the brand's; with it, `may_continue` says
    whether the visitor's next message continues this closed conversation (else the widget offers a new one)."""
    waiting = conversation.status in QUEUED_STATUSES
    return {
        "id": conversation.id, "status": conversation.status.value,
        "end_reason": conversation.end_reason.value if conversation.end_reason else None,
        "topic": conversation.topic, "position": position if waiting else None,
        "estimated_wait_seconds": estimate if waiting else None,
        "no_expert_available": nobody_available and waiting,
        # The visitor's own rating as they gave it (a removed one too: they rated once, and counted_rating is for
        # figures about the expert, not for what the visitor sees of their own chat).
        "expert_name": expert_name, "last_seq": conversation.last_seq, "rating": conversation.rating,
        "may_leave_message": conversation.status in MAY_LEAVE_MESSAGE and not left_message,
        "may_rate": conversation.status == ConversationStatus.CLOSED and conversation.rating is None
        and conversation.accepted_at is not None,
        "email_given": conversation.visitor_email_consent_at is not None,
        "push_enabled": conversation.visitor_push_at is not None,
        "may_continue": reopen_window_hours is not None and may_reopen(conversation, reopen_window_hours, utcnow()),
    }


def chat_payload(conversation: Conversation, brand: Brand,
                 chat_activity: activity.ChatActivity | None = None) -> dict[str, Any]:
    """A chat as its expert sees it (README.md); its activity is loaded here unless the caller loaded it in bulk."""
    if chat_activity is None:
        chat_activity = activity.chat_activity([conversation])[conversation.id]
    last = chat_activity.last_message
    waited = (max(0, int((conversation.accepted_at - conversation.queued_at).total_seconds()))
              if conversation.accepted_at else None)
    return {
        "conversation_id": conversation.id, "status": conversation.status.value,
        "end_reason": conversation.end_reason.value if conversation.end_reason else None,
        "channel": conversation.channel.value, "window_closes_at": _iso(conversation.window_closes_at),
        "brand": {"id": brand.id, "name": brand.name}, "attachment_max_bytes": brand.attachment_max_bytes,
        "topic": conversation.topic,
        "page_url": conversation.page_url, "started_at": _iso(conversation.accepted_at),
        "closed_at": _iso(conversation.closed_at),
        "last_seq": conversation.last_seq, "read_seq": conversation.expert_read_seq, "unread": chat_activity.unread,
        "visitor_label": activity.visitor_label(conversation.id), "visitor_locale": conversation.locale,
        "waited_seconds": waited,
        "last_message": {"sender": last.sender, "body": last.body, "created_at": _iso(last.created_at)}
        if last else None,
        "last_visitor_message_at": _iso(chat_activity.last_visitor_message_at),
        "visitor_left_at": _iso(conversation.visitor_left_at),
        "reply_due_at": _iso(_reply_due(conversation, brand, chat_activity)),
        # The rating as it counts: none once the brand removed it after the expert contested it.
        "visitor_rating": conversation.counted_rating,
        "visitor_comment": conversation.rating_comment if conversation.counted_rating is not None else None,
    }


def _reply_due(conversation: Conversation, brand: Brand, chat_activity: activity.ChatActivity) -> dt.datetime | None:
    """When the brand promised a first reply to an away visitor who wrote (asynchronous, the visitor's message the
    last one): their message's time plus `async_first_reply_minutes`; None otherwise."""
    last = chat_activity.last_message
    if (conversation.status != ConversationStatus.ASYNCHRONOUS or last is None or last.sender != "visitor"
            or chat_activity.last_visitor_message_at is None):
        return None
    return chat_activity.last_visitor_message_at + dt.timedelta(minutes=brand.async_first_reply_minutes)


def offer_pay(brand: Brand, at: dt.datetime | None = None) -> dict[str, Any]:
    """What a chat of the brand pays its expert if accepted now: the price less commission, and the bonuses.

    The card in effect now is the one acceptance would keep (a card changing within an offer's seconds
    is the one case where the two could differ).
    """
    return pay_on(brand, rates.terms_in_effect(brand, at))


def pay_on(brand: Brand, terms: rates.Terms | None) -> dict[str, Any]:
    """`offer_pay` on the terms of the card in effect (`rates.terms_in_effect`), read by the caller."""
    price, commission_bps, rules = terms or (0, pricing.DEFAULT_COMMISSION_BPS, [])
    bonuses = pricing.parse_bonus_rules(rules)
    return {"currency": brand.currency, "decimals": get_currency_precision(brand.currency),
            "amount_cents": pricing.expert_share_cents(price, commission_bps),
            "bonuses": [bonus.as_dict() for bonus in bonuses]}


def offer_payload(offer: Offer, conversation: Conversation, brand: Brand,
                  pay: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "offer_id": offer.id, "conversation_id": conversation.id, "brand": {"id": brand.id, "name": brand.name},
        "channel": conversation.channel.value, "topic": conversation.topic, "page_url": conversation.page_url,
        "expires_at": _iso(offer.expires_at),
        "timeout_seconds": brand.offer_timeout_seconds, "pay": pay if pay is not None else offer_pay(brand),
    }


def live_row(conversation: Conversation, expert_name: str | None, now: dt.datetime | None = None) -> dict[str, Any]:
    now = now or utcnow()
    until = conversation.accepted_at or conversation.closed_at or now
    return {
        "id": conversation.id, "status": conversation.status.value, "channel": conversation.channel.value,
        "topic": conversation.topic, "page_url": conversation.page_url, "created_at": _iso(conversation.created_at),
        "started_at": _iso(conversation.accepted_at),
        "waited_seconds": max(0, int((until - conversation.created_at).total_seconds())),
        "expert_name": expert_name, "last_seq": conversation.last_seq,
    }


# The events.

def offers_made(brand: Brand, made: list[tuple[Offer, Conversation, int]], pushed: set[int] | None = None,
                pay: dict[str, Any] | None = None) -> None:
    """A routing pass's offers (offer, conversation, the expert's user id), each as `offer_made`; what an offer
    pays (`pay`, when the caller knows: `pay_on`) and which experts take Web Push (`pushed`, when the caller knows)
    are read once for all of them."""
    pay = pay if pay is not None else offer_pay(brand)
    if pushed is None:
        pushed = notifications.users_with_push_devices({user_id for _, _, user_id in made})
    for offer, conversation, user_id in made:
        offer_made(offer, conversation, brand, user_id, pay, user_id in pushed)


def offer_made(offer: Offer, conversation: Conversation, brand: Brand, user_id: int,
               pay: dict[str, Any] | None = None, push: bool | None = None) -> None:
    """Put the offer on the expert's phone: live on every open page, and by Web Push when it sleeps.

    `pay` and `push` (whether they have a device for Web Push) when the caller read them already."""
    payload = offer_payload(offer, conversation, brand, pay)
    _emit("offer", payload, user_room(user_id))
    if push if push is not None else notifications.has_push_devices(user_id):
        with in_language_of(accounts.get_user(user_id)):
            title = gettext("New chat for %(brand)s", brand=brand.name)
            body = gettext("Accept within %(seconds)s seconds.", seconds=brand.offer_timeout_seconds)
            if conversation.topic:
                body = f"{conversation.topic} · {body}"
        notifications.notify(user_id, "offer", title, body, url=path_for("chat.inbox"), data=payload)


def offer_gone(offer: Offer, user_id: int, reason: str) -> None:
    _emit("offer_gone", {"offer_id": offer.id, "conversation_id": offer.conversation_id, "reason": reason},
          user_room(user_id))


def chat_started(conversation: Conversation, brand: Brand, expert_name: str, user_id: int) -> None:
    _emit("chat", chat_payload(conversation, brand), user_room(user_id))
    conversation_changed(conversation, brand, expert_name=expert_name)


def chat_changed(conversation: Conversation, brand: Brand, user_id: int,
                 chat_activity: activity.ChatActivity | None = None) -> None:
    """Send the expert the chat as it now stands; `chat_activity` when the caller loaded it in bulk for many chats."""
    _emit("chat", chat_payload(conversation, brand, chat_activity), user_room(user_id))


def conversation_changed(conversation: Conversation, brand: Brand, *, expert_name: str | None = None,
                         position: int | None = None, estimate: int | None = None) -> None:
    """Tell the visitor and the brand's live view that the conversation moved."""
    _emit("conversation", visitor_payload(conversation, position=position, estimate=estimate,
                                          expert_name=expert_name, reopen_window_hours=brand.reopen_window_hours),
          conversation_room(conversation.id), VISITOR_NAMESPACE)
    _emit("live_conversation", live_row(conversation, expert_name), brand_room(brand.id))


def visitor_told(conversation: Conversation) -> None:
    """Tell the visitor's pages alone that their conversation changed in what only they see (how they are reached)."""
    _emit("conversation", visitor_payload(conversation), conversation_room(conversation.id), VISITOR_NAMESPACE)


def message_posted(message: Message, expert_user_id: int | None, sender_sid: str | None = None) -> None:
    """Send the message to both sides; the socket it came from (`sender_sid`) has it in its acknowledgement."""
    payload = message_payload(message)
    _emit("message", payload, conversation_room(message.conversation_id), VISITOR_NAMESPACE, skip_sid=sender_sid)
    if expert_user_id is not None:
        _emit("message", payload, user_room(expert_user_id), skip_sid=sender_sid)


def delivery_changed(conversation_id: int, seq: int, delivery: ChannelDelivery, expert_user_id: int | None) -> None:
    """Tell the holding expert what became of their message on the messaging app (sent, delivered, read, failed)."""
    if expert_user_id is not None:
        _emit("message_delivery", {"conversation_id": conversation_id, "seq": seq,
                                   "delivery": delivery_payload(delivery)}, user_room(expert_user_id))


def typing(conversation_id: int, sender: str, expert_user_id: int | None) -> None:
    """Relay a typing signal at once: it is not stored, so there is no commit to wait for."""
    payload = {"conversation_id": conversation_id, "sender": sender}
    if sender == "visitor":
        if expert_user_id is not None:
            socketio.emit("typing", payload, to=user_room(expert_user_id))
    else:
        socketio.emit("typing", payload, to=conversation_room(conversation_id), namespace=VISITOR_NAMESPACE)

