""""Continue on WhatsApp": the web widget's link to the brand's WhatsApp number, with a code bound to the chat.

The widget offers `https://wa.me/<the number>?text=<a line with the code>`. The code is the web conversation's id
and an HMAC of it and its brand with the app's secret (`<id>-<12 base32 characters>`, 60 bits): nothing is stored
to check it, nobody can make one for a conversation they were not shown, and one made for a conversation of
another brand never verifies on this brand's number (the brand is in the MAC, and the conversation must be the
number's brand's). When the customer sends it from WhatsApp, WhatsApp has verified their number: the web visitor
and the WhatsApp customer are proved to be one person, and become one contact of the brand (services.py).

A code holds for `CODE_DAYS` after its conversation started: an old screenshot proves nothing any more.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
from urllib.parse import quote

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext

from marketplace.database import db, utcnow
from marketplace.routing.models import BrandChannel, Channel, Conversation

CODE_DAYS = 7
MAC_LENGTH = 12  # base32 characters: 60 bits
CODE = re.compile(r"(?<![0-9A-Za-z])([1-9][0-9]{0,18})-([A-Za-z2-7]{12})(?![0-9A-Za-z])")


def _mac(brand_id: int, conversation_id: int) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"whatsapp-handover|{brand_id}|{conversation_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode()[:MAC_LENGTH]


def code_for(brand_id: int, conversation_id: int) -> str:
    """The code that binds a WhatsApp message to this web conversation of the brand."""
    return f"{conversation_id}-{_mac(brand_id, conversation_id)}"


def find_code(text: str | None) -> tuple[int, str] | None:
    """The (conversation id, MAC) of the first code-shaped word in a message; None when there is none (no query)."""
    found = CODE.search(text) if text else None
    return (int(found.group(1)), found.group(2).upper()) if found else None


def web_conversation(brand_id: int, text: str | None) -> Conversation | None:
    """The brand's web conversation whose valid code `text` carries (sent to one of the brand's numbers), or None:
    no code, a forged or altered one, another brand's, or one older than CODE_DAYS. Part of the caller's
    transaction."""
    found = find_code(text)
    if found is None:
        return None
    conversation_id, mac = found
    if not hmac.compare_digest(_mac(brand_id, conversation_id), mac):
        return None
    conversation = db.session.scalar(sa.select(Conversation).where(
        Conversation.id == conversation_id, Conversation.brand_id == brand_id, Conversation.channel == Channel.WEB))
    if conversation is None or conversation.created_at < utcnow() - dt.timedelta(days=CODE_DAYS):
        return None
    return conversation


def whatsapp_number(brand_id: int) -> str | None:
    """The digits of the brand's WhatsApp number whose display number is known (its first connected), or None."""
    return db.session.scalar(
        sa.select(BrandChannel.display_phone_number)
        .where(BrandChannel.brand_id == brand_id, BrandChannel.kind == Channel.WHATSAPP,
               BrandChannel.display_phone_number.is_not(None))
        .order_by(BrandChannel.id).limit(1))


def whatsapp_link(brand_id: int, conversation_id: int) -> str | None:
    """The widget's "Continue on WhatsApp" link for a web conversation: the brand's number with a prefilled line
    carrying the conversation's code; None when the brand has no WhatsApp number whose display number is known."""
    number = whatsapp_number(brand_id)
    if number is None:
        return None
    text = gettext("Hello, I am continuing my chat from your website. My code: %(code)s",
                   code=code_for(brand_id, conversation_id))
    return f"https://wa.me/{number}?text={quote(text, safe='')}"
