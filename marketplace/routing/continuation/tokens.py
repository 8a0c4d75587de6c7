"""Signed tokens of e-mail continuation: the reply address's and the resume link's.

Each is `<conversation>-[<brand>-]<expiry>-<signature>`: lowercase letters, digits and hyphens only, about 45
characters, because the reply token lives in an address's local part, which mail systems may fold to lowercase
and which RFC 5321 limits to 64 characters (an itsdangerous token is mixed-case and twice as long). The signature
is an HMAC-SHA256 of the kind, the numbers, the expiry and the visitor's address with the app's secret: the address
is never in the token, yet a token signed for one address does not hold for another, and a reply token does not
pass for a resume token. A tampered, expired or malformed token is refused the same way (None), with nothing a
prober could learn from.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass

from flask import current_app

REPLY = "reply"
RESUME = "resume"
_SHAPE = {REPLY: re.compile(r"^([0-9]{1,18})-([0-9]{1,18})-([0-9a-z]{1,10})-([a-z2-7]{26})$"),
          RESUME: re.compile(r"^([0-9]{1,18})-([0-9a-z]{1,10})-([a-z2-7]{26})$")}


@dataclass(frozen=True)
class Token:
    kind: str
    conversation_id: int
    brand_id: int | None
    expires: int  # seconds since the epoch
    signature: str

    def holds_for(self, email: str | None) -> bool:
        """Whether it was signed for this address (compared in constant time)."""
        if not email:
            return False
        expected = _signature(self.kind, self.conversation_id, self.brand_id, self.expires, email)
        return hmac.compare_digest(expected, self.signature)


def _signature(kind: str, conversation_id: int, brand_id: int | None, expires: int, email: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    text = f"continuation|{kind}|{conversation_id}|{brand_id or ''}|{expires}|{email.strip().lower()}"
    digest = hmac.new(key, text.encode(), hashlib.sha256).digest()[:16]
    return base64.b32encode(digest).decode().rstrip("=").lower()


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, digit = divmod(number, 36)
        text = digits[digit] + text
        if not number:
            return text


def _make(kind: str, conversation_id: int, brand_id: int | None, email: str, lifetime: dt.timedelta,
          now: dt.datetime) -> str:
    expires = int((now + lifetime).timestamp())
    numbers = [str(conversation_id)] + ([str(brand_id)] if kind == REPLY else [])
    return "-".join([*numbers, _base36(expires), _signature(kind, conversation_id, brand_id, expires, email)])


def reply_token(conversation_id: int, brand_id: int, email: str, now: dt.datetime) -> str:
    """The token of the Reply-To address: replies to it come back into this conversation of this brand."""
    days = current_app.config["CONTINUATION_REPLY_TOKEN_DAYS"]
    return _make(REPLY, conversation_id, brand_id, email, dt.timedelta(days=days), now)


def resume_token(conversation_id: int, email: str, now: dt.datetime) -> str:
    """The token of the resume link: it binds a browser to this conversation."""
    hours = current_app.config["CONTINUATION_RESUME_TOKEN_HOURS"]
    return _make(RESUME, conversation_id, None, email, dt.timedelta(hours=hours), now)


def read(kind: str, token: str, now: dt.datetime) -> Token | None:
    """The token's parts when well formed and not expired; whether it holds for an address is `holds_for`."""
    match = _SHAPE[kind].match((token or "").strip().lower())
    if match is None:
        return None
    parts = match.groups()
    brand_id = int(parts[1]) if kind == REPLY else None
    expires = int(parts[-2], 36)
    if expires < now.timestamp():
        return None
    return Token(kind, int(parts[0]), brand_id, expires, parts[-1])
