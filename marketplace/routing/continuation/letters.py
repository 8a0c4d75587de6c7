"""The e-mails a visitor who left receives: the digest of the expert's replies, and the transcript they asked for.

Both come from the brand's name (at the platform's sending address), in the visitor's language, as plain text with
an HTML alternative in which everything written is escaped. The digest's Reply-To carries the conversation's signed
reply token when MAIL_REPLY_DOMAIN is set, so an answer by e-mail comes back into the conversation (inbound.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid, parseaddr

from flask import current_app
from flask_babel import format_datetime, gettext
from markupsafe import Markup, escape

from marketplace.accounts.language import in_language
from marketplace.brands.models import Brand
from marketplace.routing.continuation import tokens
from marketplace.routing.models import Conversation, Message, Sender
from marketplace.shared.links import absolute_url


@dataclass(frozen=True)
class Line:
    """One message as the e-mail shows it: who wrote, when, what."""

    who: str
    at: dt.datetime
    body: str


def expert_first_name(display_name: str | None) -> str:
    """Only the expert's first name goes to the visitor."""
    parts = (display_name or "").split()
    return parts[0] if parts else ""


def reply_address(conversation: Conversation, now: dt.datetime) -> str | None:
    """reply+<token>@MAIL_REPLY_DOMAIN for this conversation and address; None without a reply domain."""
    domain = current_app.config["MAIL_REPLY_DOMAIN"]
    if not domain or not conversation.visitor_email:
        return None
    token = tokens.reply_token(conversation.id, conversation.brand_id, conversation.visitor_email, now)
    return f"reply+{token}@{domain}"


def resume_link(brand: Brand, conversation: Conversation, now: dt.datetime) -> str:
    token = tokens.resume_token(conversation.id, conversation.visitor_email or "", now)
    return absolute_url("continuation.resume", key=brand.widget_key, token=token)


def lines_of(messages: Sequence[Message], expert_name: str, brand: Brand) -> list[Line]:
    """The messages as lines, the expert named by first name, the visitor as "You" (translated by the caller's
    language block)."""
    names = {Sender.EXPERT: expert_name or brand.name, Sender.VISITOR: gettext("You"), Sender.SYSTEM: brand.name,
             Sender.BOT: gettext("%(brand)s's automated assistant", brand=brand.name)}
    return [Line(names.get(message.sender, brand.name), message.created_at,
                 message.body or (message.attachment.filename if message.attachment else ""))
            for message in messages]


def _envelope(brand: Brand, conversation: Conversation, subject: str) -> EmailMessage:
    message = EmailMessage()
    _, address = parseaddr(current_app.config["MAIL_FROM"])
    message["From"] = formataddr((brand.name, address))
    message["To"] = conversation.visitor_email
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=address.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"  # an out-of-office reply must not answer it back into the chat
    return message


def _bodies(message: EmailMessage, intro: str, lines: list[Line], outro: str, link: str, link_text: str) -> None:
    text = [intro, ""]
    for line in lines:
        text += [f"{line.who} ({format_datetime(line.at, 'short')}):", line.body, ""]
    text += [outro, f"{link_text}: {link}"]
    message.set_content("\n".join(text))
    html = Markup("<p>{}</p>").format(intro)
    for line in lines:
        html += Markup("<p><strong>{}</strong> <small>{}</small><br>{}</p>").format(
            line.who, format_datetime(line.at, "short"), Markup("<br>").join(escape(line.body).split("\n")))
    html += Markup('<p>{}</p><p><a href="{}">{}</a></p>').format(outro, link, link_text)
    message.add_alternative(f"<!doctype html><html><body>{html}</body></html>", subtype="html")


def digest(brand: Brand, conversation: Conversation, messages: Sequence[Message], expert_name: str,
           now: dt.datetime) -> EmailMessage:
    """The e-mail holding the expert's replies since the last one, with the resume link and the reply address."""
    with in_language(conversation.locale):
        subject = gettext("%(name)s of %(brand)s replied to you", name=expert_name or brand.name, brand=brand.name)
        message = _envelope(brand, conversation, subject)
        reply_to = reply_address(conversation, now)
        if reply_to:
            message["Reply-To"] = formataddr((brand.name, reply_to))
            outro = gettext("Answer this e-mail to reply, or continue the conversation where you left it.")
        else:
            outro = gettext("Continue the conversation where you left it.")
        _bodies(message, gettext("You left the chat on %(brand)s's website; here is the answer.", brand=brand.name),
                lines_of(messages, expert_name, brand), outro, resume_link(brand, conversation, now),
                gettext("Continue the conversation"))
    return message


def transcript(brand: Brand, conversation: Conversation, messages: Sequence[Message], expert_name: str,
               now: dt.datetime) -> EmailMessage:
    """The whole conversation, as the visitor asked for it."""
    with in_language(conversation.locale):
        message = _envelope(brand, conversation, gettext("Your conversation with %(brand)s", brand=brand.name))
        _bodies(message, gettext("Here is your conversation with %(brand)s.", brand=brand.name),
                lines_of(messages, expert_name, brand), gettext("Thank you for writing to us."),
                resume_link(brand, conversation, now), gettext("Open the conversation"))
    return message
