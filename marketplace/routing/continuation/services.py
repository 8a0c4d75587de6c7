"""What the visitor does with continuation: opens the resume link (e-mailed, or opened by a push) on any browser, asks
for the transcript.

Opening the link binds that browser (its own visitor token, whose hash is kept beside the first browser's) to the
conversation, which the widget then shows whole, and proves the visitor holds the address: the brand's contacts
hear of it (`address_proved`); a push's link (visitor_push/) proves no address.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from marketplace.brands import services as brands
from marketplace.brands.models import Brand
from marketplace.database import db, use_case, utcnow
from marketplace.errors import Conflict, NotFound
from marketplace.experts import services as experts
from marketplace.mail import send_message_after_commit
from marketplace.routing.contacts.services import address_proved
from marketplace.routing.continuation import letters, tokens
from marketplace.routing.door.services import visitor_conversation, visitor_token_hash
from marketplace.routing.models import Conversation, Message
from marketplace.routing.router.away import reachable_by_email

TRANSCRIPT_EVERY = dt.timedelta(minutes=10)  # a visitor's transcripts of one conversation, at most one this often


def _resumable(widget_key: str, token: str, now: dt.datetime) -> tuple[Conversation, bool]:
    """The link's conversation, and whether the link proves the visitor's address (an e-mail's does, a push's does
    not); NotFound, saying no more, for a forged or expired link or one of another brand."""
    brand = brands.brand_for_widget(widget_key)
    by_email = tokens.read(tokens.RESUME, token, now)
    read = by_email or tokens.read(tokens.PUSH_RESUME, token, now)
    conversation = db.session.get(Conversation, read.conversation_id) if read else None
    if conversation is None or conversation.brand_id != brand.id:
        raise NotFound(_l("This link has expired or is not valid."))
    if by_email:
        valid = reachable_by_email(conversation) and by_email.holds_for(conversation.visitor_email)
    else:
        valid = read.holds_for(conversation.visitor_token_hash)
    if not valid:
        raise NotFound(_l("This link has expired or is not valid."))
    return conversation, bool(by_email)


def check_resume_link(widget_key: str, token: str, now: dt.datetime | None = None) -> Brand:
    """The brand whose conversation the link reopens; NotFound (saying no more) for a forged or expired link."""
    conversation, _ = _resumable(widget_key, token, now or utcnow())
    return db.session.get(Brand, conversation.brand_id)


@use_case
def resume(widget_key: str, token: str, visitor_token: str | None, now: dt.datetime | None = None) -> Conversation:
    """Bind this browser (its visitor token) to the link's conversation; the first browser keeps its own."""
    conversation, by_email = _resumable(widget_key, token, now or utcnow())
    token_hash = visitor_token_hash(visitor_token)
    if token_hash != conversation.visitor_token_hash:
        conversation.resumed_token_hash = token_hash
    if by_email:
        address_proved(conversation.id, conversation.visitor_email)
    return conversation


def _all_messages(conversation_id: int) -> list[Message]:
    return list(db.session.scalars(
        sa.select(Message).where(Message.conversation_id == conversation_id).order_by(Message.seq)))


@use_case
def send_transcript(widget_key: str, visitor_token: str | None, conversation_id: int,
                    now: dt.datetime | None = None) -> Conversation:
    """E-mail the whole conversation to the address the visitor gave with consent (once every ten minutes)."""
    now = now or utcnow()
    conversation = visitor_conversation(widget_key, visitor_token, conversation_id)
    if not reachable_by_email(conversation):
        raise Conflict(_l("Give your e-mail address first."), "email")
    claimed = db.session.execute(
        sa.update(Conversation).where(Conversation.id == conversation.id, sa.or_(
            Conversation.transcript_sent_at.is_(None), Conversation.transcript_sent_at <= now - TRANSCRIPT_EVERY))
        .values(transcript_sent_at=now).execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        raise Conflict(_l("The transcript was sent a moment ago: look in your mailbox."), "email")
    brand = db.session.get(Brand, conversation.brand_id)
    profile = experts.get_profile(conversation.expert_id) if conversation.expert_id else None
    name = letters.expert_first_name(profile.display_name if profile else None)
    send_message_after_commit(letters.transcript(brand, conversation, _all_messages(conversation.id), name, now))
    return conversation
