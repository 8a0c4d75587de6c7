"""Signed tokens of continuation: the reply address's and the resume link's, and those of Web Push for visitors (the
resume link a push opens, and the opt-in page's).

Each is `<conversation>-[<brand>-]<expiry>-<signature>`: lowercase letters, digits and hyphens only, about 45
characters, because the reply token lives in an address's local part, which mail systems may fold to lowercase
and which RFC 5321 limits to 64 characters (an itsdangerous token is mixed-case and twice as long). The signature
is an HMAC-SHA256 of the kind, the numbers, the expiry and the visitor's address with the app's secret: the address
is never in the token, yet a token signed for one address does not hold for another, and a reply token does not
pass for a resume token. A tampered, expired or malformed token is refused the same way (None), with nothing a
prober could learn from.

The push kinds are not tied to an address (the visitor may have given none): they are signed for the hash of the
visitor's token that the conversation keeps, and start with a letter of their own (`p` for the push's resume link,
`n` for the opt-in page), so the resume page tells the two resume links apart before checking either.
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
PUSH_RESUME = "push-resume"
PUSH_OPT_IN = "push-opt-in"
_PREFIX = {REPLY: "", RESUME: "", PUSH_RESUME: "p", PUSH_OPT_IN: "n"}
_SHAPE = {REPLY: re.compile(r"^([0-9]{1,18})-([0-9]{1,18})-([0-9a-z]{1,10})-([a-z2-7]{26})$"),
          **{kind: re.compile(rf"^{prefix}([0-9]{{1,18}})-([0-9a-z]{{1,10}})-([a-z2-7]{{26}})$")
             for kind, prefix in _PREFIX.items() if kind != REPLY}}


@dataclass(frozen=True)
class Token:
    kind: str
    conversation_id: int
    brand_id: int | None
    expires: int  # seconds since the epoch
    signature: str

    def holds_for(self, subject: str | None) -> bool:
        """Whether it was signed for this address (the push kinds: this visitor token hash), in constant time."""
        if not subject:
            return False
        expected = _signature(self.kind, self.conversation_id, self.brand_id, self.expires, subject)
        return hmac.compare_digest(expected, self.signature)


def _signature(kind: str, conversation_id: int, brand_id: int | None, expires: int, subject: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    text = f"continuation|{kind}|{conversation_id}|{brand_id or ''}|{expires}|{subject.strip().lower()}"
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


def _make(kind: str, conversation_id: int, brand_id: int | None, subject: str, lifetime: dt.timedelta,
          now: dt.datetime) -> str:
    expires = int((now + lifetime).timestamp())
    numbers = [str(conversation_id)] + ([str(brand_id)] if kind == REPLY else [])
    signature = _signature(kind, conversation_id, brand_id, expires, subject)
    return _PREFIX[kind] + "-".join([*numbers, _base36(expires), signature])


def reply_token(conversation_id: int, brand_id: int, email: str, now: dt.datetime) -> str:
    """The token of the Reply-To address: replies to it come back into this conversation of this brand."""
    days = current_app.config["CONTINUATION_REPLY_TOKEN_DAYS"]
    return _make(REPLY, conversation_id, brand_id, email, dt.timedelta(days=days), now)


def resume_token(conversation_id: int, email: str, now: dt.datetime) -> str:
    """The token of the resume link: it binds a browser to this conversation."""
    hours = current_app.config["CONTINUATION_RESUME_TOKEN_HOURS"]
    return _make(RESUME, conversation_id, None, email, dt.timedelta(hours=hours), now)


def push_resume_token(conversation_id: int, visitor_token_hash: str, now: dt.datetime) -> str:
    """The token of the resume link a visitor's push opens: as long-lived as the e-mail's, tied to no address."""
    hours = current_app.config["CONTINUATION_RESUME_TOKEN_HOURS"]
    return _make(PUSH_RESUME, conversation_id, None, visitor_token_hash, dt.timedelta(hours=hours), now)


def push_opt_in_token(conversation_id: int, visitor_token_hash: str, lifetime: dt.timedelta, now: dt.datetime) -> str:
    """The token of the page where the visitor lets this browser take pushes for the conversation: short-lived, it
    stands in the page's address in place of the visitor's own token, which never goes in an address."""
    return _make(PUSH_OPT_IN, conversation_id, None, visitor_token_hash, lifetime, now)


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
