"""A visitor's answer by e-mail comes back into the conversation it answers.

The reply address is reply+<signed token>@MAIL_REPLY_DOMAIN (letters.py): the token names the conversation and its
brand and was signed for the visitor's address. A message is taken only when that token is well formed, unexpired
and signed for the conversation's current address, the brand in it is the conversation's, and the sender (From) is
that address; anything else is refused as a whole, so a forged, expired or borrowed token never attaches a message
to any conversation. Automatic replies (out of office) are refused too. The new text is what is left once quoted
text and signatures are cut; it is stored as the visitor's message without bringing the conversation back to the
page (`visitor_present=False`), with a client id derived from the Message-ID, so a mail delivered twice is stored
once. Attachments in the mail are not taken.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import logging
import re
from collections.abc import Iterable
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses

import idna
import nh3
from flask import current_app
from mailparser_reply import EmailReplyParser

from marketplace.database import db, end_read, utcnow
from marketplace.errors import DomainError
from marketplace.routing.chat.messages import BODY_LENGTH, Posted, post_message
from marketplace.routing.continuation import tokens
from marketplace.routing.models import Conversation, Sender
from marketplace.routing.router.away import reachable_by_email

log = logging.getLogger("marketplace.mail.inbound")
LANGUAGES = ["en", "fr", "de", "es", "it", "nl"]
# What the parser leaves: a signature ("-- ", or "--" as some clients write it) and phones' sign-offs.
_SIGNATURE = re.compile(r"^(--\s*|__+|(Sent|Envoyé) (from|de(puis)?) (my|mon) .*)$", re.IGNORECASE)


class MailRefused(DomainError):
    """The message is not taken; the reason is logged, never told to the sender."""

    status = 422

    def __init__(self, reason: str):
        super().__init__("The message was refused.")
        self.reason = reason


def normalize_address(address: str | None) -> str | None:
    """An address compared as mail systems deliver it: lowercase, the domain in its ASCII (punycode) form."""
    local, at, domain = (address or "").strip().rpartition("@")
    if not at or not local or not domain:
        return None
    try:
        domain = idna.encode(domain.rstrip("."), uts46=True).decode()
    except idna.IDNAError:
        return None
    return f"{local.lower()}@{domain.lower()}"


def _recipients(message: EmailMessage, envelope: Iterable[str]) -> list[str]:
    headers = [str(value) for name in ("Delivered-To", "X-Original-To", "To", "Cc")
               for value in message.get_all(name, [])]
    return [*envelope, *(address for _, address in getaddresses(headers))]


def _reply_token(addresses: Iterable[str]) -> str | None:
    """The token of the first address at the reply domain that carries one."""
    domain = current_app.config["MAIL_REPLY_DOMAIN"]
    for address in addresses:
        local, _, at_domain = address.strip().strip("<>").rpartition("@")
        if domain and at_domain.lower() == domain and local.lower().startswith("reply+"):
            return local[len("reply+"):]
    return None


def new_text(message: EmailMessage) -> str:
    """What the sender wrote this time: the plain part (else the HTML's text), without quotes and signature."""
    part = message.get_body(("plain", "html"))
    if part is None:
        return ""
    try:
        text = part.get_content()
    except (LookupError, UnicodeError):
        return ""
    if part.get_content_type() == "text/html":
        text = html.unescape(nh3.clean(re.sub(r"(?i)<br\s*/?>|</p>", "\n", text), tags=set(), attributes={}))
    text = EmailReplyParser(languages=LANGUAGES).parse_reply(text=text.replace("\r\n", "\n")) or ""
    kept = []
    for line in text.split("\n"):
        if _SIGNATURE.match(line.strip()) or line.startswith(">"):
            break
        kept.append(line)
    text = "\n".join(kept).strip()
    return text if len(text) <= BODY_LENGTH else text[:BODY_LENGTH - 1].rstrip() + "…"


def _client_id(message: EmailMessage, raw: bytes) -> str:
    """The same mail delivered again has the same id: its Message-ID, else its bytes."""
    source = str(message.get("Message-ID", "")).strip().encode() or raw
    return "mail-" + hashlib.sha256(source).hexdigest()[:40]


def conversation_for(message: EmailMessage, envelope: Iterable[str], now: dt.datetime) -> Conversation:
    """The conversation the message answers, once its token and sender are proved; MailRefused otherwise."""
    raw_token = _reply_token(_recipients(message, envelope))
    if raw_token is None:
        raise MailRefused("no reply address")
    token = tokens.read(tokens.REPLY, raw_token, now)
    if token is None:
        raise MailRefused("bad or expired token")
    conversation = db.session.get(Conversation, token.conversation_id)
    if (conversation is None or conversation.brand_id != token.brand_id or not reachable_by_email(conversation)
            or not token.holds_for(conversation.visitor_email)):
        raise MailRefused("token not for this conversation")
    senders = [address for _, address in getaddresses([str(value) for value in message.get_all("From", [])])]
    if len(senders) != 1 or normalize_address(senders[0]) != normalize_address(conversation.visitor_email):
        raise MailRefused("sender does not match")
    return conversation


def receive(raw: bytes, envelope_recipients: Iterable[str] = (), now: dt.datetime | None = None) -> Posted:
    """Take a raw RFC 5322 message answering a digest: the visitor's message, stored once. MailRefused when not."""
    now = now or utcnow()
    message = message_from_bytes(raw, policy=policy.default)
    if str(message.get("Auto-Submitted", "no")).strip().lower() != "no":
        raise MailRefused("automatic reply")
    try:
        conversation_id = conversation_for(message, envelope_recipients, now).id
    finally:
        end_read()
    text = new_text(message)
    if not text:
        raise MailRefused("no new text")
    try:
        posted = post_message(conversation_id, Sender.VISITOR, _client_id(message, raw), text, visitor_present=False)
    except DomainError as error:  # the conversation ended meanwhile
        raise MailRefused(f"not stored: {error}") from None
    log.info("mail reply stored in conversation %s as message %s", conversation_id, posted.message.seq)
    return posted
