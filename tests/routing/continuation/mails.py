"""Replies as a visitor's mail program would send them."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

from marketplace.database import db, utcnow
from marketplace.routing.continuation import letters
from marketplace.routing.models import Conversation

ENGLISH_REPLY = """Thanks, the fuse was it!

-- \nAna Lopez
Sent from my phone

On Mon, Dec 7, 2026 at 10:00 AM Lumière <reply+x@reply.example.com> wrote:
> Le voyant rouge indique un fusible grillé.
> Camille
"""

FRENCH_REPLY = """Merci, c'était bien le fusible.

Le lun. 7 déc. 2026 à 10:00, Lumière <reply+x@reply.example.com> a écrit :
> Le voyant rouge indique un fusible grillé.
"""

OUTLOOK_REPLY = """It works now.

________________________________
From: Lumière <reply+x@reply.example.com>
Sent: Monday, December 7, 2026 10:00
To: ana@example.com
Subject: Camille of Lumière replied to you

Le voyant rouge indique un fusible grillé.
"""


def reply_address_of(conversation_id: int) -> str:
    return letters.reply_address(db.session.get(Conversation, conversation_id), utcnow())


def reply(to: str, body: str = ENGLISH_REPLY, sender: str = "Ana Lopez <ana@example.com>",
          message_id: str | None = None, **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = "Re: Camille of Lumière replied to you"
    message["Message-ID"] = message_id or make_msgid(domain="example.com")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message
