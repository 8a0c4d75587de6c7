"""The digest: an expert's replies to an away visitor go out as at most one e-mail per conversation per window.

An expert's message in an asynchronous conversation notes, in its own transaction, when the next e-mail is due
(`continuation_due_at`, left as it is when one is due already): CONTINUATION_DIGEST_SECONDS later, so replies
written meanwhile go in the same e-mail. A scheduled job sends what is due: it claims the conversation with a
compare-and-set that moves `continuation_sent_seq` to the conversation's last message and clears the due time, and
the e-mail goes out once that commits. A restart loses nothing (the due time is stored with the message) and
repeats nothing (the claim is stored before the e-mail goes); a crash between the commit and the send loses that
one e-mail, rather than sending it twice. A visitor who came back to the page meanwhile was shown the messages
there: their return clears the due time (router/away.py), and nothing is sent.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import current_app

from marketplace.brands.models import Brand
from marketplace.database import UTCDateTime, db, end_read, unit_of_work, utcnow
from marketplace.experts import services as experts
from marketplace.mail import send_message_after_commit
from marketplace.routing import delivery
from marketplace.routing.continuation import letters
from marketplace.routing.models import Channel, Conversation, Message, Sender
from marketplace.routing.router.away import reachable

BATCH = 100  # conversations sent per run; the next run takes the rest
_CONVERSATION = Conversation.__table__.c
# Written on the table, as the message's own statements are (chat/messages.py): no ORM object to keep in step.
_NOTE_DUE = (sa.update(Conversation.__table__).where(_CONVERSATION.id == sa.bindparam("conversation"))
             .values(continuation_due_at=sa.func.coalesce(_CONVERSATION.continuation_due_at,
                                                          sa.bindparam("due", type_=UTCDateTime()))))


def reaches(message: Message, route: delivery.Route) -> bool:
    """An expert's reply to an away visitor of the widget (a messaging app's customer is reached there instead)."""
    return route.channel == Channel.WEB and delivery.expert_reply_to_away_visitor(message, route)


def note_reply(message: Message) -> None:
    """An expert wrote while the visitor is away: an e-mail is due one window from now, unless one is due already."""
    due = message.created_at + dt.timedelta(seconds=current_app.config["CONTINUATION_DIGEST_SECONDS"])
    db.session.connection().execute(_NOTE_DUE, {"conversation": message.conversation_id, "due": due})


def send_due(now: dt.datetime | None = None) -> int:
    """Send every digest due by `now`, each in its own transaction; how many e-mails went."""
    now = now or utcnow()
    due = list(db.session.execute(
        sa.select(Conversation.id, Conversation.continuation_due_at, Conversation.continuation_sent_seq)
        .where(Conversation.continuation_due_at <= now).order_by(Conversation.continuation_due_at).limit(BATCH)
    ))
    end_read()
    return sum(_send_one(row.id, row.continuation_sent_seq, now) for row in due)


def _send_one(conversation_id: int, sent_seq: int, now: dt.datetime) -> bool:
    with unit_of_work():
        # The claim: only the run that moves the sent number from what it read sends (another scheduler, or a
        # second pass, finds nothing to do). It holds the row, so a message numbered meanwhile waits for it, then
        # notes a new due time.
        last_seq = db.session.execute(
            sa.update(Conversation.__table__)
            .where(_CONVERSATION.id == conversation_id, _CONVERSATION.continuation_sent_seq == sent_seq,
                   _CONVERSATION.continuation_due_at.is_not(None), _CONVERSATION.continuation_due_at <= now)
            .values(continuation_due_at=None, continuation_sent_seq=_CONVERSATION.last_seq)
            .returning(_CONVERSATION.last_seq)
        ).scalar_one_or_none()
        if last_seq is None:
            return False
        conversation = db.session.get(Conversation, conversation_id, populate_existing=True)
        replies = list(db.session.scalars(
            sa.select(Message).where(Message.conversation_id == conversation_id, Message.sender == Sender.EXPERT,
                                     Message.seq > sent_seq, Message.seq <= last_seq).order_by(Message.seq)
        ))
        if not replies or not reachable(conversation):
            return False  # consent withdrawn, or nothing the expert wrote: the claim stands, nothing goes
        brand = db.session.get(Brand, conversation.brand_id)
        profile = experts.get_profile(conversation.expert_id) if conversation.expert_id else None
        name = letters.expert_first_name(profile.display_name if profile else None)
        send_message_after_commit(letters.digest(brand, conversation, replies, name, now))
    return True
