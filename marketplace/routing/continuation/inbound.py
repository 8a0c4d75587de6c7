"""A visitor's answer by e-mail comes back into the conversation it answers, or continues it in a new one.

The reply address is reply+<signed token>@MAIL_REPLY_DOMAIN (letters.py): the token names the conversation and its
brand and was signed for the visitor's address. A message is taken only when that token is well formed, unexpired
and signed for the conversation's current address, the brand in it is the conversation's, and the sender (From) is
that address; anything else is refused as a whole, so a forged, expired or borrowed token never attaches a message
to any conversation. Automatic replies (out of office) are refused too.

The new text is what is left once quoted text and signatures are cut; it is stored as the visitor's message without
bringing the conversation back to the page (`visitor_present=False`). An open conversation takes it as it is; one
closed within the brand's reopen window continues, the visitor still away (router/away.py: back in its expert's
asynchronous list, else queued and routed with its history); after the window, or when it ended unanswered, a new
conversation of the same brand and contact takes it, with the visitor's address and consent, queued like any other
(door/services.start_follow_up) and routed once the reply is stored in it: no expert is offered it empty, nor
could close it before the reply is there. When the brand cannot take it now (closed, a cap reached, nobody with
room) or a file cannot be scanned now, the mail is deferred: the sender tries again later, and what was stored
already is not stored twice (a new conversation let in for a mail deferred before anything was stored in it waits
unoffered, and the mail's next delivery fills it and routes it).

Photos (JPEG, PNG, WebP, HEIC) and PDFs attached to the mail go through the widget's pipeline
(attachments/services.py: the type from the content, the brand's size limit, the virus scan, the metadata
stripped, the storage), each as a message of its own after the text; any other file, or one too large or refused
by the scanner, is dropped and logged, and the rest still lands. Client ids come from the Message-ID (the text)
and the file's place in the mail, so a mail delivered twice is stored once, files included.
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

from marketplace.brands.models import Brand
from marketplace.database import db, end_read, utcnow
from marketplace.errors import DomainError, Unavailable
from marketplace.routing.attachments import services as attachments
from marketplace.routing.chat.messages import BODY_LENGTH, Posted, post_message
from marketplace.routing.continuation import tokens
from marketplace.routing.door import services as conversations
from marketplace.routing.models import ENDED_STATUSES, Conversation, Sender, may_reopen
from marketplace.routing.router.away import reachable_by_email

log = logging.getLogger("marketplace.mail.inbound")
LANGUAGES = ["en", "fr", "de", "es", "it", "nl"]
MOST_FILES = 10  # files taken from one mail; the others are dropped (and logged)
# What the parser leaves: a signature ("-- ", or "--" as some clients write it) and phones' sign-offs.
_SIGNATURE = re.compile(r"^(--\s*|__+|(Sent|Envoyé) (from|de(puis)?) (my|mon) .*)$", re.IGNORECASE)


class MailRefused(DomainError):
    """The message is not taken; the reason is logged, never told to the sender."""

    status = 422

    def __init__(self, reason: str):
        super().__init__("The message was refused.")
        self.reason = reason


class MailDeferred(DomainError):
    """The message cannot be taken now (the brand takes no conversation, the scanner does not answer): the sender
    tries again later (SMTP 451, HTTP 503); the reason is logged, never told to the sender."""

    status = 503

    def __init__(self, reason: str):
        super().__init__("The message could not be taken now; try again later.")
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


def attached_files(message: EmailMessage) -> list[attachments.Upload]:
    """The files the sender attached, in the mail's order: every part that is neither the text nor a container.

    Forwarded mails (message/rfc822) are not opened: their files are someone else's. What a file is, is decided
    later from its bytes; the type the mail gives is not believed.
    """
    body = message.get_body(("plain", "html"))
    files: list[attachments.Upload] = []

    def visit(part: EmailMessage) -> None:
        kind = part.get_content_maintype()
        if kind == "multipart":
            for child in part.iter_parts():
                visit(child)
        elif part is not body and kind not in ("text", "message"):
            files.append(attachments.Upload(part.get_filename(), part.get_payload(decode=True) or b""))

    visit(message)
    return files


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


def _continues(conversation: Conversation, now: dt.datetime) -> bool:
    """Whether the conversation itself takes the message: open, or closed within the brand's reopen window."""
    if conversation.status not in ENDED_STATUSES:
        return True
    brand = db.session.get(Brand, conversation.brand_id)
    return may_reopen(conversation, brand.reopen_window_hours, now)


def receive(raw: bytes, envelope_recipients: Iterable[str] = (), now: dt.datetime | None = None) -> Posted:
    """Take a raw RFC 5322 message answering a digest: the visitor's text and files, each stored once; the first
    message stored (the text's when there is text). MailRefused when not taken, MailDeferred when not now."""
    now = now or utcnow()
    message = message_from_bytes(raw, policy=policy.default)
    if str(message.get("Auto-Submitted", "no")).strip().lower() != "no":
        raise MailRefused("automatic reply")
    try:
        conversation = conversation_for(message, envelope_recipients, now)
        conversation_id, brand_id, continues = conversation.id, conversation.brand_id, _continues(conversation, now)
    finally:
        end_read()
    text, files = new_text(message), attached_files(message)
    if not text and not files:
        raise MailRefused("no new text")
    client_id = _client_id(message, raw)
    let_in = False
    try:
        if not continues:
            conversation_id, let_in = conversations.start_follow_up(conversation_id)
        posted = [post_message(conversation_id, Sender.VISITOR, client_id, text, visitor_present=False)] if text else []
        posted += _post_files(attachments.Sent(conversation_id, brand_id), files, client_id)
    except Unavailable as error:
        raise MailDeferred(f"not now: {error}") from None
    except DomainError as error:  # the conversation ended meanwhile
        raise MailRefused(f"not stored: {error}") from None
    if not posted:
        raise MailRefused("no file taken and no text")
    if not continues:
        conversations.first_message_stored(brand_id, conversation_id, let_in, posted[0])
    log.info("mail reply stored in conversation %s as messages %s", conversation_id,
             [each.message.seq for each in posted])
    return posted[0]


def _post_files(conversation: attachments.Sent, files: list[attachments.Upload], client_id: str) -> list[Posted]:
    """Each file as the visitor's message, through the widget's checks; those refused are dropped and logged.

    Unavailable (the scanner did not answer) is the caller's: the whole mail is tried again later.
    """
    posted = []
    for index, upload in enumerate(files):
        if index >= MOST_FILES:
            log.info("mail reply to conversation %s: %d files beyond %d dropped", conversation.id,
                     len(files) - MOST_FILES, MOST_FILES)
            break
        try:
            posted.append(attachments.send_attachment(conversation, Sender.VISITOR, upload,
                                                      client_id=f"{client_id}-{index + 1}", visitor_present=False))
        except Unavailable:
            raise
        except DomainError as refused:
            log.info("mail reply to conversation %s: file %d (%s) dropped: %s", conversation.id, index + 1,
                     upload.filename, refused)
    return posted
